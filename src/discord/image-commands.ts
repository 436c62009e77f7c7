// What /blend and /describe share: check the attached images, then the one admit-and-start path.
import type { Attachment, ChatInputCommandInteraction } from "discord.js";
import type { JobRequest } from "../jobs/service.ts";
import { attachedImagesProblem, attachedLinksProblem } from "./attachments.ts";
import type { BotContext } from "./context.ts";
import { replyPrivately } from "./replies.ts";
import { admitAndStart } from "./start-jobs.ts";

export interface ImageJobAsk {
  /** The command's name, for messages. */
  command: string;
  images: Attachment[];
  limits: { min: number; max: number };
  /** The job for the images' links. */
  request(imageUrls: string[]): JobRequest;
}

export async function startImageJob(
  interaction: ChatInputCommandInteraction,
  context: BotContext,
  ask: ImageJobAsk,
): Promise<void> {
  const problem =
    attachedImagesProblem(ask.images, ask.command, ask.limits) ??
    attachedLinksProblem(ask.images, context.trustedImageOrigins);
  if (problem) return replyPrivately(interaction, problem);
  // No prompt text to check against banned words; channel, limits and cooldowns still apply.
  await admitAndStart(interaction, context, {
    requests: [ask.request(ask.images.map((image) => image.url))],
    promptText: "",
    first: "reply",
  });
}
