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
import { commandText } from "../src/discord/command-text.ts";
import type { CommandDefinition, SubcommandCall } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { personalLanguage } from "../src/discord/language.ts";
import { teamErrorText } from "../src/i18n/errors.ts";
import { type Translate, translator } from "../src/i18n/index.ts";
import { type BannedTerm, describeTerm, parseBannedTerm } from "../src/team/banned-terms.ts";
import type { GuildConfig, GuildConfigStore } from "../src/team/guild-config.ts";

const maxAllowedChannels = 50;
const maxBannedTerms = 200;
const maxReplyLength = 2000;

const channelOption = {
  type: ApplicationCommandOptionType.Channel,
  name: "channel",
  ...commandText("commands:atelier.channel"),
  required: true,
} as const;

const roleOption = (name: string, required: boolean) =>
  ({
    type: ApplicationCommandOptionType.Role,
    name,
    ...commandText("commands:atelier.role"),
    required,
  }) as const;

const termOption = {
  type: ApplicationCommandOptionType.String,
  name: "term",
  ...commandText("commands:atelier.term"),
  required: true,
  max_length: 220,
} as const;

/** An integer option; `key` names its words in the `commands` catalogue. */
const countOption = <Name extends string>(name: Name, key: string, max: number) =>
  ({
    type: ApplicationCommandOptionType.Integer,
    name,
    ...commandText(key),
    min_value: 0,
    max_value: max,
  }) as const;

/** A subcommand without options. */
const plainSubcommand = <Name extends string>(name: Name, key: string) =>
  ({ type: ApplicationCommandOptionType.Subcommand, name, ...commandText(key) }) as const;

export const adminCommand = {
  name: "atelier",
  ...commandText("commands:atelier"),
  default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
  contexts: [InteractionContextType.Guild],
  options: [
    plainSubcommand("show", "commands:atelier.show"),
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "channels",
      ...commandText("commands:atelier.channels"),
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "add",
          ...commandText("commands:atelier.channels.add"),
          options: [
            { ...channelOption, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] },
          ],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "remove",
          ...commandText("commands:atelier.channels.remove"),
          options: [
            { ...channelOption, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] },
          ],
        },
        plainSubcommand("list", "commands:atelier.channels.list"),
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "buttons",
      ...commandText("commands:atelier.buttons"),
      options: [
        plainSubcommand("anyone", "commands:atelier.buttons.anyone"),
        plainSubcommand("owner", "commands:atelier.buttons.owner"),
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "roles",
          ...commandText("commands:atelier.buttons.roles"),
          options: [roleOption("role", true), roleOption("role2", false), roleOption("role3", false)],
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "limits",
      ...commandText("commands:atelier.limits"),
      options: [
        countOption("user-daily", "commands:atelier.limits.userDaily", 10_000),
        countOption("guild-daily", "commands:atelier.limits.guildDaily", 100_000),
        countOption("cooldown", "commands:atelier.limits.cooldown", 86_400),
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "ban",
      ...commandText("commands:atelier.ban"),
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "add",
          ...commandText("commands:atelier.ban.add"),
          options: [termOption],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "remove",
          ...commandText("commands:atelier.ban.remove"),
          options: [termOption],
        },
        plainSubcommand("list", "commands:atelier.ban.list"),
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "providers",
      ...commandText("commands:atelier.providers"),
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "names",
          ...commandText("commands:atelier.providers.names"),
          required: false,
          max_length: 200,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "offenders",
      ...commandText("commands:atelier.offenders"),
      options: [
        { ...countOption("refusals", "commands:atelier.offenders.refusals", 100), required: true },
        countOption("minutes", "commands:atelier.offenders.minutes", 10_080),
      ],
    },
  ],
} as const satisfies CommandDefinition;

type AdminCall = SubcommandCall<typeof adminCommand>;

function truncate(text: string): string {
  return text.length <= maxReplyLength ? text : `${text.slice(0, maxReplyLength - 1)}…`;
}

const channelList = (ids: readonly string[]) => ids.map((id) => `<#${id}>`).join(", ");
const roleList = (ids: readonly string[]) => ids.map((id) => `<@&${id}>`).join(", ");
const shownTerm = (term: BannedTerm) => `\`${describeTerm(term).replaceAll("`", "ˋ")}\``;

function describeChannels(config: GuildConfig, t: Translate): string {
  return config.allowedChannelIds.length === 0
    ? t("commands:atelier.everyChannel")
    : channelList(config.allowedChannelIds);
}

function describeButtons(config: GuildConfig, t: Translate): string {
  switch (config.buttonPolicy) {
    case "anyone":
      return t("commands:atelier.buttonsAnyone");
    case "owner":
      return t("commands:atelier.buttonsOwner");
    case "roles":
      return t("commands:atelier.buttonsRoles", { roles: roleList(config.buttonRoleIds) });
  }
}

