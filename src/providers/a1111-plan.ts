// The AUTOMATIC1111 side of a prompt, without I/O: Midjourney syntax through the one translation table
// (src/providers/translate.ts) into a txt2img body — `--no` → negative_prompt, `--seed` → seed,
// `--ar` → width × height (multiples of 8 around the model's native area), `--stylize` → cfg_scale
// (inverted: more stylize, less literal guidance), `--tile` → tiling, `--v`/`--niji` an error — and the
// bodies of V (a variation seed on image n's seed) and U (the configured upscaler, 2×).
import type { ParsedPrompt } from "../prompt/types.ts";
import { type BackendKnobs, modelVersionProblem, sizeForAspect, translatePrompt } from "./translate.ts";
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

/** A set to make: the body without its seeds, the prompt's own seed, and what changed. */
export interface SetPlan {
  body: Omit<Txt2ImgBody, "seed" | "subseed" | "subseed_strength">;
  seed?: number;
  warnings: ProviderWarning[];
}

const label = "AUTOMATIC1111";
const knobs: BackendKnobs = {
  label,
  seed: true,
  negativePrompt: true,
  imageInputs: false,
  mapped: ["stylize", "tile"],
};

export function invalid(message: string, code?: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

/** Midjourney's default --stylize (100) is A1111's default CFG 7; each doubling takes 1.5 off. */
export function cfgForStylize(stylize: number | undefined): number {
  if (stylize === undefined) return 7;
  const cfg = 7 - 1.5 * Math.log2(Math.max(stylize, 12.5) / 100);
  return Math.round(Math.min(11.5, Math.max(3, cfg)) * 2) / 2;
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

function sizeOf(aspect: { width: number; height: number }, defaults: A1111Defaults) {
  const size = sizeForAspect(aspect, defaults.nativeSide ** 2, 8, { min: 64, max: 2048 });
  const off = Math.abs(Math.log(size.width / size.height) - Math.log(aspect.width / aspect.height)) > 0.02;
  const warning: ProviderWarning[] = off
    ? [
        {
          type: "changed",
          feature: "--ar",
          details: `${aspect.width}:${aspect.height} → ${size.width}×${size.height} (sides are multiples of 8)`,
        },
      ]
    : [];
  return { size, warning };
}

/** The prompt as a txt2img body, or the reason it cannot be sent. */
export function planSet(
  prompt: ParsedPrompt,
  requested: { speed?: Speed; quality?: Quality },
  defaults: A1111Defaults,
): { plan: SetPlan } | { error: ProviderError } {
  const version = modelVersionProblem(prompt.params, label, defaults.models());
  if (version) return { error: invalid(version, "model_version") };
  const translated = translatePrompt(prompt, knobs);
  if (translated.text.length > a1111MaxPromptLength)
    return {
      error: invalid(
        `The prompt is ${translated.text.length} characters; Atelier sends ${label} at most ${a1111MaxPromptLength}.`,
        "too_long",
      ),
    };
  const { size, warning } = sizeOf(translated.aspect, defaults);
  const stylize = prompt.params.stylize;
  const cfg = cfgForStylize(stylize);
  const stylized: ProviderWarning[] =
    stylize === undefined
      ? []
      : [
          {
            type: "changed",
            feature: "--stylize",
            details: `as guidance: cfg_scale ${cfg} (A1111's default is 7)`,
          },
        ];
  const body: SetPlan["body"] = {
    prompt: translated.text,
    negative_prompt: translated.negativePrompt ?? "",
    ...size,
    batch_size: imagesPerSet,
    n_iter: 1,
    steps: defaults.steps,
    cfg_scale: cfg,
    ...(prompt.params.tile ? { tiling: true } : {}),
    send_images: true,
    save_images: false,
  };
  const warnings = mergeWarnings(
    translated.warnings,
    warning,
    stylized,
    settingWarnings(requested, prompt.params.hd !== undefined),
  );
  return { plan: { body, ...(translated.seed === undefined ? {} : { seed: translated.seed }), warnings } };
}

export function planned(result: { plan: SetPlan } | { error: ProviderError }): SetPlan {
  if ("error" in result) throw result.error;
  return result.plan;
}

/** Image n's seed in a set: seed + n − 1 for a plain set; a variation set's images share its seed. */
export function seedOfImage(set: { seed: number; strength: number }, index: number): number {
  return set.strength === 0 ? set.seed + index - 1 : set.seed;
}

/** Words for a variation of a variation: A1111 has one variation seed, so it varies around the first set's image. */
export const nestedVariationWarning: ProviderWarning = {
  type: "changed",
  feature: "Vary",
  details:
    "this set is itself a variation; A1111 varies around its seed, so the new set may drift from the image",
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
