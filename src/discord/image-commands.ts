// What /blend and /describe share: check the attached images, then the one admit-and-start path.
import type { Attachment, ChatInputCommandInteraction } from "discord.js";
import type { JobRequest } from "../jobs/service.ts";
import { attachedImagesProblem, attachedLinksProblem } from "./attachments.ts";
import { servingProvider } from "./command-types.ts";
import type { BotContext } from "./context.ts";
import { personalLanguage } from "./language.ts";
import { providersHere } from "./providers-here.ts";
import { replyPrivately, unsupportedCommandReply } from "./replies.ts";
import { admitAndStart } from "./start-jobs.ts";
import { thinkAtOnce } from "./thinking.ts";

export interface ImageJobAsk {
  /** The command's name (also the capability it needs). */
  command: "blend" | "describe";
  images: Attachment[];
  limits: { min: number; max: number };
  /** The job for the images' links. */
  request(imageUrls: string[]): Extract<JobRequest, { kind: "blend" | "describe" }>;
}

export async function startImageJob(
  interaction: ChatInputCommandInteraction,
  context: BotContext,
  ask: ImageJobAsk,
): Promise<void> {
  const language = personalLanguage(interaction);
  const problem =
    attachedImagesProblem(ask.images, ask.command, ask.limits, language) ??
    attachedLinksProblem(ask.images, context.trustedImageOrigins, language);
  if (problem) return replyPrivately(interaction, problem);
  if (context.thinkFirst) thinkAtOnce(interaction);
  // The person's service when it can do this, else the first here that can.
  const here = await providersHere(context, interaction.user.id, interaction.guildId ?? undefined);
  const candidates = [here.fallback, ...here.named.names().map((name) => here.named.get(name))];
  const provider = servingProvider({ requires: ask.command }, candidates);
  if (!provider) return replyPrivately(interaction, unsupportedCommandReply(ask.command, here.fallback.name));
  // No prompt text to check against banned words; channel, limits and cooldowns still apply.
  await admitAndStart(interaction, context, {
    requests: [{ ...ask.request(ask.images.map((image) => image.url)), provider: provider.name }],
    promptText: "",
    first: "reply",
    guildConfig: here.guildConfig,
  });
}
