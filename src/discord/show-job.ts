// /show job:<id>: posts a finished job again in this channel, with its images and working buttons
// (as Midjourney's /show does). Ids are listed in /info. A job is found only in the server it was
// made in (or, for a job made in a DM, by the person who made it), so ids do not leak across servers.
import type { ChatInputCommandInteraction } from "discord.js";
import type { JobRecord } from "../jobs/record.ts";
import type { BotContext } from "./context.ts";
import type { Delivery } from "./delivery.ts";
import type { PrivateText } from "./language.ts";
import { replyPrivately } from "./replies.ts";

/** What people paste: the id, perhaps in the backticks /info shows it in. */
export function readJobId(typed: string): string {
  return typed
    .trim()
    .replace(/^`+|`+$/g, "")
    .trim();
}

function visibleHere(job: JobRecord, interaction: ChatInputCommandInteraction): boolean {
  if (interaction.guildId) return job.guildId === interaction.guildId;
  return job.guildId === undefined && job.requesterId === interaction.user.id;
}

/** Why a job cannot be shown, or undefined when it can. */
function refusal(
  id: string,
  job: JobRecord | undefined,
  interaction: ChatInputCommandInteraction,
): PrivateText | undefined {
  if (!job || !visibleHere(job, interaction)) return (t) => t("commands:show.notHere", { id });
  if (job.state === "failed") return (t) => t("commands:show.noImages", { id });
  if (job.state !== "completed") return (t) => t("commands:show.notFinished", { id });
  return undefined;
}

export async function showJob(
  interaction: ChatInputCommandInteraction,
  typedId: string,
  context: BotContext,
): Promise<void> {
  const id = readJobId(typedId);
  const job = id === "" ? undefined : await context.jobs.get(id);
  const refused = refusal(id, job, interaction);
  if (refused !== undefined || !job) {
    await replyPrivately(interaction, refused ?? "");
    return;
  }
  // Images are fetched and composed again, which can take longer than Discord's 3 s for a reply.
  await interaction.deferReply();
  const at: Delivery = {
    applicationId: interaction.applicationId,
    channelId: interaction.channelId ?? "",
    token: interaction.token,
    tokenIssuedAt: interaction.createdTimestamp,
  };
  await context.presenter.showAgain(job, at);
}
