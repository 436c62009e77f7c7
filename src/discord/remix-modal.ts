// Remix mode: with it on, V, Vary (Subtle/Strong) and 🔄 first open a form holding the prompt, so
// the follow-up can run an edited one. The form's custom_id works like a job button's (`at:`): it
// names the clicked job, the button and the image, as `rm:<jobId>:<code>[:<index>]`.
import {
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  ComponentType,
  TextInputStyle,
} from "discord.js";
import { type Language, type Translate, translator } from "../i18n/index.ts";
import type { FollowUp, JobRecord } from "../jobs/record.ts";
import type { Preferences } from "../team/preferences.ts";
import type { BotContext } from "./context.ts";
import { type ButtonAction, type ButtonRef, jobRefCodec } from "./custom-id.ts";
import { personalLanguage } from "./language.ts";
import { replyPrivately } from "./replies.ts";

/** The buttons whose follow-up takes a prompt. */
const remixable: readonly ButtonAction[] = ["variation", "varySubtle", "varyStrong", "reroll"];

const remixCodec = jobRefCodec("rm", remixable);

/** The form's one text input. */
export const remixPromptField = "prompt";

/** Discord's longest text input value. */
export const remixPromptLimit = 4000;

export const encodeRemix = remixCodec.encode;

/** Undefined for ids that are not remix forms, or that name a button which takes no prompt. */
export const decodeRemix = remixCodec.decode;

export const isRemixForm = remixCodec.owns;

function title(ref: ButtonRef, t: Translate): string {
  if (ref.action === "reroll") return t("discord:remix.rerollTitle");
  return ref.index !== undefined && ref.action === "variation"
    ? t("discord:remix.varyImageTitle", { index: ref.index })
    : t("discord:remix.varyTitle");
}

/** The form, in the language of the person who opens it. */
export function remixModal(
  ref: ButtonRef,
  prompt: string,
  language: Language = "en",
): APIModalInteractionResponseCallbackData {
  const t = translator(language);
  return {
    custom_id: encodeRemix(ref),
    title: title(ref, t),
    components: [
      {
        type: ComponentType.Label,
        label: t("discord:remix.promptLabel"),
        description: t("discord:remix.promptHint"),
        component: {
          type: ComponentType.TextInput,
          custom_id: remixPromptField,
          style: TextInputStyle.Paragraph,
          value: prompt,
          min_length: 1,
          max_length: remixPromptLimit,
          required: true,
        },
      },
    ],
  };
}

/**
 * Opens the remix form instead of starting the follow-up when the clicker has remix on, the button
 * takes a prompt and the provider can remix. Returns whether the click was answered.
 */
export async function offerRemix(
  interaction: ButtonInteraction,
  job: JobRecord,
  ref: ButtonRef,
  followUp: FollowUp,
  preferences: Preferences,
  context: BotContext,
): Promise<boolean> {
  if (!remixable.includes(ref.action) || (followUp.kind !== "variation" && followUp.kind !== "reroll"))
    return false;
  if (!context.presenter.capabilities(job).remix) return false;
  if (!preferences.remix) return false;
  if (job.prompt.length > remixPromptLimit) {
    await replyPrivately(interaction, (t) => t("discord:remix.tooLong", { limit: remixPromptLimit }));
    return true;
  }
  await interaction.showModal(remixModal(ref, job.prompt, personalLanguage(interaction)));
  return true;
}
