// /imagine prompt:<text> [image] [image2] [image3]: check the prompt, then one job per
// permutation or repeat, each with its own message.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { imaginePrompts } from "../src/discord/imagine-flow.ts";

const imageOption = (name: string, description: string) =>
  ({ type: ApplicationCommandOptionType.Attachment, name, description, required: false }) as const;

export const imagineCommand = {
  name: "imagine",
  description: "Create images from a prompt",
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "prompt",
      description: "What to imagine, with Midjourney parameters such as --ar 16:9",
      required: true,
      max_length: 6000,
    },
    imageOption("image", "An image to use as an image prompt"),
    imageOption("image2", "A second image prompt"),
    imageOption("image3", "A third image prompt"),
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
