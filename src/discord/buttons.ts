// Button clicks: U/V/🔄 on grids, Vary/Upscale/HD on single images, 1–4 on /describe results.
// The custom_id names a job and an action; the job record says everything else, so old messages
// keep working.
import type { ButtonInteraction, ModalMessageModalSubmitInteraction } from "discord.js";
import { type FollowUp, followUpIndex, type JobRecord } from "../jobs/record.ts";
import { type Preferences, variationStrength } from "../team/preferences.ts";
import { admitOrExplain } from "./admission.ts";
import { cancelFromButton } from "./cancel.ts";
import type { BotContext } from "./context.ts";
import { type ButtonRef, decodeButton } from "./custom-id.ts";
import { imaginePrompts } from "./imagine-flow.ts";
import type { PrivateText } from "./language.ts";
import { offerRemix } from "./remix-modal.ts";
import { replyPrivately, restartingReply, unknownJobReply } from "./replies.ts";
import { admitAndStart } from "./start-jobs.ts";
import { imageCount, jobView } from "./views.ts";

/** One click per button per message within this window: Discord users double-click. */
const doubleClickWindowMs = 5_000;
const recentClicks = new Map<string, number>();

function isDoubleClick(interaction: ButtonInteraction): boolean {
  // Per user: someone else's click (perhaps refused by the guild's button policy) is not a double click.
  const key = `${interaction.message.id}:${interaction.customId}:${interaction.user.id}`;
  const now = Date.now();
  for (const [known, at] of recentClicks) if (now - at > doubleClickWindowMs) recentClicks.delete(known);
  if (recentClicks.has(key)) return true;
  recentClicks.set(key, now);
  return false;
}

/** A follow-up of a single image that was only separated (no task of its own) continues the grid it came from. */
function sourceOf(job: JobRecord): { parentId: string; index: number } {
  if (job.kind === "upscale" && !job.taskId && job.parentId)
    return { parentId: job.parentId, index: followUpIndex(job) ?? 1 };
  return { parentId: job.id, index: 1 };
}

/** What each outpainting button asks for (on a single image). */
const outpaintOf = {
  zoom15: { kind: "zoom", factor: 1.5 },
  zoom2: { kind: "zoom", factor: 2 },
  panLeft: { kind: "pan", direction: "left" },
  panRight: { kind: "pan", direction: "right" },
  panUp: { kind: "pan", direction: "up" },
  panDown: { kind: "pan", direction: "down" },
  square: { kind: "square" },
} as const satisfies Record<string, FollowUp>;

export type Plan =
  | { kind: "followUp"; parentId: string; followUp: FollowUp; press?: string }
  | { kind: "retry" }
  | { kind: "imagine"; prompt: string; press: string }
  | { kind: "cancel" }
  | { kind: "refuse"; message: PrivateText };

