// The one path from an admitted ask to running jobs, shared by /imagine, /blend, /describe, the
// buttons and the remix form: queue room, then the server's rules (which count the jobs), then
// per job: write it, show its message, start it.
import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from "discord.js";
import { jobMessageText } from "../i18n/errors.ts";
import type { JobRecord } from "../jobs/record.ts";
import type { JobOrigin, JobRequest } from "../jobs/service.ts";
import type { GuildConfig } from "../team/guild-config.ts";
import { admitOrExplain } from "./admission.ts";
import type { BotContext } from "./context.ts";
import type { Delivery } from "./delivery.ts";
import { serverLanguage } from "./language.ts";
import { replyPrivately } from "./replies.ts";
import { takeOverThinking } from "./thinking.ts";
import { jobView } from "./views.ts";

export type StartingInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/** `reply`: the first job's message is the interaction's answer; `followUp`: the interaction is answered otherwise. */
export type FirstMessage = "reply" | "followUp";

export interface StartAsk {
  requests: JobRequest[];
  /** Checked against the server's banned words (the typed text and what it expanded to). */
  promptText: string;
  /** For buttons: who asked for the job the button belongs to (the server's button policy). */
  jobOwnerId?: string;
  first: FirstMessage;
  /** Runs once the jobs are admitted, before their messages (a click highlights its button). */
  acknowledge?: () => Promise<void>;
  /** The server's settings when this ask has read them already (else admission reads them). */
  guildConfig?: GuildConfig;
}

/** Admits and starts the jobs of `ask`; false when refused (the person was told why, privately). */
export async function admitAndStart(
  interaction: StartingInteraction,
  context: BotContext,
  ask: StartAsk,
): Promise<boolean> {
  const room = await context.jobs.canQueue(interaction.user.id, ask.requests.length);
  if (!room.ok) {
    await replyPrivately(interaction, (t) => jobMessageText(room, t));
    return false;
  }
  // Last check, because admission counts the jobs towards the server's limits.
  const admitted = await admitOrExplain(interaction, context, {
    promptText: ask.promptText,
    jobCount: ask.requests.length,
    ...(ask.jobOwnerId === undefined ? {} : { jobOwnerId: ask.jobOwnerId }),
    ...(ask.guildConfig === undefined ? {} : { guildConfig: ask.guildConfig }),
  });
  if (!admitted) return false;
  await ask.acknowledge?.();
  for (const [index, request] of ask.requests.entries()) {
    const mode = index === 0 ? ask.first : "followUp";
    const job = await context.jobs.create(request, originOf(interaction, mode));
    await showAndStart(interaction, context, job, mode);
  }
  return true;
}

/**
 * Where a job's message will be, known before it is posted: if the bot dies before the post is
 * recorded, the next start runs the job and shows it there. A reply is the interaction's
 * `@original`; a follow-up's id is not known yet, so a recovered one posts a new message.
 */
function originOf(interaction: StartingInteraction, mode: FirstMessage): JobOrigin {
  const delivery: Delivery = {
    applicationId: interaction.applicationId,
    channelId: interaction.channelId ?? "",
    ...(mode === "reply" ? { token: interaction.token, tokenIssuedAt: interaction.createdTimestamp } : {}),
  };
  return {
    requesterId: interaction.user.id,
    guildId: interaction.guildId ?? undefined,
    channelId: interaction.channelId ?? undefined,
    delivery,
    // The message is public: the server's language, kept with the job for edits after a restart.
    language: serverLanguage(interaction),
  };
}

/** Posts the job's first message and starts it; a message Discord refuses drops the job (nothing was sent). */
async function showAndStart(
  interaction: StartingInteraction,
  context: BotContext,
  job: JobRecord,
  mode: FirstMessage,
): Promise<void> {
  const view = jobView(job, context.presenter.capabilities(job));
  let messageId: string | undefined;
  try {
    if (mode === "reply" && (await takeOverThinking(interaction))) {
      messageId = (await interaction.editReply(view)).id;
    } else if (mode === "reply") {
      const response = await interaction.reply({ ...view, withResponse: true });
      messageId = response.resource?.message?.id;
    } else {
      messageId = (await interaction.followUp(view)).id;
    }
  } catch (error) {
    await context.jobs.discard(job.id);
    throw error;
  }
  const delivery: Delivery = {
    applicationId: interaction.applicationId,
    channelId: interaction.channelId ?? "",
    messageId,
    token: interaction.token,
    tokenIssuedAt: interaction.createdTimestamp,
  };
  await context.jobs.shown(job.id, delivery);
}
