// What /blend and /describe share: check the attached images, the queue room and the guild's rules,
// then show the job's first message and start it, as /imagine does.
import { type Attachment, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import type { JobRecord } from "../jobs/record.ts";
import { admitOrExplain } from "./admission.ts";
import { announceJob } from "./announce.ts";
import { attachedImagesProblem } from "./attachments.ts";
import type { BotContext } from "./context.ts";

export interface ImageJobRequest {
  /** The command's name, for messages. */
  command: string;
  images: Attachment[];
  limits: { min: number; max: number };
  /** Writes the job for the images' links (JobService.prepareBlend / prepareDescribe). */
  prepare(imageUrls: string[]): Promise<JobRecord>;
}

export async function startImageJob(
  interaction: ChatInputCommandInteraction,
  context: BotContext,
  request: ImageJobRequest,
): Promise<void> {
  const problem = attachedImagesProblem(request.images, request.command, request.limits);
  if (problem) return privately(interaction, problem);
  const queueRoom = context.jobs.canQueue(interaction.user.id, 1);
  if (!queueRoom.ok) return privately(interaction, queueRoom.message);
  // No prompt text to check against banned words; channel, limits and cooldowns still apply.
  const admitted = await admitOrExplain(interaction, context, { promptText: "", jobCount: 1 });
  if (!admitted) return;
  const job = await request.prepare(request.images.map((image) => image.url));
  await announceJob(interaction, job, context, "reply");
}

async function privately(interaction: ChatInputCommandInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}
