// /imagine prompt:<text> [image] [image2] [image3]: check the prompt, then one job per
// permutation or repeat, each with its own message.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { announceJob } from "../src/discord/announce.ts";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { promptErrorReply } from "../src/discord/replies.ts";
import { preparePrompts } from "../src/jobs/pipeline.ts";

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
  const provider = context.jobs.defaultProvider();
  const prepared = preparePrompts(input, provider, {
    maxJobs: context.maxJobs,
    speed: context.defaultSpeed,
    quality: context.defaultQuality,
  });
  if (!prepared.ok) {
    await interaction.reply({
      content: promptErrorReply(prepared.error, args.prompt),
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  for (const [index, prompt] of prepared.prompts.entries()) {
    const job = await context.jobs.prepareImagine({
      prompt,
      requesterId: interaction.user.id,
      guildId: interaction.guildId ?? undefined,
      channelId: interaction.channelId,
      speed: context.defaultSpeed,
      quality: context.defaultQuality,
    });
    await announceJob(interaction, job, context, index === 0 ? "reply" : "followUp");
  }
}