/** What a click on `ref` asks for; `preferences` are the clicker's (a plain V uses their variation strength). */
export function plan(
  job: JobRecord,
  ref: ButtonRef,
  context: BotContext,
  preferences: Preferences = {},
): Plan {
  const index = ref.index ?? 1;
  if (ref.action === "cancel") return { kind: "cancel" };
  if (ref.action === "reroll") {
    // 🔄 on a /describe result describes the same image again.
    if (job.state === "failed" || job.kind === "describe") return { kind: "retry" };
    return { kind: "followUp", parentId: job.id, followUp: { kind: "reroll" } };
  }
  if (job.state !== "completed") return { kind: "refuse", message: (t) => t("discord:reply.notFinished") };
  const outOfRange = index < 1 || index > imageCount(job);
  switch (ref.action) {
    case "upscale":
      if (outOfRange) return { kind: "refuse", message: (t) => t("discord:reply.noImage", { index }) };
      return { kind: "followUp", parentId: job.id, followUp: { kind: "upscale", index }, press: `u${index}` };
    case "variation":
      if (outOfRange) return { kind: "refuse", message: (t) => t("discord:reply.noImage", { index }) };
      return {
        kind: "followUp",
        parentId: job.id,
        followUp: {
          kind: "variation",
          index,
          strength: variationStrength(preferences, context.presenter.capabilities(job).variation) ?? "strong",
        },
        press: `v${index}`,
      };
    case "varySubtle":
    case "varyStrong": {
      const source = sourceOf(job);
      const strength = ref.action === "varySubtle" ? "subtle" : "strong";
      return {
        kind: "followUp",
        parentId: source.parentId,
        followUp: { kind: "variation", index: source.index, strength },
      };
    }
    case "upscaleSubtle":
    case "upscaleCreative": {
      const style = ref.action === "upscaleSubtle" ? "subtle" : "creative";
      return { kind: "followUp", parentId: job.id, followUp: { kind: "upscale", index: 1, style } };
    }
    case "hd":
      return { kind: "followUp", parentId: job.id, followUp: { kind: "hd" } };
    case "zoom15":
    case "zoom2":
    case "panLeft":
    case "panRight":
    case "panUp":
    case "panDown":
    case "square":
      return { kind: "followUp", parentId: job.id, followUp: outpaintOf[ref.action] };
    case "imagineDescription": {
      const prompt = job.descriptions?.[index - 1];
      if (!prompt) return { kind: "refuse", message: (t) => t("discord:reply.noDescription", { index }) };
      return { kind: "imagine", prompt, press: `d${index}` };
    }
    case "providerAction": {
      const button = job.buttons?.[index];
      if (!button) return { kind: "refuse", message: (t) => t("discord:reply.noProviderButton") };
      return {
        kind: "followUp",
        parentId: job.id,
        followUp: { kind: "action", customId: button.customId },
      };
    }
  }
}

export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const ref = decodeButton(interaction.customId);
  if (!ref) return;
  if (!context.accepting()) return replyPrivately(interaction, restartingReply);
  if (isDoubleClick(interaction)) {
    await interaction.deferUpdate();
    return;
  }
  const job = await context.jobs.get(ref.jobId);
  if (!job) return replyPrivately(interaction, unknownJobReply);
  const preferences = await context.preferences.get(interaction.user.id);
  const next = plan(job, ref, context, preferences);
  if (next.kind === "refuse") return replyPrivately(interaction, next.message);
  if (next.kind === "cancel") return cancelFromButton(interaction, job, context);
  if (next.kind === "imagine") return imagineDescription(interaction, job, next, context);
  // Remix mode: the follow-up starts when the edited prompt is submitted (remix-submit.ts), but a
  // click the server's rules refuse anyway is refused now, before anyone types into a form.
  if (next.kind === "followUp" && preferences.remix) {
    const ask = { promptText: job.prompt, jobCount: 1, jobOwnerId: job.requesterId };
    if (!(await admitOrExplain(interaction, context, ask, "precheck"))) return;
    if (await offerRemix(interaction, job, ref, next.followUp, preferences, context)) return;
  }
  await admitAndStart(interaction, context, {
    requests: [
      next.kind === "retry"
        ? { kind: "retry", jobId: job.id }
        : { kind: "followUp", parentId: next.parentId, followUp: next.followUp },
    ],
    promptText: job.prompt,
    jobOwnerId: job.requesterId,
    first: "followUp",
    acknowledge: () =>
      acknowledge(interaction, job, next.kind === "followUp" ? next.press : undefined, context),
  });
}

/** Answers a click on its own message, highlighting the used button (`u2`, `d1`) as Midjourney does. */
export async function acknowledge(
  interaction: ButtonInteraction | ModalMessageModalSubmitInteraction,
  job: JobRecord,
  press: string | undefined,
  context: BotContext,
): Promise<void> {
  const pressed = press ? await context.jobs.markPressed(job.id, press) : undefined;
  if (pressed)
    await interaction.update({
      components: jobView(pressed, context.presenter.capabilities(pressed)).components,
    });
  else await interaction.deferUpdate();
}

/** `n` on a /describe result: an /imagine of suggestion n, checked and admitted like a typed one. */
async function imagineDescription(
  interaction: ButtonInteraction,
  job: JobRecord,
  pick: { prompt: string; press: string },
  context: BotContext,
): Promise<void> {
  await imaginePrompts(interaction, context, {
    input: pick.prompt,
    typed: pick.prompt,
    jobOwnerId: job.requesterId,
    first: "followUp",
    acknowledge: () => acknowledge(interaction, job, pick.press, context),
  });
}
