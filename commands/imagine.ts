// /imagine prompt:<text> [image] [image2] [image3]: check the prompt, then one job per
// permutation or repeat, each with its own message.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { admitOrExplain } from "../src/discord/admission.ts";
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
    preferences: await context.preferences.get(interaction.user.id),
  });
  if (!prepared.ok) {
    await interaction.reply({
      content: promptErrorReply(prepared.error, args.prompt),
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  const queueRoom = context.jobs.canQueue(interaction.user.id, prepared.prompts.length);
  if (!queueRoom.ok) {
    await interaction.reply({ content: queueRoom.message, flags: MessageFlags.Ephemeral });
    return;
  }
  // Expanded texts too: a permutation can assemble a banned word the typed text does not show.
  const promptText = [args.prompt, ...prepared.prompts.map((prompt) => prompt.text)].join("\n");
  const admitted = await admitOrExplain(interaction, context, {
    promptText,
    jobCount: prepared.prompts.length,
  });
  if (!admitted) return;
  // Each job at the speed and quality its prompt and the user's /settings give it.
  for (const [index, { prompt, speed, quality }] of prepared.jobs.entries()) {
    const job = await context.jobs.prepareImagine({
      prompt,
      requesterId: interaction.user.id,
      guildId: interaction.guildId ?? undefined,
      channelId: interaction.channelId,
      speed,
      quality,
    });
    await announceJob(interaction, job, context, index === 0 ? "reply" : "followUp");
  }
}
