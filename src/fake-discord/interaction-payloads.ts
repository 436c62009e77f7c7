import {
  type APIApplicationCommand,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandOption,
  type APIAttachment,
  type APIChatInputApplicationCommandGuildInteraction,
  type APIGuildInteractionWrapper,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIModalSubmissionComponent,
  type APIModalSubmitGuildInteraction,
  type APIUser,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  type Locale,
} from "discord-api-types/v10";
import {
  buildInteractionMember,
  buildTextChannel,
  type FakeGuild,
  type FakeWorld,
  guildLocaleOf,
  mainGuild,
  userLocaleOf,
} from "./payloads.ts";

export type APIButtonGuildInteraction = APIGuildInteractionWrapper<APIMessageComponentButtonInteraction>;
export type FakeInteractionPayload =
  | APIChatInputApplicationCommandGuildInteraction
  | APIButtonGuildInteraction
  | APIModalSubmitGuildInteraction;

/** A slash-command option value as a test writes it; the type comes from the registered definition. */
export type SlashOptionValue = string | number | boolean;

/** What all three guild interaction kinds share. */
type GuildInteractionBase = Omit<APIChatInputApplicationCommandGuildInteraction, "type" | "data">;
type CommandOption = APIApplicationCommandInteractionDataOption<InteractionType.ApplicationCommand>;
type BasicCommandOption = APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>;

interface InteractionIdentity {
  world: FakeWorld;
  /** The server it happens in; default the main one. */
  guild?: FakeGuild | undefined;
  id: string;
  token: string;
  user: APIUser;
  /** The sender's client locale for this one interaction; default: the user's (`userLocaleOf`). */
  locale?: Locale | undefined;
}

/** Fields every guild interaction carries; discord.js reads `entitlements` and
 * `authorizing_integration_owners` unconditionally, so they must be present. */
function guildInteractionBase({
  world,
  guild = mainGuild(world),
  id,
  token,
  user,
  locale,
}: InteractionIdentity): GuildInteractionBase {
  return {
    id,
    token,
    application_id: world.applicationId,
    version: 1,
    guild_id: guild.id,
    guild: { id: guild.id, locale: guildLocaleOf(world, guild.id), features: [] },
    channel_id: guild.channelId,
    channel: buildTextChannel(world, guild),
    member: buildInteractionMember(user, world),
    app_permissions: world.permissions,
    locale: locale ?? userLocaleOf(world, user.id),
    guild_locale: guildLocaleOf(world, guild.id),
    entitlements: [],
    authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guild.id },
    context: InteractionContextType.Guild,
    attachment_size_limit: world.maxFileBytes,
  };
}

export interface ChatInputInit extends InteractionIdentity {
  name: string;
  commandId: string;
  commandGuildId: string | undefined;
  options: CommandOption[];
  attachments: APIAttachment[];
}

export function buildChatInputInteraction(
  init: ChatInputInit,
): APIChatInputApplicationCommandGuildInteraction {
  const resolvedAttachments = Object.fromEntries(
    init.attachments.map((attachment) => [attachment.id, attachment]),
  );
  return {
    ...guildInteractionBase(init),
    type: InteractionType.ApplicationCommand,
    data: {
      id: init.commandId,
      name: init.name,
      type: ApplicationCommandType.ChatInput,
      ...(init.commandGuildId === undefined ? {} : { guild_id: init.commandGuildId }),
      ...(init.options.length === 0 ? {} : { options: init.options }),
      ...(init.attachments.length === 0 ? {} : { resolved: { attachments: resolvedAttachments } }),
    },
  };
}

export interface ButtonInit extends InteractionIdentity {
  message: APIMessage;
  customId: string;
}

export function buildButtonInteraction(init: ButtonInit): APIButtonGuildInteraction {
  return {
    ...guildInteractionBase(init),
    type: InteractionType.MessageComponent,
    message: init.message,
    data: { custom_id: init.customId, component_type: ComponentType.Button },
  };
}

