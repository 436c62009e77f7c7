// /describe image: four prompts the image service suggests for an image, each one button away
// from an /imagine. Registered only when the provider can describe (see commands/index.ts).
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { startImageJob } from "../src/discord/image-commands.ts";

export const describeCommand = {
  name: "describe",
  ...commandText("commands:describe"),
  options: [
    {
      type: ApplicationCommandOptionType.Attachment,
      name: "image",
      ...commandText("commands:describe.image"),
      required: true,
    },
  ],
} as const satisfies CommandDefinition;

export async function describe(
  interaction: ChatInputCommandInteraction,
  args: CommandArgs<typeof describeCommand>,
  context: BotContext,
): Promise<void> {
  await startImageJob(interaction, context, {
    command: "describe",
    images: [args.image],
    limits: { min: 1, max: 1 },
    request: ([imageUrl = ""]) => ({ kind: "describe", imageUrl }),
  });
}
