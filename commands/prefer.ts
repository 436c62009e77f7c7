// /prefer suffix [value] and /prefer option set|list|delete: text added to every prompt, and custom
// `--name` options that expand to parameters. Both are checked when saved; all replies are private.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import type { CommandDefinition, SubcommandCall } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { replyPrivately } from "../src/discord/replies.ts";
import {
  deleteOption,
  optionName,
  PREFER_LIMITS,
  type PreferChange,
  type Preferences,
  setOption,
  setSuffix,
} from "../src/team/preferences.ts";

const nameOption = {
  type: ApplicationCommandOptionType.String,
  name: "name",
  description: "The option's name, used as --name in prompts (e.g. wide)",
  required: true,
  max_length: PREFER_LIMITS.nameLength + 2,
} as const;

export const preferCommand = {
  name: "prefer",
  description: "Your prompt suffix and custom --options",
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "suffix",
      description: "Text added to the end of every prompt you run; leave empty to clear it",
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "value",
          description: "e.g. --ar 16:9 --stylize 250",
          required: false,
          max_length: PREFER_LIMITS.suffixLength,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "option",
      description: "Custom --options that expand to parameters in your prompts",
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "set",
          description: "Create or change a custom option",
          options: [
            nameOption,
            {
              type: ApplicationCommandOptionType.String,
              name: "value",
              description: "What --name expands to, e.g. --ar 16:9 --s 300",
              required: true,
              max_length: PREFER_LIMITS.valueLength,
            },
          ],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "list",
          description: "Show your options and suffix",
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "delete",
          description: "Delete a custom option",
          options: [nameOption],
        },
      ],
    },
  ],
} as const satisfies CommandDefinition;

const replyLimit = 2000;

/** Inline code that survives backticks in what the user typed. */
function code(text: string): string {
  return `\`${text.replaceAll("`", "ˋ")}\``;
}

function listing(preferences: Preferences): string {
  const options = Object.entries(preferences.options ?? {});
  const lines = [
    preferences.suffix ? `**Suffix:** ${code(preferences.suffix)}` : "**Suffix:** none",
    options.length === 0
      ? "**Options:** none yet. Add one with `/prefer option set name:wide value:--ar 16:9`."
      : `**Options** (${options.length}/${PREFER_LIMITS.options}):`,
    ...options.map(([name, value]) => `- \`--${name}\` → ${code(value)}`),
  ];
  return lines.join("\n").slice(0, replyLimit);
}

/** Saves a change when it is valid; answers with `saved` or with why nothing was saved. */
async function save(
  userId: string,
  context: BotContext,
  change: (current: Preferences) => PreferChange,
  saved: (preferences: Preferences) => string,
): Promise<string> {
  let refusal: string | undefined;
  const updated = await context.preferences.update(userId, (current) => {
    const result = change(current);
    if (result.ok) return result.preferences;
    refusal = result.message;
    return current;
  });
  return refusal === undefined ? saved(updated) : `**Not saved** — ${refusal}.`;
}

function answer(call: SubcommandCall<typeof preferCommand>, userId: string, context: BotContext) {
  switch (call.path) {
    case "suffix":
      return save(
        userId,
        context,
        (current) => setSuffix(current, call.args.value),
        (preferences) =>
          preferences.suffix
            ? `Your suffix is now ${code(preferences.suffix)}: it is added to the end of every prompt you run.`
            : "Your suffix is cleared.",
      );
    case "option set": {
      const name = optionName(call.args.name);
      return save(
        userId,
        context,
        (current) => setOption(current, call.args.name, call.args.value),
        (preferences) =>
          `\`--${name}\` now expands to ${code(preferences.options?.[name] ?? "")}. Use it in any prompt, e.g. \`/imagine a lighthouse --${name}\`.`,
      );
    }
    case "option list":
      return context.preferences.get(userId).then(listing);
    case "option delete":
      return save(
        userId,
        context,
        (current) => deleteOption(current, call.args.name),
        () => `Deleted \`--${optionName(call.args.name)}\`.`,
      );
  }
}

export async function prefer(
  interaction: ChatInputCommandInteraction,
  call: SubcommandCall<typeof preferCommand>,
  context: BotContext,
): Promise<void> {
  const content = await answer(call, interaction.user.id, context);
  await replyPrivately(interaction, content);
}