export interface ModalSubmitInit extends InteractionIdentity {
  customId: string;
  components: APIModalSubmissionComponent[];
  message: APIMessage | undefined;
}

export function buildModalSubmitInteraction(init: ModalSubmitInit): APIModalSubmitGuildInteraction {
  return {
    ...guildInteractionBase(init),
    type: InteractionType.ModalSubmit,
    ...(init.message === undefined ? {} : { message: init.message }),
    data: { custom_id: init.customId, components: init.components },
  };
}

/**
 * Turns `{ prompt: "a cat" }` into interaction options, typed from the registered command when known
 * (so an integer option is sent as INTEGER), otherwise inferred from the JS value.
 */
export function buildCommandOptions(
  values: Readonly<Record<string, SlashOptionValue>>,
  attachmentIds: Readonly<Record<string, string>>,
  declared: readonly APIApplicationCommandOption[],
): BasicCommandOption[] {
  const declaredType = (name: string) => declared.find((option) => option.name === name)?.type;
  const options = Object.entries(values).map(([name, value]) =>
    toBasicOption(name, value, declaredType(name)),
  );
  const attachments = Object.entries(attachmentIds).map(
    ([name, id]): BasicCommandOption => ({ name, type: ApplicationCommandOptionType.Attachment, value: id }),
  );
  return [...options, ...attachments];
}

function toBasicOption(
  name: string,
  value: SlashOptionValue,
  declared: ApplicationCommandOptionType | undefined,
): BasicCommandOption {
  const type = declared ?? inferOptionType(value);
  const mismatch = () =>
    new TypeError(`Option "${name}": value ${JSON.stringify(value)} does not fit type ${type}`);
  switch (type) {
    case ApplicationCommandOptionType.String:
      if (typeof value !== "string") throw mismatch();
      return { name, type, value };
    case ApplicationCommandOptionType.Integer:
      if (typeof value !== "number" || !Number.isInteger(value)) throw mismatch();
      return { name, type, value };
    case ApplicationCommandOptionType.Number:
      if (typeof value !== "number") throw mismatch();
      return { name, type, value };
    case ApplicationCommandOptionType.Boolean:
      if (typeof value !== "boolean") throw mismatch();
      return { name, type, value };
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Channel:
    case ApplicationCommandOptionType.Role:
    case ApplicationCommandOptionType.Mentionable:
      if (typeof value !== "string") throw mismatch();
      return { name, type, value };
    default:
      throw new TypeError(
        `Option "${name}": type ${type} is not supported by the fake (use attachments for files)`,
      );
  }
}

function inferOptionType(value: SlashOptionValue): ApplicationCommandOptionType {
  if (typeof value === "string") return ApplicationCommandOptionType.String;
  if (typeof value === "boolean") return ApplicationCommandOptionType.Boolean;
  return Number.isInteger(value) ? ApplicationCommandOptionType.Integer : ApplicationCommandOptionType.Number;
}

/** Wraps options in `subcommand` (and `group`) the way Discord nests them. */
export function nestInSubcommand(
  options: BasicCommandOption[],
  subcommand: string | undefined,
  group: string | undefined,
): CommandOption[] {
  if (subcommand === undefined) return options;
  const sub: CommandOption = { name: subcommand, type: ApplicationCommandOptionType.Subcommand, options };
  if (group === undefined) return [sub];
  return [{ name: group, type: ApplicationCommandOptionType.SubcommandGroup, options: [sub] }];
}

/** The option definitions that apply to the invoked (sub)command, to type the values. */
export function declaredOptionsFor(
  command: APIApplicationCommand | undefined,
  subcommand: string | undefined,
  group: string | undefined,
): readonly APIApplicationCommandOption[] {
  let options: readonly APIApplicationCommandOption[] = command?.options ?? [];
  for (const level of [group, subcommand]) {
    if (level === undefined) continue;
    const next = options.find((option) => option.name === level);
    options = next && "options" in next && next.options ? next.options : [];
  }
  return options;
}
