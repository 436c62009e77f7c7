// ❌ Cancel on a waiting (or, where the provider allows it, running) job's message. Only the
// requester may cancel; the job's final "cancelled" view is delivered by the presenter like any
// other finished job, with 🔄 to run it again.
import type { ButtonInteraction } from "discord.js";
import { jobMessageText } from "../i18n/errors.ts";
import type { JobRecord } from "../jobs/record.ts";
import type { BotContext } from "./context.ts";
import { replyPrivately } from "./replies.ts";

export async function cancelFromButton(
  interaction: ButtonInteraction,
  job: JobRecord,
  context: BotContext,
): Promise<void> {
  const outcome = await context.jobs.cancel(job.id, interaction.user.id);
  if (outcome.kind === "refused") return replyPrivately(interaction, (t) => jobMessageText(outcome, t));
  // The presenter edits the message into its final view as soon as the job ends.
  await interaction.deferUpdate();
}
