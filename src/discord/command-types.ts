// Commands are data (what Discord registers) apart from handlers; a handler's arguments are
// derived from its definition so an option added to one cannot be forgotten in the other.
import {
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  ApplicationCommandOptionType,
  type Attachment,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { ImageProvider, ProviderCapabilities } from "../providers/types.ts";
import type { BotContext } from "./context.ts";

/** A subcommand as data; `as const` makes nested option lists readonly, which the API type does not allow. */
export type SubcommandDefinition = Omit<APIApplicationCommandSubcommandOption, "options"> & {
  readonly options?: readonly APIApplicationCommandBasicOption[];
};

export type SubcommandGroupDefinition = Omit<APIApplicationCommandSubcommandGroupOption, "options"> & {
  readonly options?: readonly SubcommandDefinition[];
};

export type CommandOptionDefinition =
  | APIApplicationCommandBasicOption
  | SubcommandDefinition
  | SubcommandGroupDefinition;

export type CommandDefinition = RESTPostAPIChatInputApplicationCommandsJSONBody & {
  readonly options?: readonly CommandOptionDefinition[];
};

/** The yes/no capabilities of a provider, e.g. "blend". */
export type CapabilityFlag = {
  [K in keyof ProviderCapabilities]: ProviderCapabilities[K] extends boolean ? K : never;
}[keyof ProviderCapabilities];

/** A registered slash command: what Discord shows, and what runs when someone uses it. */
export interface SlashCommand {
  definition: CommandDefinition;
  /** Offered only when the configured provider has this capability (/blend needs "blend"). */
  requires?: CapabilityFlag;
  /** It starts jobs: with a store across the network it is answered "thinking…" before anything is asked. */
  startsJobs?: true;
  run(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
}

/** Whether `command` can run on a provider with `capabilities`. */
export function isOffered(
  command: Pick<SlashCommand, "requires">,
  capabilities: ProviderCapabilities,
): boolean {
  return command.requires === undefined || capabilities[command.requires];
}

/** The first of `providers` that can serve `command` (registered with Discord when there is one). */
export function servingProvider(
  command: Pick<SlashCommand, "requires">,
  providers: readonly (ImageProvider | undefined)[],
): ImageProvider | undefined {
  return providers.find(
    (provider): provider is ImageProvider =>
      provider !== undefined && isOffered(command, provider.capabilities),
  );
}

/** Channel, role, user and mentionable options arrive as ids (the resolved objects may be absent). */
type IdOptionType =
  | ApplicationCommandOptionType.Channel
  | ApplicationCommandOptionType.Role
  | ApplicationCommandOptionType.User
  | ApplicationCommandOptionType.Mentionable;

type OptionValue<Option> = Option extends { type: ApplicationCommandOptionType.String | IdOptionType }
  ? string
  : Option extends { type: ApplicationCommandOptionType.Attachment }
    ? Attachment
    : Option extends { type: ApplicationCommandOptionType.Integer | ApplicationCommandOptionType.Number }
      ? number
      : Option extends { type: ApplicationCommandOptionType.Boolean }
        ? boolean
        : never;

type RequiredOptions<Options> = Extract<Options, { required: true }>;
type OptionalOptions<Options> = Exclude<Options, { required: true }>;

/** `{ prompt: string; image?: Attachment }` from a union of option definitions. */
export type OptionArgs<Options> = {
  [O in RequiredOptions<Options> as O extends { name: infer N extends string } ? N : never]: OptionValue<O>;
} & {
  [O in OptionalOptions<Options> as O extends { name: infer N extends string } ? N : never]?: OptionValue<O>;
};

/** `{ prompt: string; image?: Attachment }` from the definition's options. */
export type CommandArgs<Definition extends CommandDefinition> =
  Definition["options"] extends readonly (infer Options)[] ? OptionArgs<Options> : Record<string, never>;

type OptionsOf<Entry> = Entry extends { options: readonly (infer Options)[] } ? Options : never;

type CallOf<Entry, Group extends string | undefined> = Entry extends {
  type: ApplicationCommandOptionType.Subcommand;
  name: infer Name extends string;
}
  ? { path: Group extends string ? `${Group} ${Name}` : Name; args: OptionArgs<OptionsOf<Entry>> }
  : never;

type GroupCallsOf<Entry> = Entry extends {
  type: ApplicationCommandOptionType.SubcommandGroup;
  name: infer Group extends string;
}
  ? CallOf<OptionsOf<Entry>, Group>
  : never;

/**
 * The invoked subcommand of a command with subcommands (and groups): `path` is "show" or
 * "channels add", and narrows `args` to that subcommand's typed options in a `switch`.
 */
export type SubcommandCall<Definition extends CommandDefinition> =
  Definition["options"] extends readonly (infer Entry)[]
    ? CallOf<Entry, undefined> | GroupCallsOf<Entry>
    : never;

function readOption(
  option: APIApplicationCommandBasicOption,
  interaction: ChatInputCommandInteraction,
): unknown {
  const required = "required" in option && option.required === true;
  const { options } = interaction;
  switch (option.type) {
    case ApplicationCommandOptionType.String:
      return options.getString(option.name, required) ?? undefined;
    case ApplicationCommandOptionType.Attachment:
      return options.getAttachment(option.name, required) ?? undefined;
    case ApplicationCommandOptionType.Integer:
      return options.getInteger(option.name, required) ?? undefined;
    case ApplicationCommandOptionType.Number:
      return options.getNumber(option.name, required) ?? undefined;
    case ApplicationCommandOptionType.Boolean:
      return options.getBoolean(option.name, required) ?? undefined;
    case ApplicationCommandOptionType.Channel:
    case ApplicationCommandOptionType.Role:
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Mentionable: {
      const value = options.get(option.name, required)?.value;
      return typeof value === "string" ? value : undefined;
    }
  }
}

function readOptions(
  definitions: readonly CommandOptionDefinition[],
  interaction: ChatInputCommandInteraction,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const option of definitions) {
    if (
      option.type === ApplicationCommandOptionType.Subcommand ||
      option.type === ApplicationCommandOptionType.SubcommandGroup
    )
      continue;
    args[option.name] = readOption(option, interaction);
  }
  return args;
}

/** Reads the options Discord sent into the typed argument object. */
export function readArgs<Definition extends CommandDefinition>(
  definition: Definition,
  interaction: ChatInputCommandInteraction,
): CommandArgs<Definition> {
  return readOptions(definition.options ?? [], interaction) as CommandArgs<Definition>;
}

function subcommandNamed(
  options: readonly CommandOptionDefinition[] | undefined,
  name: string,
): SubcommandDefinition | undefined {
  const found = options?.find((option) => option.name === name);
  return found?.type === ApplicationCommandOptionType.Subcommand ? found : undefined;
}

/** Reads which subcommand was invoked and its options, typed from the definition. */
export function readSubcommand<Definition extends CommandDefinition>(
  definition: Definition,
  interaction: ChatInputCommandInteraction,
): SubcommandCall<Definition> {
  const groupName = interaction.options.getSubcommandGroup(false);
  const name = interaction.options.getSubcommand(true);
  const group = groupName ? definition.options?.find((option) => option.name === groupName) : undefined;
  const siblings =
    group?.type === ApplicationCommandOptionType.SubcommandGroup ? group.options : definition.options;
  const subcommand = subcommandNamed(siblings, name);
  if (!subcommand)
    throw new Error(`/${definition.name} has no subcommand "${[groupName, name].join(" ").trim()}"`);
  const path = groupName ? `${groupName} ${name}` : name;
  return { path, args: readOptions(subcommand.options ?? [], interaction) } as SubcommandCall<Definition>;
}
