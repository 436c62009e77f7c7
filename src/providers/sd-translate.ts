// Midjourney syntax on Stable Diffusion-family backends (ComfyUI, AUTOMATIC1111/Forge/SD.Next): the one
// mapping both adapters use, on top of the shared table (translate.ts). The README's translation table
// describes it:
// - `--ar` → width × height, multiples of 64 around the checkpoint's native pixel count (1024² for
//   SDXL/FLUX, 512² for SD 1.5): the exact shape when one lies within ±20 % of that count (the
//   nearest count wins), else the rounded size with a note;
// - `--seed` → the seed; `--no` → the negative prompt; `::` weights → `(part:1.2)`, weights divided
//   by the mean of the positive ones (Midjourney's are relative), parts with a negative weight go to
//   the negative prompt;
// - `--stylize` → guidance (CFG): Midjourney's default 100 is CFG 7, each doubling takes 1.5 off
//   (more stylize, less literal), 3–11.5;
// - `--q` → sampling steps: .25 → 10, .5 → 15, 1 → 25, 2 → 40, 4 → 50;
// - `--chaos` → how far the four images spread from one seed (a variation-seed strength,
//   0.2 + 0.8 × chaos / 100) where the backend has one.
// Without `--stylize` / `--q` / `--chaos` the backend keeps its own (A1111: CFG 7, its steps; ComfyUI:
// the workflow's).
import type { ParsedPrompt, PromptParams, PromptSegment } from "../prompt/types.ts";
import { type BackendKnobs, translatePrompt } from "./translate.ts";
import type { ProviderWarning } from "./types.ts";

/** Pixels of one image at a checkpoint's native size. */
export const nativePixels = { sdxl: 1024 * 1024, sd15: 512 * 512 } as const;

export interface SdBackend {
  /** Shown in warnings, e.g. "ComfyUI". */
  label: string;
  /** Pixels of one image at the checkpoint's native size. Default 1024² (SDXL-class). */
  pixels?: number;
  /** The backend can spread the four images by a variation-seed strength (`--chaos`). */
  spread?: boolean;
  /** Further parameters the adapter maps itself (e.g. "tile"). */
  mapped?: readonly (keyof PromptParams)[];
}

export interface SdPrompt {
  prompt: string;
  negativePrompt: string;
  seed?: number;
  width: number;
  height: number;
  /** Guidance from `--stylize`; absent: the backend's own. */
  cfg?: number;
  /** Sampling steps from `--q`; absent: the backend's own. */
  steps?: number;
  /** Variation-seed strength between the four images from `--chaos` (backends with `spread` only). */
  spread?: number;
  warnings: ProviderWarning[];
}

const step = 64;
const sideLimits = { min: 64, max: 2048 };
/** How far from the native pixel count an exact shape may be (a factor either way). */
const pixelTolerance = 1.2;

/** Midjourney's default --stylize (100) is CFG 7; each doubling takes 1.5 off; 3–11.5 in halves. */
export function cfgForStylize(stylize: number): number {
  const cfg = 7 - 1.5 * Math.log2(Math.max(stylize, 12.5) / 100);
  return Math.round(Math.min(11.5, Math.max(3, cfg)) * 2) / 2;
}

const stepsByQuality: [quality: number, steps: number][] = [
  [0.25, 10],
  [0.5, 15],
  [1, 25],
  [2, 40],
  [4, 50],
];

/** `--q` as sampling steps: the entry of the nearest quality. */
export function stepsForQuality(quality: number): number {
  let best = stepsByQuality[2] as [number, number];
  for (const entry of stepsByQuality)
    if (Math.abs(Math.log(entry[0] / quality)) < Math.abs(Math.log(best[0] / quality))) best = entry;
  return best[1];
}

/** `--chaos` 0–100 as the variation-seed strength of the four images: 0 → 0.2 (close), 100 → 1 (unrelated). */
export function spreadForChaos(chaos: number): number {
  return Math.round((0.2 + (0.8 * Math.min(100, Math.max(0, chaos))) / 100) * 100) / 100;
}

