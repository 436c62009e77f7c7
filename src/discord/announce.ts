// Shows a prepared job's first message, then starts the job with that message as its delivery.
// If Discord refuses the message, the job is dropped before anything reaches a provider.
import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from "discord.js";
import type { JobRecord } from "../jobs/record.ts";
import type { BotContext } from "./context.ts";
import type { Delivery } from "./delivery.ts";
import { jobView } from "./views.ts";

type RepliableInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/** `reply` for the interaction's first response, `followUp` for every further message. */
export async function announceJob(
  interaction: RepliableInteraction,
  job: JobRecord,
  context: BotContext,
  mode: "reply" | "followUp",
): Promise<void> {
  const view = jobView(job, context.presenter.capabilities(job));
  let messageId: string | undefined;
  try {
    if (mode === "reply") {
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
  await context.jobs.launch(job.id, delivery);
}
