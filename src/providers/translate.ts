// Midjourney syntax for backends that are not Midjourney: one table, used by every such adapter.
// A parameter is either carried over (to a knob the backend has), folded into the text, or dropped
// with a warning as data; nothing is silently lost. The README's translation table describes this.
import type { ParsedPrompt, PromptParams, PromptSegment } from "../prompt/types.ts";
import type { ProviderWarning } from "./types.ts";

/** The knobs a backend has; a parameter without one is folded into the text or warned about. */
export interface BackendKnobs {
  /** Shown in warnings, e.g. "OpenAI gpt-image-1.5". */
  label: string;
  seed: boolean;
  /** A separate negative prompt field (else `--no` is folded into the text). */
  negativePrompt: boolean;
  /** Image inputs: image prompts and --sref/--cref/--oref are sent as reference images. */
  imageInputs: boolean;
  /** How the backend writes `::` weights (parts with a negative weight go to the negative prompt); else the parts are joined with a note. */
  weights?: (segments: readonly PromptSegment[]) => { text: string; negative: string[] };
  /** Parameters the adapter maps itself (e.g. "stylize" → guidance, "tile"), beyond the ones above. */
  mapped?: readonly (keyof PromptParams)[];
}

export interface TranslatedPrompt {
  /** What to send as the prompt: the words, weights flattened, `--no` folded in when needed. */
  text: string;
  negativePrompt?: string;
  /** Width : height the person asked for (`--ar`, default 1:1). */
  aspect: { width: number; height: number };
  seed?: number;
  /** Image prompts first, then style, character and omni references: every image to send. */
  images: string[];
  warnings: ProviderWarning[];
}

/** Parameters that only steer Midjourney's own service (speed, visibility, versions handled elsewhere). */
const serviceOnly: readonly (keyof PromptParams)[] = [
  "fast",
  "relax",
  "turbo",
  "stealth",
  "public",
  "draft",
  "hd",
];
/** Parameters that have no counterpart outside Midjourney unless an adapter maps them. */
const midjourneyOnly: readonly (keyof PromptParams)[] = [
  "chaos",
  "quality",
  "stop",
  "stylize",
  "style",
  "tile",
  "weird",
  "exp",
  "repeat",
  "sw",
  "sv",
  "cw",
  "ow",
  "iw",
  "p",
];
const referenceParams = ["sref", "cref", "oref"] as const;

/** "16:9" → {16, 9}; absent or unreadable → square. */
export function aspectOf(params: PromptParams): { width: number; height: number } {
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(params.ar ?? "");
  const width = Number(match?.[1] ?? 1);
  const height = Number(match?.[2] ?? 1);
  return width > 0 && height > 0 ? { width, height } : { width: 1, height: 1 };
}

function flattenWeights(prompt: ParsedPrompt, warnings: ProviderWarning[], label: string): string {
  if (!prompt.segments?.length) return prompt.text;
  const weighted = prompt.segments.some((segment) => segment.weight !== undefined);
  if (weighted)
    warnings.push({
      type: "changed",
      feature: "::",
      details: `${label} has no prompt weights; the parts were joined`,
    });
  return prompt.segments
    .filter((segment) => (segment.weight ?? 1) > 0)
    .map((segment) => segment.text)
    .join(", ");
}

