// The /imagine pipeline, shared by the command and the /describe result's buttons: the prompt
// language and the provider's limits, queue room, admission; then one job (and message) per prompt.
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
} from "discord.js";
import { type PreparedJob, preparePrompts } from "../jobs/pipeline.ts";
import { admitOrExplain } from "./admission.ts";
import { announceJob } from "./announce.ts";
import type { BotContext } from "./context.ts";
import { promptErrorReply } from "./replies.ts";

type ImagineInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface ImagineAsk {
  /** The whole prompt: image links first, then the text. */
  input: string;
  /** What the person typed or picked: echoed back in an error, checked against banned words. */
  typed: string;
  /** For buttons: who asked for the job the button belongs to (the guild's button policy). */
  jobOwnerId?: string;
}

/**
 * The jobs `ask` makes, once the prompt is valid, the user has room in the queue and the guild's
 * rules admit them (admission counts them); otherwise undefined, the user answered privately.
 */
export async function admitPrompts(
  interaction: ImagineInteraction,
  context: BotContext,
  ask: ImagineAsk,
): Promise<PreparedJob[] | undefined> {
  const prepared = preparePrompts(ask.input, context.jobs.defaultProvider(), {
    maxJobs: context.maxJobs,
    speed: context.defaultSpeed,
    quality: context.defaultQuality,
    preferences: await context.preferences.get(interaction.user.id),
  });
  if (!prepared.ok) {
    await privately(interaction, promptErrorReply(prepared.error, ask.typed));
    return undefined;
  }
  const queueRoom = context.jobs.canQueue(interaction.user.id, prepared.prompts.length);
  if (!queueRoom.ok) {
    await privately(interaction, queueRoom.message);
    return undefined;
  }
  // Expanded texts too: a permutation can assemble a banned word the typed text does not show.
  const promptText = [ask.typed, ...prepared.prompts.map((prompt) => prompt.text)].join("\n");
  const admitted = await admitOrExplain(interaction, context, {
    promptText,
    jobCount: prepared.prompts.length,
    ...(ask.jobOwnerId === undefined ? {} : { jobOwnerId: ask.jobOwnerId }),
  });
  return admitted ? prepared.jobs : undefined;
}

/** One imagine job per prepared prompt, each at its own speed and quality, each with its own message. */
export async function startImagines(
  interaction: ImagineInteraction,
  context: BotContext,
  prepared: PreparedJob[],
  first: "reply" | "followUp",
): Promise<void> {
  for (const [index, { prompt, speed, quality }] of prepared.entries()) {
    const job = await context.jobs.prepareImagine({
      prompt,
      requesterId: interaction.user.id,
      guildId: interaction.guildId ?? undefined,
      channelId: interaction.channelId ?? undefined,
      speed,
      quality,
    });
    await announceJob(interaction, job, context, index === 0 ? first : "followUp");
  }
}

async function privately(interaction: ImagineInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}