/** Width × height for the aspect: multiples of 64 near `pixels`, the exact shape when one is near enough. */
export function sdSize(
  aspect: { width: number; height: number },
  pixels: number = nativePixels.sdxl,
): { width: number; height: number; exact: boolean } {
  const ratio = aspect.width / aspect.height;
  const clamp = (value: number) => Math.min(sideLimits.max, Math.max(sideLimits.min, value));
  let best: { width: number; height: number } | undefined;
  for (let height = sideLimits.min; height <= sideLimits.max; height += step) {
    const width = (height * aspect.width) / aspect.height;
    if (width % step !== 0 || width < sideLimits.min || width > sideLimits.max) continue;
    const off = Math.abs(Math.log((width * height) / pixels));
    if (off > Math.log(pixelTolerance)) continue;
    if (!best || off < Math.abs(Math.log((best.width * best.height) / pixels))) best = { width, height };
  }
  if (best) return { ...best, exact: true };
  const height = Math.sqrt(pixels / ratio);
  const rounded = {
    width: clamp(Math.round((height * ratio) / step) * step),
    height: clamp(Math.round(height / step) * step),
  };
  return { ...rounded, exact: Math.abs(Math.log(rounded.width / rounded.height / ratio)) < 0.001 };
}

const escapeBrackets = (text: string) => text.replace(/[()]/g, (bracket) => `\\${bracket}`);

/** `::` parts in SD's own weighting: `(part:1.33)`; negative weights become negative-prompt parts. */
export function sdWeights(segments: readonly PromptSegment[]): { text: string; negative: string[] } {
  const positive = segments.map((segment) => segment.weight ?? 1).filter((weight) => weight > 0);
  const mean = positive.reduce((sum, weight) => sum + weight, 0) / Math.max(1, positive.length);
  const written = (segment: PromptSegment) => {
    const weight = Math.round((Math.abs(segment.weight ?? 1) / mean) * 100) / 100;
    return weight === 1 ? segment.text : `(${escapeBrackets(segment.text)}:${weight})`;
  };
  return {
    text: segments
      .filter((segment) => (segment.weight ?? 1) > 0)
      .map(written)
      .join(", "),
    negative: segments.filter((segment) => (segment.weight ?? 1) < 0).map(written),
  };
}

/** The prompt as a Stable Diffusion backend takes it, and what had to change. */
export function translateForSd(prompt: ParsedPrompt, backend: SdBackend): SdPrompt {
  const params = prompt.params;
  const knobs: BackendKnobs = {
    label: backend.label,
    seed: true,
    negativePrompt: true,
    imageInputs: false,
    weights: sdWeights,
    mapped: [
      "stylize",
      "quality",
      ...(backend.spread ? (["chaos"] as const) : []),
      ...(backend.mapped ?? []),
    ],
  };
  const translated = translatePrompt(prompt, knobs);
  const warnings = [...translated.warnings];
  const { exact, ...size } = sdSize(translated.aspect, backend.pixels);
  if (!exact)
    warnings.push({
      type: "changed",
      feature: "--ar",
      details: `${translated.aspect.width}:${translated.aspect.height} → ${size.width}×${size.height} (sides are multiples of 64)`,
    });
  const cfg = params.stylize === undefined ? undefined : cfgForStylize(params.stylize);
  if (cfg !== undefined)
    warnings.push({ type: "changed", feature: "--stylize", details: `as guidance: CFG ${cfg} (7 is usual)` });
  const spread = backend.spread && params.chaos !== undefined ? spreadForChaos(params.chaos) : undefined;
  if (spread !== undefined)
    warnings.push({
      type: "changed",
      feature: "--chaos",
      details: `as how far the four images spread from one seed: variation strength ${spread}`,
    });
  return {
    prompt: translated.text,
    negativePrompt: translated.negativePrompt ?? "",
    ...(translated.seed === undefined ? {} : { seed: translated.seed }),
    ...size,
    ...(cfg === undefined ? {} : { cfg }),
    ...(params.quality === undefined ? {} : { steps: stepsForQuality(params.quality) }),
    ...(spread === undefined ? {} : { spread }),
    warnings,
  };
}