function referenceImages(params: PromptParams, knobs: BackendKnobs, warnings: ProviderWarning[]): string[] {
  const images: string[] = [];
  for (const name of referenceParams) {
    const values = params[name] ?? [];
    const urls = values.filter((value) => /^https?:\/\//i.test(value));
    if (values.length > urls.length)
      warnings.push({
        type: "unsupported",
        feature: `--${name}`,
        details: "codes work on Midjourney only; links are sent as images",
      });
    if (urls.length === 0) continue;
    if (knobs.imageInputs) images.push(...urls);
    else
      warnings.push({
        type: "unsupported",
        feature: `--${name}`,
        details: `${knobs.label} takes no reference images`,
      });
  }
  return images;
}

/** The prompt as a backend with `knobs` can take it, and what had to change. */
export function translatePrompt(prompt: ParsedPrompt, knobs: BackendKnobs): TranslatedPrompt {
  const warnings: ProviderWarning[] = [];
  const params = prompt.params;
  const weighted = prompt.segments?.length && knobs.weights ? knobs.weights(prompt.segments) : undefined;
  let text = weighted?.text ?? flattenWeights(prompt, warnings, knobs.label);
  let negativePrompt: string | undefined;
  if (knobs.negativePrompt) {
    const negatives = [...(params.no ?? []), ...(weighted?.negative ?? [])];
    if (negatives.length > 0) negativePrompt = negatives.join(", ");
  } else if (params.no?.length) {
    text = `${text}, without ${params.no.join(", without ")}`;
    warnings.push({
      type: "moved",
      feature: "--no",
      details: `${knobs.label} has no negative prompt; added to the text`,
    });
  }
  if (params.seed !== undefined && !knobs.seed)
    warnings.push({ type: "unsupported", feature: "--seed", details: `${knobs.label} takes no seed` });
  for (const name of midjourneyOnly) {
    if (params[name] === undefined || knobs.mapped?.includes(name)) continue;
    warnings.push({
      type: "unsupported",
      feature: `--${name}`,
      details: `${knobs.label} has no such setting`,
    });
  }
  for (const name of serviceOnly) {
    if (params[name] !== undefined && !knobs.mapped?.includes(name))
      warnings.push({
        type: "unsupported",
        feature: `--${name}`,
        details: `Midjourney's own setting; ${knobs.label} ignores it`,
      });
  }
  const images = [...(knobs.imageInputs ? prompt.images : []), ...referenceImages(params, knobs, warnings)];
  if (prompt.images.length > 0 && !knobs.imageInputs)
    warnings.push({
      type: "unsupported",
      feature: "image prompts",
      details: `${knobs.label} takes no images`,
    });
  return {
    text: text.trim(),
    ...(negativePrompt === undefined ? {} : { negativePrompt }),
    aspect: aspectOf(params),
    ...(knobs.seed && params.seed !== undefined ? { seed: params.seed } : {}),
    images,
    warnings,
  };
}

/** `--v` / `--niji` name Midjourney models; elsewhere they are an error naming what is configured. */
export function modelVersionProblem(
  params: PromptParams,
  label: string,
  models: readonly string[],
): string | undefined {
  const asked =
    params.niji !== undefined
      ? `--niji ${params.niji}`
      : params.v !== undefined
        ? `--v ${params.v}`
        : undefined;
  if (asked === undefined) return undefined;
  return `${asked} picks a Midjourney model, but this job runs on ${label} (models: ${models.join(", ")}). Remove ${asked}, or choose a provider in /settings.`;
}

/** Of `sizes`, the one whose shape is nearest the asked aspect (by log ratio); a warning when it differs. */
export function nearestSize<S extends { width: number; height: number }>(
  aspect: { width: number; height: number },
  sizes: readonly S[],
  label: string,
): { size: S; warning?: ProviderWarning } {
  const wanted = Math.log(aspect.width / aspect.height);
  let best = sizes[0] as S;
  for (const size of sizes) {
    if (
      Math.abs(Math.log(size.width / size.height) - wanted) <
      Math.abs(Math.log(best.width / best.height) - wanted)
    )
      best = size;
  }
  const exact = Math.abs(Math.log(best.width / best.height) - wanted) < 0.01;
  return exact
    ? { size: best }
    : {
        size: best,
        warning: {
          type: "changed",
          feature: "--ar",
          details: `${aspect.width}:${aspect.height} → ${best.width}×${best.height}, the nearest size ${label} makes`,
        },
      };
}

/** Of aspect ratio names such as "16:9", the nearest to the asked aspect; a warning when it differs. */
export function nearestAspectRatio(
  aspect: { width: number; height: number },
  ratios: readonly string[],
  label: string,
): { ratio: string; warning?: ProviderWarning } {
  const shapes = ratios.map((ratio) => {
    const [width, height] = ratio.split(":").map(Number) as [number, number];
    return { ratio, width, height };
  });
  const { size, warning } = nearestSize(aspect, shapes, label);
  return warning
    ? {
        ratio: size.ratio,
        warning: {
          ...warning,
          details: `${aspect.width}:${aspect.height} → ${size.ratio}, the nearest ${label} offers`,
        },
      }
    : { ratio: size.ratio };
}

/** Width and height near `pixels` in total for the aspect, each a multiple of `step` (sizes free-form APIs accept). */
export function sizeForAspect(
  aspect: { width: number; height: number },
  pixels: number,
  step: number,
  limits: { min: number; max: number },
): { width: number; height: number } {
  const ratio = aspect.width / aspect.height;
  const clamp = (value: number) =>
    Math.min(limits.max, Math.max(limits.min, Math.round(value / step) * step));
  const height = Math.sqrt(pixels / ratio);
  return { width: clamp(height * ratio), height: clamp(height) };
}
