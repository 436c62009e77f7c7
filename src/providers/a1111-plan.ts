// The AUTOMATIC1111 side of a prompt, without I/O: Midjourney syntax through the Stable Diffusion
// mapping ComfyUI shares (sd-translate.ts: `--no`, `--seed`, `--ar`, `::` weights, `--stylize` → cfg_scale,
// `--q` → steps, `--chaos` → subseed_strength between the four images) into a txt2img body, plus
// `--tile` → tiling and `--v`/`--niji` an error — and the bodies of V (a variation seed on image n's
// seed) and U (the configured upscaler, 2×).
import type { ParsedPrompt } from "../prompt/types.ts";
import { translateForSd } from "./sd-translate.ts";
import { modelVersionProblem } from "./translate.ts";
import {
  mergeWarnings,
  ProviderError,
  type ProviderWarning,
  type Quality,
  type Speed,
  type VariationStrength,
} from "./types.ts";

/** Longest prompt sent: A1111 itself takes any length (in 75-token chunks). */
export const a1111MaxPromptLength = 8192;
export const imagesPerSet = 4;

/** `subseed_strength` of V: how far the four variations move from image n (A1111's "Variation strength"). */
export const variationStrength: Record<VariationStrength, number> = { subtle: 0.15, strong: 0.4 };

/** What the txt2img body is made with beyond the prompt. */
export interface A1111Defaults {
  /** Side of a square image at the model's native area (SDXL 1024; SD 1.5 512). */
  nativeSide: number;
  /** Sampling steps without `--q`. */
  steps: number;
  /** Names of the checkpoints, for the --v/--niji error. */
  models: () => readonly string[];
}

export interface Txt2ImgBody {
  prompt: string;
  negative_prompt: string;
  seed: number;
  subseed: number;
  subseed_strength: number;
  width: number;
  height: number;
  batch_size: number;
  n_iter: number;
  steps: number;
  cfg_scale: number;
  tiling?: boolean;
  send_images: true;
  save_images: false;
}

/** A set to make: the body without its seeds, the prompt's own seed and spread (`--chaos`), and what changed. */
export interface SetPlan {
  body: Omit<Txt2ImgBody, "seed" | "subseed" | "subseed_strength">;
  seed?: number;
  /** subseed_strength of the set: the four images share the seed and differ by this much. */
  spread?: number;
  warnings: ProviderWarning[];
}

const label = "AUTOMATIC1111";

export function invalid(message: string, code?: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

function settingWarnings(requested: { speed?: Speed; quality?: Quality }, hd: boolean): ProviderWarning[] {
  const warnings: ProviderWarning[] = [];
  if (requested.speed !== undefined && requested.speed !== "fast")
    warnings.push({
      type: "unsupported",
      feature: `${requested.speed} speed`,
      details: "your own machines run at one speed",
    });
  if (hd || requested.quality === "hd")
    warnings.push({
      type: "unsupported",
      feature: "HD",
      details: `${label} here makes the model's native size`,
    });
  return warnings;
}

/** The prompt as a txt2img body, or the reason it cannot be sent. */
export function planSet(
  prompt: ParsedPrompt,
  requested: { speed?: Speed; quality?: Quality },
  defaults: A1111Defaults,
): { plan: SetPlan } | { error: ProviderError } {
  const version = modelVersionProblem(prompt.params, label, defaults.models());
  if (version) return { error: invalid(version, "model_version") };
  const sd = translateForSd(prompt, {
    label,
    pixels: defaults.nativeSide ** 2,
    spread: true,
    mapped: ["tile"],
  });
  if (sd.prompt.length > a1111MaxPromptLength)
    return {
      error: invalid(
        `The prompt is ${sd.prompt.length} characters; Atelier sends ${label} at most ${a1111MaxPromptLength}.`,
        "too_long",
      ),
    };
  const body: SetPlan["body"] = {
    prompt: sd.prompt,
    negative_prompt: sd.negativePrompt,
    width: sd.width,
    height: sd.height,
    batch_size: imagesPerSet,
    n_iter: 1,
    steps: sd.steps ?? defaults.steps,
    cfg_scale: sd.cfg ?? 7,
    ...(prompt.params.tile ? { tiling: true } : {}),
    send_images: true,
    save_images: false,
  };
  const warnings = mergeWarnings(sd.warnings, settingWarnings(requested, prompt.params.hd !== undefined));
  return {
    plan: {
      body,
      ...(sd.seed === undefined ? {} : { seed: sd.seed }),
      ...(sd.spread === undefined ? {} : { spread: sd.spread }),
      warnings,
    },
  };
}

export function planned(result: { plan: SetPlan } | { error: ProviderError }): SetPlan {
  if ("error" in result) throw result.error;
  return result.plan;
}

/** Image n's seed in a set: seed + n − 1 for a plain set; a variation set's images share its seed. */
export function seedOfImage(set: { seed: number; strength: number }, index: number): number {
  return set.strength === 0 ? set.seed + index - 1 : set.seed;
}

/** Words for a variation of a set whose images share a seed (a variation, or `--chaos`): A1111 has one variation seed, so it varies around that shared seed. */
export const nestedVariationWarning: ProviderWarning = {
  type: "changed",
  feature: "Vary",
  details:
    "this set's images share one seed (a variation or --chaos); A1111 varies around that seed, so the new set may drift from the image",
};

export interface UpscaleBody {
  image: string;
  resize_mode: 0;
  upscaling_resize: number;
  upscaler_1: string;
  show_extras_results: true;
}

export function upscaleBody(image: Buffer, upscaler: string): UpscaleBody {
  return {
    image: image.toString("base64"),
    resize_mode: 0,
    upscaling_resize: 2,
    upscaler_1: upscaler,
    show_extras_results: true,
  };
}
