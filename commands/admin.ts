// /atelier …: the team settings of this server (admins only): where Atelier may be used, who may
// press buttons on others' jobs, limits, banned words, and the offender cool-down. All replies are
// private. Discord hides the command from members without Manage Server; the handler checks again.
import {
  ApplicationCommandOptionType,
  ChannelType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
} from "discord.js";
import type { CommandDefinition, SubcommandCall } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { type BannedTerm, describeTerm, parseBannedTerm } from "../src/team/banned-terms.ts";
import type { GuildConfig, GuildConfigStore } from "../src/team/guild-config.ts";

const maxAllowedChannels = 50;
const maxBannedTerms = 200;
const maxReplyLength = 2000;

const channelOption = {
  type: ApplicationCommandOptionType.Channel,
  name: "channel",
  description: "The channel (its threads are included)",
  required: true,
} as const;

const roleOption = (name: string, required: boolean) =>
  ({
    type: ApplicationCommandOptionType.Role,
    name,
    description: "A role whose members may use buttons on anyone's jobs",
    required,
  }) as const;

const termOption = {
  type: ApplicationCommandOptionType.String,
  name: "term",
  description: "A word or phrase, or a pattern written as /pattern/flags",
  required: true,
  max_length: 220,
} as const;

const countOption = (name: string, description: string, max: number) =>
  ({ type: ApplicationCommandOptionType.Integer, name, description, min_value: 0, max_value: max }) as const;

export const adminCommand = {
  name: "atelier",
  description: "Atelier's team settings for this server (Manage Server)",
  default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
  contexts: [InteractionContextType.Guild],
  options: [
    { type: ApplicationCommandOptionType.Subcommand, name: "show", description: "Show every setting" },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "channels",
      description: "Channels where Atelier may be used (none listed: every channel)",
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "add",
          description: "Allow Atelier in a channel",
          options: [
            { ...channelOption, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] },
          ],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "remove",
          description: "Stop allowing a channel",
          options: [
            { ...channelOption, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] },
          ],
        },
        { type: ApplicationCommandOptionType.Subcommand, name: "list", description: "List allowed channels" },
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "buttons",
      description: "Who may use the buttons on someone else's job",
      options: [
        { type: ApplicationCommandOptionType.Subcommand, name: "anyone", description: "Everyone (default)" },
        { type: ApplicationCommandOptionType.Subcommand, name: "owner", description: "Only the job's owner" },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "roles",
          description: "The owner, and members with these roles",
          options: [roleOption("role", true), roleOption("role2", false), roleOption("role3", false)],
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "limits",
      description: "Daily job limits and cooldown (0 turns one off; none given shows them)",
      options: [
        countOption("user-daily", "Jobs one member may start per day (UTC)", 10_000),
        countOption("guild-daily", "Jobs the whole server may start per day (UTC)", 100_000),
        countOption("cooldown", "Seconds a member waits between two starts", 86_400),
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "ban",
      description: "Words and patterns refused in prompts",
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "add",
          description: "Refuse prompts containing a word or matching a /pattern/",
          options: [termOption],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "remove",
          description: "Allow a word or pattern again",
          options: [termOption],
        },
        { type: ApplicationCommandOptionType.Subcommand, name: "list", description: "List banned terms" },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "providers",
      description: "Which image services members may use here (none given: all configured ones)",
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "names",
          description: "Comma-separated provider names, the server's default first, e.g. openai,bfl",
          required: false,
          max_length: 200,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "offenders",
      description: "Pause members whose prompts the image service keeps refusing",
      options: [
        {
          ...countOption("refusals", "Refusals within 24 hours that pause a member (0: off)", 100),
          required: true,
        },
        countOption("minutes", "How long the pause lasts (default 60)", 10_080),
      ],
    },
  ],
} as const satisfies CommandDefinition;

type AdminCall = SubcommandCall<typeof adminCommand>;

const notAllowedReply = "Only members with the **Manage Server** permission can change Atelier's settings.";
const guildOnlyReply = "Atelier's team settings belong to a server: use /atelier there.";

function truncate(text: string): string {
  return text.length <= maxReplyLength ? text : `${text.slice(0, maxReplyLength - 1)}…`;
}

const channelList = (ids: readonly string[]) => ids.map((id) => `<#${id}>`).join(", ");
const roleList = (ids: readonly string[]) => ids.map((id) => `<@&${id}>`).join(", ");

function describeChannels(config: GuildConfig): string {
  return config.allowedChannelIds.length === 0 ? "every channel" : channelList(config.allowedChannelIds);
}

