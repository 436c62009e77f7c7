// Remix mode: with it on, V, Vary (Subtle/Strong) and 🔄 first open a form holding the prompt, so
// the follow-up can run an edited one. The form's custom_id works like a job button's (`at:`): it
// names the clicked job, the button and the image, as `rm:<jobId>:<code>[:<index>]`.
import {
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  ComponentType,
  MessageFlags,
  TextInputStyle,
} from "discord.js";
import type { Preferences } from "../jobs/preferences.ts";
import type { JobRecord } from "../jobs/record.ts";
import type { FollowUpAction } from "../jobs/service.ts";
import type { BotContext } from "./context.ts";
import { type ButtonAction, type ButtonRef, buttonActions } from "./custom-id.ts";

const prefix = "rm";

/** The buttons whose follow-up takes a prompt. */
const remixable: readonly ButtonAction[] = ["variation", "varySubtle", "varyStrong", "reroll"];

/** The form's one text input. */
export const remixPromptField = "prompt";

/** Discord's longest text input value. */
export const remixPromptLimit = 4000;

const actionByCode = new Map<string, ButtonAction>(
  remixable.map((action) => [buttonActions[action], action]),
);

export function encodeRemix(ref: ButtonRef): string {
  const parts = [prefix, ref.jobId, buttonActions[ref.action]];
  if (ref.index !== undefined) parts.push(String(ref.index));
  return parts.join(":");
}

/** Undefined for ids that are not remix forms, or that name a button which takes no prompt. */
export function decodeRemix(customId: string): ButtonRef | undefined {
  const [head, jobId, code, index, ...rest] = customId.split(":");
  if (head !== prefix || !jobId || !code || rest.length > 0) return undefined;
  const action = actionByCode.get(code);
  if (!action || !/^[0-9a-z]{4,32}$/.test(jobId)) return undefined;
  if (index === undefined) return { jobId, action };
  if (!/^\d{1,2}$/.test(index)) return undefined;
  return { jobId, action, index: Number(index) };
}

export function isRemixForm(customId: string): boolean {
  return customId.startsWith(`${prefix}:`);
}

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
  action: FollowUpAction,
  preferences: Preferences,
  context: BotContext,
): Promise<boolean> {
  if (!remixable.includes(ref.action) || (action.kind !== "variation" && action.kind !== "reroll"))
    return false;
  if (!context.presenter.capabilities(job).remix) return false;
  if (!preferences.remix) return false;
  if (job.prompt.length > remixPromptLimit) {
    await interaction.reply({
      content: `This prompt is longer than the ${remixPromptLimit} characters a Discord form holds, so it cannot be remixed. Turn Remix mode off in /settings to use this button as is.`,
      flags: MessageFlags.Ephemeral,
    });
    return true;
  }
  await interaction.showModal(remixModal(ref, job.prompt));
  return true;
}
