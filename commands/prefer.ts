// /prefer suffix [value] and /prefer option set|list|delete: text added to every prompt, and custom
// `--name` options that expand to parameters. Both are checked when saved; all replies are private.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandDefinition, SubcommandCall } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { personalLanguage } from "../src/discord/language.ts";
import { replyPrivately } from "../src/discord/replies.ts";
import { teamErrorText } from "../src/i18n/errors.ts";
import { type Translate, translator } from "../src/i18n/index.ts";
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
  ...commandText("commands:prefer.name"),
  required: true,
  max_length: PREFER_LIMITS.nameLength + 2,
} as const;

export const preferCommand = {
  name: "prefer",
  ...commandText("commands:prefer"),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "suffix",
      ...commandText("commands:prefer.suffix"),
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "value",
          ...commandText("commands:prefer.suffix.value"),
          required: false,
          max_length: PREFER_LIMITS.suffixLength,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: "option",
      ...commandText("commands:prefer.option"),
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "set",
          ...commandText("commands:prefer.option.set"),
          options: [
            nameOption,
            {
              type: ApplicationCommandOptionType.String,
              name: "value",
              ...commandText("commands:prefer.option.value"),
              required: true,
              max_length: PREFER_LIMITS.valueLength,
            },
          ],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "list",
          ...commandText("commands:prefer.option.list"),
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: "delete",
          ...commandText("commands:prefer.option.delete"),
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

function listing(preferences: Preferences, t: Translate): string {
  const options = Object.entries(preferences.options ?? {});
  const lines = [
    preferences.suffix
      ? t("commands:prefer.suffixIs", { suffix: code(preferences.suffix) })
      : t("commands:prefer.noSuffix"),
    options.length === 0
      ? t("commands:prefer.noOptions")
      : t("commands:prefer.optionsHeading", { count: options.length, limit: PREFER_LIMITS.options }),
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
  t: Translate,
): Promise<string> {
  let refusal: string | undefined;
  const updated = await context.preferences.update(userId, (current) => {
    const result = change(current);
    if (result.ok) return result.preferences;
    refusal = teamErrorText(result, t);
    return current;
  });
  return refusal === undefined ? saved(updated) : t("commands:prefer.notSaved", { reason: refusal });
}

function answer(
  call: SubcommandCall<typeof preferCommand>,
  userId: string,
  context: BotContext,
  t: Translate,
) {
  switch (call.path) {
    case "suffix":
      return save(
        userId,
        context,
        (current) => setSuffix(current, call.args.value),
        (preferences) =>
          preferences.suffix
            ? t("commands:prefer.suffixSet", { suffix: code(preferences.suffix) })
            : t("commands:prefer.suffixCleared"),
        t,
      );
    case "option set": {
      const name = optionName(call.args.name);
      return save(
        userId,
        context,
        (current) => setOption(current, call.args.name, call.args.value),
        (preferences) =>
          t("commands:prefer.optionSet", { name, value: code(preferences.options?.[name] ?? "") }),
        t,
      );
    }
    case "option list":
      return context.preferences.get(userId).then((preferences) => listing(preferences, t));
    case "option delete":
      return save(
        userId,
        context,
        (current) => deleteOption(current, call.args.name),
        () => t("commands:prefer.optionDeleted", { name: optionName(call.args.name) }),
        t,
      );
  }
}

export async function prefer(
  interaction: ChatInputCommandInteraction,
  call: SubcommandCall<typeof preferCommand>,
  context: BotContext,
): Promise<void> {
  const t = translator(personalLanguage(interaction));
  await replyPrivately(interaction, await answer(call, interaction.user.id, context, t));
}
