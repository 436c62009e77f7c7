// ComfyUI's side of a prompt: what it can do (capabilities), what it refuses outright, and the values
// a prompt puts into the workflow (comfyui-workflow.ts places them).
import { randomInt } from "node:crypto";
import type { ParsedPrompt } from "../prompt/types.ts";
import type { Placement } from "./comfyui-workflow.ts";
import { translateForSd } from "./sd-translate.ts";
import { modelVersionProblem } from "./translate.ts";
import {
  type DeclaredCapabilities,
  ProviderError,
  type ProviderWarning,
  type VariationStrength,
} from "./types.ts";

/** How far V moves away from the chosen image: KSampler `denoise`. */
export const variationDenoise: Record<VariationStrength, number> = { subtle: 0.35, strong: 0.65 };
export const setSize = 4;
const maxPromptLength = 6000;

export function capabilities(maxTaskDurationMs: number): DeclaredCapabilities {
  return {
    upscale: "upscale",
    upscaleStyles: [],
    variation: ["subtle", "strong"],
    reroll: true,
    hd: false,
    outpaint: false,
    remix: true,
    progressPreview: true,
    speeds: [],
    draft: false,
    maxPromptLength,
    passThroughParams: [],
    maxTaskDurationMs,
    imagesPerSet: setSize,
  };
}

export const invalid = (message: string, code: string) => new ProviderError("invalid", message, { code });

export interface Plan {
  /** Without the checkpoint: that depends on the machine the work lands on. */
  placement: Omit<Placement, "checkpoint">;
  warnings: ProviderWarning[];
}

export function planOf(
  prompt: ParsedPrompt,
  megapixels: number,
  checkpoint: string | undefined,
): { plan: Plan } | { error: ProviderError } {
  if (prompt.text.length > maxPromptLength)
    return {
      error: invalid(
        `The prompt is ${prompt.text.length} characters; ComfyUI jobs take at most ${maxPromptLength}.`,
        "prompt_length",
      ),
    };
  const version = modelVersionProblem(prompt.params, "ComfyUI", [checkpoint ?? "the workflow's checkpoint"]);
  if (version) return { error: invalid(version, "model_version") };
  const sd = translateForSd(prompt, { label: "ComfyUI", pixels: megapixels * 1024 * 1024 });
  const placement = {
    prompt: sd.prompt,
    negative: sd.negativePrompt,
    seed: sd.seed ?? randomInt(0, 2 ** 32),
    batch: setSize,
    width: sd.width,
    height: sd.height,
    ...(sd.cfg === undefined ? {} : { cfg: sd.cfg }),
    ...(sd.steps === undefined ? {} : { steps: sd.steps }),
  };
  return { plan: { placement, warnings: sd.warnings } };
}

/** The plan of a prompt that must be valid: a refusal is thrown. */
export function plannedOrThrow(
  prompt: ParsedPrompt,
  megapixels: number,
  checkpoint: string | undefined,
): Plan {
  const result = planOf(prompt, megapixels, checkpoint);
  if ("error" in result) throw result.error;
  return result.plan;
}
