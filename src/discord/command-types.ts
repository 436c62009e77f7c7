// Commands are data (what Discord registers) apart from handlers; a handler's arguments are
// derived from its definition so an option added to one cannot be forgotten in the other.
import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  type Attachment,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { BotContext } from "./context.ts";

export type CommandDefinition = RESTPostAPIChatInputApplicationCommandsJSONBody & {
  readonly options?: readonly APIApplicationCommandOption[];
};

/** A registered slash command: what Discord shows, and what runs when someone uses it. */
export interface SlashCommand {
  definition: CommandDefinition;
  run(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
}

type OptionValue<Option> = Option extends { type: ApplicationCommandOptionType.String }
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

/** `{ prompt: string; image?: Attachment }` from the definition's options. */
export type CommandArgs<Definition extends CommandDefinition> =
  Definition["options"] extends readonly (infer Options)[]
    ? {
        [O in RequiredOptions<Options> as O extends { name: infer N extends string }
          ? N
          : never]: OptionValue<O>;
      } & {
        [O in OptionalOptions<Options> as O extends { name: infer N extends string }
          ? N
          : never]?: OptionValue<O>;
      }
    : Record<string, never>;

/** Reads the options Discord sent into the typed argument object. */
export function readArgs<Definition extends CommandDefinition>(
  definition: Definition,
  interaction: ChatInputCommandInteraction,
): CommandArgs<Definition> {
  const args: Record<string, unknown> = {};
  for (const option of definition.options ?? []) {
    const required = "required" in option && option.required === true;
    switch (option.type) {
      case ApplicationCommandOptionType.String:
        args[option.name] = interaction.options.getString(option.name, required) ?? undefined;
        break;
      case ApplicationCommandOptionType.Attachment:
        args[option.name] = interaction.options.getAttachment(option.name, required) ?? undefined;
        break;
      case ApplicationCommandOptionType.Integer:
        args[option.name] = interaction.options.getInteger(option.name, required) ?? undefined;
        break;
      case ApplicationCommandOptionType.Number:
        args[option.name] = interaction.options.getNumber(option.name, required) ?? undefined;
        break;
      case ApplicationCommandOptionType.Boolean:
        args[option.name] = interaction.options.getBoolean(option.name, required) ?? undefined;
        break;
    }
  }
  return args as CommandArgs<Definition>;
}