function describeButtons(config: GuildConfig): string {
  switch (config.buttonPolicy) {
    case "anyone":
      return "anyone";
    case "owner":
      return "only the job's owner";
    case "roles":
      return `the owner and members with ${roleList(config.buttonRoleIds)}`;
  }
}

export function describeLimits(config: GuildConfig): string {
  const parts = [
    config.userDailyJobs === undefined ? undefined : `${config.userDailyJobs} jobs per member per day`,
    config.guildDailyJobs === undefined ? undefined : `${config.guildDailyJobs} jobs per server per day`,
    config.cooldownSeconds === undefined ? undefined : `${config.cooldownSeconds} s between a member's jobs`,
  ].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? "none" : `${parts.join(" · ")} (days are UTC)`;
}

function describeOffenders(config: GuildConfig): string {
  if (config.offenderRefusals === undefined || config.offenderBlockMinutes === undefined) return "off";
  return `${config.offenderRefusals} refused prompts within 24 h pause a member for ${config.offenderBlockMinutes} min`;
}

function bannedTerms(config: GuildConfig): BannedTerm[] {
  return [
    ...config.bannedWords.map((word): BannedTerm => ({ kind: "word", word })),
    ...config.bannedPatterns.map((pattern): BannedTerm => ({ kind: "pattern", pattern })),
  ];
}

function describeSettings(config: GuildConfig): string {
  return [
    "**Atelier settings for this server**",
    `**Channels:** ${describeChannels(config)}`,
    `**Buttons on someone else's job:** ${describeButtons(config)}`,
    `**Limits:** ${describeLimits(config)}`,
    `**Banned:** ${config.bannedWords.length} words, ${config.bannedPatterns.length} patterns (\`/atelier ban list\`)`,
    `**Offenders:** ${describeOffenders(config)}`,
  ].join("\n");
}

/** A limit from an option: absent keeps the current value, 0 turns it off. */
function limitFrom(given: number | undefined, current: number | undefined): number | undefined {
  if (given === undefined) return current;
  return given === 0 ? undefined : given;
}

async function changeChannels(
  configs: GuildConfigStore,
  guildId: string,
  channelId: string,
  allow: boolean,
): Promise<string> {
  const before = await configs.get(guildId);
  const listed = before.allowedChannelIds.includes(channelId);
  if (allow && listed) return `<#${channelId}> is already allowed. Allowed: ${describeChannels(before)}.`;
  if (!allow && !listed) return `<#${channelId}> was not on the list. Allowed: ${describeChannels(before)}.`;
  if (allow && before.allowedChannelIds.length >= maxAllowedChannels)
    return `At most ${maxAllowedChannels} channels can be listed.`;
  const after = await configs.update(guildId, (config) => ({
    ...config,
    allowedChannelIds: allow
      ? [...config.allowedChannelIds, channelId]
      : config.allowedChannelIds.filter((id) => id !== channelId),
  }));
  return `${allow ? "Allowed" : "Removed"} <#${channelId}>. Atelier may now be used in ${describeChannels(after)}.`;
}

async function changeBan(
  configs: GuildConfigStore,
  guildId: string,
  input: string,
  ban: boolean,
): Promise<string> {
  const before = await configs.get(guildId);
  // Removing goes by what is listed, so a pattern saved before today's rules can still be removed.
  const listed = ban
    ? undefined
    : bannedTerms(before).find((existing) => describeTerm(existing) === input.trim());
  const parsed = listed ? { ok: true as const, term: listed } : parseBannedTerm(input);
  if (!parsed.ok) return `Not changed: ${parsed.message}`;
  const term = parsed.term;
  const shown = `\`${describeTerm(term).replaceAll("`", "ˋ")}\``;
  const known = bannedTerms(before).some((existing) => describeTerm(existing) === describeTerm(term));
  if (ban && known) return `${shown} is already banned.`;
  if (!ban && !known) return `${shown} is not on the banned list (\`/atelier ban list\`).`;
  if (ban && bannedTerms(before).length >= maxBannedTerms)
    return `At most ${maxBannedTerms} terms can be banned.`;
  await configs.update(guildId, (config) => {
    const others = bannedTerms(config).filter((existing) => describeTerm(existing) !== describeTerm(term));
    const terms = ban ? [...others, term] : others;
    return {
      ...config,
      bannedWords: terms.flatMap((entry) => (entry.kind === "word" ? [entry.word] : [])),
      bannedPatterns: terms.flatMap((entry) => (entry.kind === "pattern" ? [entry.pattern] : [])),
    };
  });
  return ban
    ? `Banned ${shown}: prompts containing it are refused before anything is sent.`
    : `Allowed ${shown} again.`;
}

