// What a person types in the playground's message box, read as Discord would fill in a slash command:
// `/imagine a red fox --ar 3:2` (text after the name goes to the command's first text option),
// `/prefer option set name:wide value:--ar 16:9` (subcommands by word, options as `name:value`),
// files attached in the page filling the command's attachment options in order.
import {
  type APIApplicationCommand,
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
} from "discord-api-types/v10";
import type { FileInput, SlashCommandInput, SlashOptionValue } from "../fake-discord/index.ts";

/** A typed line the page cannot send: shown to its author only, like Discord's own hints. */
export class CommandLineError extends Error {}

export interface CommandLineContext {
  commands: readonly APIApplicationCommand[];
  /** The channel `#name` / `here` stands for in channel options. */
  channel: { id: string; name: string };
  /** People by name, for `@name` in user options. */
  userIds: ReadonlyMap<string, string>;
}

const nesting = new Set([
  ApplicationCommandOptionType.Subcommand,
  ApplicationCommandOptionType.SubcommandGroup,
]);

function names(options: readonly { name: string }[]): string {
  return options.map((option) => option.name).join(", ");
}

/** The leaf options after the subcommand group and subcommand words, and the words they used. */
function descend(
  command: APIApplicationCommand,
  words: string[],
): { options: readonly APIApplicationCommandOption[]; subcommand?: string; subcommandGroup?: string } {
  let options: readonly APIApplicationCommandOption[] = command.options ?? [];
  const path: { subcommand?: string; subcommandGroup?: string } = {};
  const label = [`/${command.name}`];
  while (options.some((option) => nesting.has(option.type))) {
    const word = words.shift();
    const next = options.find((option) => option.name === word && nesting.has(option.type));
    if (!next) {
      throw new CommandLineError(`${label.join(" ")} needs one of: ${names(options)}`);
    }
    if (next.type === ApplicationCommandOptionType.SubcommandGroup) path.subcommandGroup = next.name;
    else path.subcommand = next.name;
    label.push(next.name);
    options = "options" in next && next.options ? next.options : [];
  }
  return { options, ...path };
}