export function describeLimits(config: GuildConfig, t: Translate): string {
  const parts = [
    config.userDailyJobs === undefined
      ? undefined
      : t("commands:atelier.userDailyLimit", { count: config.userDailyJobs }),
    config.guildDailyJobs === undefined
      ? undefined
      : t("commands:atelier.guildDailyLimit", { count: config.guildDailyJobs }),
    config.cooldownSeconds === undefined
      ? undefined
      : t("commands:atelier.cooldownLimit", { seconds: config.cooldownSeconds }),
  ].filter((part): part is string => part !== undefined);
  return parts.length === 0
    ? t("commands:atelier.noLimits")
    : t("commands:atelier.limitsUtc", { limits: parts.join(" · ") });
}

function describeOffenders(config: GuildConfig, t: Translate): string {
  if (config.offenderRefusals === undefined || config.offenderBlockMinutes === undefined)
    return t("commands:atelier.offendersOff");
  return t("commands:atelier.offendersRule", {
    refusals: config.offenderRefusals,
    minutes: config.offenderBlockMinutes,
  });
}

function bannedTerms(config: GuildConfig): BannedTerm[] {
  return [
    ...config.bannedWords.map((word): BannedTerm => ({ kind: "word", word })),
    ...config.bannedPatterns.map((pattern): BannedTerm => ({ kind: "pattern", pattern })),
  ];
}

function describeSettings(config: GuildConfig, t: Translate): string {
  return [
    t("commands:atelier.settingsHeading"),
    t("commands:atelier.channelsLine", { channels: describeChannels(config, t) }),
    t("commands:atelier.buttonsLine", { who: describeButtons(config, t) }),
    t("commands:atelier.limitsLine", { limits: describeLimits(config, t) }),
    t("commands:atelier.bannedLine", {
      words: config.bannedWords.length,
      patterns: config.bannedPatterns.length,
    }),
    t("commands:atelier.offendersLine", { offenders: describeOffenders(config, t) }),
  ].join("\n");
}

/** A limit from an option: absent keeps the current value, 0 turns it off. */
function limitFrom(given: number | undefined, current: number | undefined): number | undefined {
  if (given === undefined) return current;
  return given === 0 ? undefined : given;
}

/** What the admin commands need: the server's settings and the words of the admin's language. */
interface AdminScope {
  configs: GuildConfigStore;
  guildId: string;
  t: Translate;
}

async function changeChannels(
  { configs, guildId, t }: AdminScope,
  channelId: string,
  allow: boolean,
): Promise<string> {
  const before = await configs.get(guildId);
  const listed = before.allowedChannelIds.includes(channelId);
  const channel = `<#${channelId}>`;
  if (allow && listed)
    return t("commands:atelier.alreadyAllowed", { channel, channels: describeChannels(before, t) });
  if (!allow && !listed)
    return t("commands:atelier.notListed", { channel, channels: describeChannels(before, t) });
  if (allow && before.allowedChannelIds.length >= maxAllowedChannels)
    return t("commands:atelier.tooManyChannels", { max: maxAllowedChannels });
  const after = await configs.update(guildId, (config) => ({
    ...config,
    allowedChannelIds: allow
      ? [...config.allowedChannelIds, channelId]
      : config.allowedChannelIds.filter((id) => id !== channelId),
  }));
  return t(allow ? "commands:atelier.channelAllowed" : "commands:atelier.channelRemoved", {
    channel,
    channels: describeChannels(after, t),
  });
}

async function changeBan({ configs, guildId, t }: AdminScope, input: string, ban: boolean): Promise<string> {
  const before = await configs.get(guildId);
  // Removing goes by what is listed, so a pattern saved before today's rules can still be removed.
  const listed = ban
    ? undefined
    : bannedTerms(before).find((existing) => describeTerm(existing) === input.trim());
  const parsed = listed ? { ok: true as const, term: listed } : parseBannedTerm(input);
  if (!parsed.ok) return t("commands:atelier.notChanged", { reason: teamErrorText(parsed, t) });
  const term = parsed.term;
  const shown = shownTerm(term);
  const known = bannedTerms(before).some((existing) => describeTerm(existing) === describeTerm(term));
  if (ban && known) return t("commands:atelier.alreadyBanned", { term: shown });
  if (!ban && !known) return t("commands:atelier.notBanned", { term: shown });
  if (ban && bannedTerms(before).length >= maxBannedTerms)
    return t("commands:atelier.tooManyTerms", { max: maxBannedTerms });
  await configs.update(guildId, (config) => {
    const others = bannedTerms(config).filter((existing) => describeTerm(existing) !== describeTerm(term));
    const terms = ban ? [...others, term] : others;
    return {
      ...config,
      bannedWords: terms.flatMap((entry) => (entry.kind === "word" ? [entry.word] : [])),
      bannedPatterns: terms.flatMap((entry) => (entry.kind === "pattern" ? [entry.pattern] : [])),
    };
  });
  return t(ban ? "commands:atelier.banned" : "commands:atelier.unbanned", { term: shown });
}

