// A submitted remix form: the edited prompt goes through the same checks as /imagine, then the
// variation or re-roll the button asked for starts with it. A mistake is answered privately and
// nothing is sent.
import { MessageFlags, type ModalSubmitInteraction } from "discord.js";
import { preparePrompts } from "../jobs/pipeline.ts";
import type { Preferences } from "../jobs/preferences.ts";
import type { JobRecord } from "../jobs/record.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import { admitOrExplain } from "./admission.ts";
import { announceJob } from "./announce.ts";
import { plan } from "./buttons.ts";
import type { BotContext } from "./context.ts";
import { decodeRemix, remixPromptField } from "./remix-modal.ts";
import { promptErrorReply, restartingReply, unknownJobReply } from "./replies.ts";
import { jobView } from "./views.ts";

async function ephemeral(interaction: ModalSubmitInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}

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
): { ok: true; prompt: ParsedPrompt } | { ok: false; reply: string } {
  const provider = context.jobs.provider(job.provider) ?? context.jobs.defaultProvider();
  const { suffix: _suffix, speed: _speed, quality: _quality, ...remixPreferences } = preferences;
  const prepared = preparePrompts(edited, provider, {
    maxJobs: context.maxJobs,
    speed: job.speed,
    quality: job.quality,
    preferences: remixPreferences,
  });
  if (!prepared.ok) return { ok: false, reply: promptErrorReply(prepared.error, edited) };
  const [prompt, ...more] = prepared.prompts;
  if (!prompt || more.length > 0) {
    const error = { message: "A remix makes one set of images: remove the {…} permutations and --repeat" };
    return { ok: false, reply: promptErrorReply(error, edited) };
  }
  return { ok: true, prompt };
}

export async function handleRemixSubmit(
  interaction: ModalSubmitInteraction,
  context: BotContext,
): Promise<void> {
  const ref = decodeRemix(interaction.customId);
  if (!ref) return;
  if (!context.accepting()) return ephemeral(interaction, restartingReply);
  const job = await context.jobs.get(ref.jobId);
  if (!job) return ephemeral(interaction, unknownJobReply);
  const preferences = await context.preferences.get(interaction.user.id);
  const next = plan(job, ref, context, preferences);
  if (next.kind === "refuse") return ephemeral(interaction, next.message);
  if (next.kind !== "followUp" || (next.action.kind !== "variation" && next.action.kind !== "reroll"))
    return ephemeral(interaction, "This button cannot be remixed any more. Click it again.");
  const edited = interaction.fields.getTextInputValue(remixPromptField);
  const checked = checkRemix(edited, job, preferences, context);
  if (!checked.ok) return ephemeral(interaction, checked.reply);

  const room = context.jobs.canQueue(interaction.user.id, 1);
  if (!room.ok) return ephemeral(interaction, room.message);
  // Last, because admission counts the job towards the guild's limits.
  const admitted = await admitOrExplain(interaction, context, {
    promptText: [edited, checked.prompt.text].join("\n"),
    jobCount: 1,
    jobOwnerId: job.requesterId,
  });
  if (!admitted) return;

  const created = await context.jobs.prepareFollowUp({
    parentId: next.parentId,
    action: { ...next.action, prompt: checked.prompt },
    requesterId: interaction.user.id,
  });
  // As for a click: highlight the used V on the message the form was opened from, then post the new job.
  const pressed = next.press ? await context.jobs.markPressed(job.id, next.press) : undefined;
  if (!interaction.isFromMessage()) return announceJob(interaction, created, context, "reply");
  if (pressed)
    await interaction.update({
      components: jobView(pressed, context.presenter.capabilities(pressed)).components,
    });
  else await interaction.deferUpdate();
  await announceJob(interaction, created, context, "followUp");
}