/** `name:value` pairs for the declared option names; text before the first pair is returned apart. */
function splitPairs(text: string, declared: readonly string[]): { lead: string; pairs: Map<string, string> } {
  const pairs = new Map<string, string>();
  if (declared.length === 0) return { lead: text.trim(), pairs };
  const escaped = declared.map((name) => name.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
  const marker = new RegExp(`(?:^|\\s)(${escaped.join("|")}):`, "g");
  const found = [...text.matchAll(marker)];
  const lead = text.slice(0, found[0]?.index ?? text.length).trim();
  found.forEach((match, i) => {
    const start = (match.index ?? 0) + match[0].length;
    const end = found[i + 1]?.index ?? text.length;
    pairs.set(match[1] ?? "", text.slice(start, end).trim());
  });
  return { lead, pairs };
}

function typed(
  option: APIApplicationCommandOption,
  raw: string,
  context: CommandLineContext,
): SlashOptionValue {
  const choices = "choices" in option ? (option.choices ?? []) : [];
  const chosen = choices.find(
    (choice) =>
      choice.name.toLowerCase() === raw.toLowerCase() ||
      String(choice.value).toLowerCase() === raw.toLowerCase(),
  );
  if (choices.length > 0 && !chosen) {
    throw new CommandLineError(`${option.name} must be one of: ${names(choices)}`);
  }
  const value = chosen ? String(chosen.value) : raw;
  switch (option.type) {
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number: {
      const number = Number(value);
      const whole = option.type === ApplicationCommandOptionType.Integer;
      if (value === "" || !Number.isFinite(number) || (whole && !Number.isInteger(number))) {
        throw new CommandLineError(`${option.name} must be a ${whole ? "whole " : ""}number`);
      }
      return number;
    }
    case ApplicationCommandOptionType.Boolean:
      if (!/^(true|false|yes|no)$/i.test(value))
        throw new CommandLineError(`${option.name} must be true or false`);
      return /^(true|yes)$/i.test(value);
    case ApplicationCommandOptionType.Channel: {
      const name = value.replace(/^#/, "");
      return name === "here" || name === context.channel.name ? context.channel.id : value;
    }
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Mentionable:
      return context.userIds.get(value.replace(/^@/, "")) ?? value;
    default:
      return value;
  }
}

/** The command a typed line names, and the text after its name. */
function namedCommand(
  line: string,
  context: CommandLineContext,
): { command: APIApplicationCommand; text: string } {
  const match = /^\s*\/(\S+)\s*([\s\S]*)$/.exec(line);
  if (!match) throw new CommandLineError("Type a command, starting with / (try /imagine a red fox)");
  const name = (match[1] ?? "").toLowerCase();
  const command = context.commands.find((candidate) => candidate.name === name);
  if (!command) {
    throw new CommandLineError(
      `There is no /${name} here. Commands: ${context.commands.map((c) => `/${c.name}`).join(", ")}`,
    );
  }
  return { command, text: match[2] ?? "" };
}

/** Option values from the text after the subcommand words; leading text fills the first free text option. */
function typedValues(
  command: APIApplicationCommand,
  valueOptions: readonly APIApplicationCommandOption[],
  rest: string,
  context: CommandLineContext,
): Record<string, SlashOptionValue> {
  const { lead, pairs } = splitPairs(
    rest,
    valueOptions.map((option) => option.name),
  );
  if (lead !== "") {
    const first = valueOptions.find(
      (option) => option.type === ApplicationCommandOptionType.String && !pairs.has(option.name),
    );
    if (!first)
      throw new CommandLineError(
        `/${command.name} takes no text here; options: ${names(valueOptions) || "none"}`,
      );
    pairs.set(first.name, lead);
  }
  const options: Record<string, SlashOptionValue> = {};
  for (const [optionName, raw] of pairs) {
    const option = valueOptions.find(
      (candidate) => candidate.name === optionName,
    ) as APIApplicationCommandOption;
    if (raw !== "") options[optionName] = typed(option, raw, context);
  }
  return options;
}

/** The page's files for the command's attachment options, in order. */
function attachedFiles(
  command: APIApplicationCommand,
  attachmentOptions: readonly APIApplicationCommandOption[],
  files: readonly FileInput[],
): Record<string, FileInput> {
  if (files.length > attachmentOptions.length) {
    throw new CommandLineError(
      attachmentOptions.length === 0
        ? `/${command.name} takes no files`
        : `/${command.name} takes at most ${attachmentOptions.length} files`,
    );
  }
  return Object.fromEntries(files.map((file, i) => [attachmentOptions[i]?.name ?? "", file]));
}

function assertRequiredGiven(
  command: APIApplicationCommand,
  declared: readonly APIApplicationCommandOption[],
  given: { options: Record<string, SlashOptionValue>; attachments: Record<string, FileInput> },
): void {
  const missing = declared.filter(
    (option) =>
      "required" in option &&
      option.required &&
      !(option.name in given.options) &&
      !(option.name in given.attachments),
  );
  if (missing.length > 0) {
    const what = missing.map((option) =>
      option.type === ApplicationCommandOptionType.Attachment
        ? `${option.name} (attach a file)`
        : `${option.name}:`,
    );
    throw new CommandLineError(`/${command.name} needs ${what.join(", ")}`);
  }
}

/** The slash command a typed line stands for (without its user), or a CommandLineError saying why not. */
export function readCommandLine(
  line: string,
  files: readonly FileInput[],
  context: CommandLineContext,
): Omit<SlashCommandInput, "user"> {
  const { command, text } = namedCommand(line, context);
  const words = text.split(/\s+/).filter((word) => word !== "");
  const nested = (command.options ?? []).some((option) => nesting.has(option.type));
  const { options: declared, subcommand, subcommandGroup } = descend(command, words);
  // Subcommand words come first; the rest keeps its spacing (a prompt's is its own).
  const rest = nested ? words.join(" ") : text.trim();
  const isAttachment = (option: APIApplicationCommandOption) =>
    option.type === ApplicationCommandOptionType.Attachment;
  const options = typedValues(
    command,
    declared.filter((option) => !isAttachment(option)),
    rest,
    context,
  );
  const attachments = attachedFiles(command, declared.filter(isAttachment), files);
  assertRequiredGiven(command, declared, { options, attachments });
  return {
    name: command.name,
    options,
    ...(files.length > 0 ? { attachments } : {}),
    ...(subcommand ? { subcommand } : {}),
    ...(subcommandGroup ? { subcommandGroup } : {}),
  };
}