function listBanned(config: GuildConfig, t: Translate): string {
  const terms = bannedTerms(config);
  if (terms.length === 0) return t("commands:atelier.noBannedTerms");
  return [
    t("commands:atelier.bannedHeading", { count: terms.length }),
    ...terms.map((term) => `• ${shownTerm(term)}`),
  ].join("\n");
}

async function setButtons(
  { configs, guildId, t }: AdminScope,
  policy: GuildConfig["buttonPolicy"],
  roleIds: string[],
): Promise<string> {
  const after = await configs.update(guildId, (config) => ({
    ...config,
    buttonPolicy: policy,
    buttonRoleIds: [...new Set(roleIds)],
  }));
  return t("commands:atelier.buttonsSet", { who: describeButtons(after, t) });
}

type ArgsOf<Path extends AdminCall["path"]> = Extract<AdminCall, { path: Path }>["args"];

async function setLimits({ configs, guildId, t }: AdminScope, given: ArgsOf<"limits">): Promise<string> {
  const unchanged = Object.values(given).every((value) => value === undefined);
  const after = unchanged
    ? await configs.get(guildId)
    : await configs.update(guildId, (config) => ({
        ...config,
        userDailyJobs: limitFrom(given["user-daily"], config.userDailyJobs),
        guildDailyJobs: limitFrom(given["guild-daily"], config.guildDailyJobs),
        cooldownSeconds: limitFrom(given.cooldown, config.cooldownSeconds),
      }));
  return t("commands:atelier.limitsLine", { limits: describeLimits(after, t) });
}

/** `names` is a comma-separated list; none at all lets members use every configured service. */
async function setProviders({ configs, guildId, t }: AdminScope, names: string | undefined): Promise<string> {
  const wanted = (names ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const after = await configs.update(guildId, (config) => ({
    ...config,
    providers: [...new Set(wanted)],
  }));
  return after.providers.length === 0
    ? t("commands:atelier.everyProvider")
    : t("commands:atelier.someProviders", {
        names: after.providers.map((name) => `\`${name}\``).join(", "),
      });
}

/** Zero refusals turns offender blocking off; a block lasts an hour unless told otherwise. */
async function setOffenders(
  { configs, guildId, t }: AdminScope,
  { refusals, minutes }: ArgsOf<"offenders">,
): Promise<string> {
  const after = await configs.update(guildId, (config) => ({
    ...config,
    offenderRefusals: refusals === 0 ? undefined : refusals,
    offenderBlockMinutes: refusals === 0 ? undefined : minutes || config.offenderBlockMinutes || 60,
  }));
  return t("commands:atelier.offendersLine", { offenders: describeOffenders(after, t) });
}

/** Does what the subcommand asks and says what the settings are now, in the admin's language. */
export async function runAdminCall(call: AdminCall, scope: AdminScope): Promise<string> {
  const { configs, guildId, t } = scope;
  switch (call.path) {
    case "show":
      return describeSettings(await configs.get(guildId), t);
    case "channels add":
      return changeChannels(scope, call.args.channel, true);
    case "channels remove":
      return changeChannels(scope, call.args.channel, false);
    case "channels list":
      return t("commands:atelier.usableIn", { channels: describeChannels(await configs.get(guildId), t) });
    case "buttons anyone":
      return setButtons(scope, "anyone", []);
    case "buttons owner":
      return setButtons(scope, "owner", []);
    case "buttons roles": {
      const { role, role2, role3 } = call.args;
      const roles = [role, role2, role3].filter((id): id is string => id !== undefined);
      return setButtons(scope, "roles", roles);
    }
    case "limits":
      return setLimits(scope, call.args);
    case "ban add":
      return changeBan(scope, call.args.term, true);
    case "ban remove":
      return changeBan(scope, call.args.term, false);
    case "ban list":
      return listBanned(await configs.get(guildId), t);
    case "providers":
      return setProviders(scope, call.args.names);
    case "offenders":
      return setOffenders(scope, call.args);
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
  const t = translator(personalLanguage(interaction));
  // Discord enforces default_member_permissions, but a server can override it per role: check here too.
  const content = !guildId
    ? t("commands:atelier.guildOnly")
    : !isServerManager(interaction)
      ? t("commands:atelier.notAllowed")
      : await runAdminCall(call, { configs: context.team.configs, guildId, t });
  await interaction.reply({
    content: truncate(content),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
