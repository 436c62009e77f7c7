// /imagine prompt:<text> [image] [image2] [image3]: check the prompt, then one job per
// permutation or repeat, each with its own message.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { imaginePrompts } from "../src/discord/imagine-flow.ts";

const imageOption = <Name extends string>(name: Name) =>
  ({
    type: ApplicationCommandOptionType.Attachment,
    name,
    ...commandText(`commands:imagine.${name}`),
    required: false,
  }) as const;

export const imagineCommand = {
  name: "imagine",
  ...commandText("commands:imagine"),
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "prompt",
      ...commandText("commands:imagine.prompt"),
      required: true,
      max_length: 6000,
    },
    imageOption("image"),
    imageOption("image2"),
    imageOption("image3"),
  ],
} as const satisfies CommandDefinition;

export async function imagine(
  interaction: ChatInputCommandInteraction,
  args: CommandArgs<typeof imagineCommand>,
  context: BotContext,
): Promise<void> {
  const imageUrls = [args.image, args.image2, args.image3].flatMap((image) => (image ? [image.url] : []));
  const input = [...imageUrls, args.prompt].join(" ");
  await imaginePrompts(interaction, context, { input, typed: args.prompt, first: "reply" });
}
