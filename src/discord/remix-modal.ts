// Remix mode: with it on, V, Vary (Subtle/Strong) and 🔄 first open a form holding the prompt, so
// the follow-up can run an edited one. The form's custom_id works like a job button's (`at:`): it
// names the clicked job, the button and the image, as `rm:<jobId>:<code>[:<index>]`.
import {
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  ComponentType,
  TextInputStyle,
} from "discord.js";
import type { FollowUp, JobRecord } from "../jobs/record.ts";
import type { Preferences } from "../team/preferences.ts";
import type { BotContext } from "./context.ts";
import { type ButtonAction, type ButtonRef, jobRefCodec } from "./custom-id.ts";
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

function title(ref: ButtonRef): string {
  if (ref.action === "reroll") return "Remix: run again";
  return ref.index !== undefined && ref.action === "variation"
    ? `Remix: vary image ${ref.index}`
    : "Remix: vary";
}

export function remixModal(ref: ButtonRef, prompt: string): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeRemix(ref),
    title: title(ref),
    components: [
      {
        type: ComponentType.Label,
        label: "Prompt",
        description: "Edit the prompt; the new images follow what you submit.",
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
    await replyPrivately(
      interaction,
      `This prompt is longer than the ${remixPromptLimit} characters a Discord form holds, so it cannot be remixed. Turn Remix mode off in /settings to use this button as is.`,
    );
    return true;
  }
  await interaction.showModal(remixModal(ref, job.prompt));
  return true;
}
