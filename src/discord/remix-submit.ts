// A submitted remix form: the edited prompt goes through the same checks as /imagine, then the
// variation or re-roll the button asked for starts with it. A mistake is answered privately and
// nothing is sent.
import type { ModalSubmitInteraction } from "discord.js";
import { type Language, translator } from "../i18n/index.ts";
import { preparePrompts } from "../jobs/pipeline.ts";
import type { JobRecord } from "../jobs/record.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import type { Preferences } from "../team/preferences.ts";
import { acknowledge, plan } from "./buttons.ts";
import type { BotContext } from "./context.ts";
import { personalLanguage } from "./language.ts";
import { decodeRemix, remixPromptField } from "./remix-modal.ts";
import {
  invalidPromptReply,
  promptErrorReply,
  replyPrivately,
  restartingReply,
  unknownJobReply,
} from "./replies.ts";
import { admitAndStart } from "./start-jobs.ts";

/**
 * The edited prompt, checked like /imagine with the user's options and /settings defaults, at the
 * parent's speed and quality (a follow-up runs at those). The suffix is left out: the prompt being
 * remixed already ends with it.
 */
function checkRemix(
  edited: string,
  job: JobRecord,
  preferences: Preferences,
  context: BotContext,
  language: Language,
): { ok: true; prompt: ParsedPrompt } | { ok: false; reply: string } {
  const provider = context.jobs.provider(job.provider) ?? context.jobs.defaultProvider();
  const { suffix: _suffix, speed: _speed, quality: _quality, ...remixPreferences } = preferences;
  const prepared = preparePrompts(edited, provider, {
    maxJobs: context.maxJobs,
    speed: job.speed,
    quality: job.quality,
    preferences: remixPreferences,
    trustedImageOrigins: context.trustedImageOrigins,
  });
  if (!prepared.ok) return { ok: false, reply: promptErrorReply(prepared.error, edited, language) };
  const [prompt, ...more] = prepared.prompts;
  if (!prompt || more.length > 0) {
    const problem = translator(language)("discord:remix.oneSet");
    return { ok: false, reply: invalidPromptReply(problem, edited, language) };
  }
  return { ok: true, prompt };
}

export async function handleRemixSubmit(
  interaction: ModalSubmitInteraction,
  context: BotContext,
): Promise<void> {
  const ref = decodeRemix(interaction.customId);
  if (!ref) return;
  if (!context.accepting()) return replyPrivately(interaction, restartingReply);
  const job = await context.jobs.get(ref.jobId);
  if (!job) return replyPrivately(interaction, unknownJobReply);
  const preferences = await context.preferences.get(interaction.user.id);
  const next = plan(job, ref, context, preferences);
  if (next.kind === "refuse") return replyPrivately(interaction, next.message);
  if (next.kind !== "followUp" || (next.followUp.kind !== "variation" && next.followUp.kind !== "reroll"))
    return replyPrivately(interaction, (t) => t("discord:remix.stale"));
  const edited = interaction.fields.getTextInputValue(remixPromptField);
  const checked = checkRemix(edited, job, preferences, context, personalLanguage(interaction));
  if (!checked.ok) return replyPrivately(interaction, checked.reply);

  // As for a click: highlight the used V on the message the form was opened from, then post the new job.
  const fromMessage = interaction.isFromMessage() ? interaction : undefined;
  await admitAndStart(interaction, context, {
    requests: [
      { kind: "followUp", parentId: next.parentId, followUp: next.followUp, prompt: checked.prompt },
    ],
    promptText: [edited, checked.prompt.text].join("\n"),
    jobOwnerId: job.requesterId,
    first: fromMessage ? "followUp" : "reply",
    acknowledge: fromMessage ? () => acknowledge(fromMessage, job, next.press, context) : undefined,
  });
}