function listBanned(config: GuildConfig): string {
  const terms = bannedTerms(config);
  if (terms.length === 0) return "No words or patterns are banned.";
  return [
    `**Banned (${terms.length})**`,
    ...terms.map((term) => `• \`${describeTerm(term).replaceAll("`", "ˋ")}\``),
  ].join("\n");
}

async function setButtons(
  configs: GuildConfigStore,
  guildId: string,
  policy: GuildConfig["buttonPolicy"],
  roleIds: string[],
): Promise<string> {
  const after = await configs.update(guildId, (config) => ({
    ...config,
    buttonPolicy: policy,
    buttonRoleIds: [...new Set(roleIds)],
  }));
  return `Buttons on someone else's job can now be used by ${describeButtons(after)}.`;
}

type ArgsOf<Path extends AdminCall["path"]> = Extract<AdminCall, { path: Path }>["args"];

async function setLimits(
  configs: GuildConfigStore,
  guildId: string,
  given: ArgsOf<"limits">,
): Promise<string> {
  const unchanged = Object.values(given).every((value) => value === undefined);
  const after = unchanged
    ? await configs.get(guildId)
    : await configs.update(guildId, (config) => ({
        ...config,
        userDailyJobs: limitFrom(given["user-daily"], config.userDailyJobs),
        guildDailyJobs: limitFrom(given["guild-daily"], config.guildDailyJobs),
        cooldownSeconds: limitFrom(given.cooldown, config.cooldownSeconds),
      }));
  return `**Limits:** ${describeLimits(after)}`;
}

/** `names` is a comma-separated list; none at all lets members use every configured service. */
async function setProviders(
  configs: GuildConfigStore,
  guildId: string,
  names: string | undefined,
): Promise<string> {
  const wanted = (names ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const after = await configs.update(guildId, (config) => ({
    ...config,
    providers: [...new Set(wanted)],
  }));
  return after.providers.length === 0
    ? "**Image services:** members may use every configured one."
    : `**Image services:** members may use ${after.providers.map((name) => `\`${name}\``).join(", ")} (the first is the default here).`;
}

/** Zero refusals turns offender blocking off; a block lasts an hour unless told otherwise. */
async function setOffenders(
  configs: GuildConfigStore,
  guildId: string,
  { refusals, minutes }: ArgsOf<"offenders">,
): Promise<string> {
  const after = await configs.update(guildId, (config) => ({
    ...config,
    offenderRefusals: refusals === 0 ? undefined : refusals,
    offenderBlockMinutes: refusals === 0 ? undefined : minutes || config.offenderBlockMinutes || 60,
  }));
  return `**Offenders:** ${describeOffenders(after)}`;
}

/** Does what the subcommand asks and says what the settings are now. */
export async function runAdminCall(
  call: AdminCall,
  guildId: string,
  configs: GuildConfigStore,
): Promise<string> {
  switch (call.path) {
    case "show":
      return describeSettings(await configs.get(guildId));
    case "channels add":
      return changeChannels(configs, guildId, call.args.channel, true);
    case "channels remove":
      return changeChannels(configs, guildId, call.args.channel, false);
    case "channels list":
      return `Atelier may be used in ${describeChannels(await configs.get(guildId))}.`;
    case "buttons anyone":
      return setButtons(configs, guildId, "anyone", []);
    case "buttons owner":
      return setButtons(configs, guildId, "owner", []);
    case "buttons roles": {
      const { role, role2, role3 } = call.args;
      const roles = [role, role2, role3].filter((id): id is string => id !== undefined);
      return setButtons(configs, guildId, "roles", roles);
    }
    case "limits":
      return setLimits(configs, guildId, call.args);
    case "ban add":
      return changeBan(configs, guildId, call.args.term, true);
    case "ban remove":
      return changeBan(configs, guildId, call.args.term, false);
    case "ban list":
      return listBanned(await configs.get(guildId));
    case "providers":
      return setProviders(configs, guildId, call.args.names);
    case "offenders":
      return setOffenders(configs, guildId, call.args);
  }
}

export function isServerManager(interaction: ChatInputCommandInteraction): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true;
}

export async function admin(
  interaction: ChatInputCommandInteraction,
  call: AdminCall,
  context: BotContext,
): Promise<void> {
  const guildId = interaction.guildId;
  // Discord enforces default_member_permissions, but a server can override it per role: check here too.
  const content = !guildId
    ? guildOnlyReply
    : !isServerManager(interaction)
      ? notAllowedReply
      : await runAdminCall(call, guildId, context.team.configs);
  await interaction.reply({
    content: truncate(content),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
