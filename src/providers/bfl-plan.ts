// A prompt as BFL takes it: which model, which fields (width/height or aspect_ratio, the Kontext
// instruction of a variation, expand's pixels), and what had to change, as warnings. Midjourney
// syntax goes through the one translation table (translate.ts); nothing here does I/O.
import type { ParsedPrompt } from "../prompt/types.ts";
import {
  aspectOf,
  type BackendKnobs,
  modelVersionProblem,
  sizeForAspect,
  type TranslatedPrompt,
  translatePrompt,
} from "./translate.ts";
import {
  type BlendDimensions,
  type PanDirection,
  ProviderError,
  type ProviderWarning,
  type Quality,
  type Speed,
  type VariationStrength,
} from "./types.ts";

/** Atelier's limit: BFL publishes none for FLUX.1 (its text encoder reads about the first 512 tokens). */
export const bflMaxPromptLength = 8192;

/** The models a configured account uses for each kind of set. */
export interface BflModels {
  /** New sets (BFL_MODEL). */
  model: string;
  /** Variations, image prompts and /blend: an instruction-following editing model. */
  editModel: string;
  /** "Run as HD" and `--hd`. */
  hdModel: string;
  /** Zoom Out, Pan and Make Square. */
  expandModel: string;
}

export const defaultBflModels: BflModels = {
  model: "flux-pro-1.1",
  editModel: "flux-kontext-pro",
  hdModel: "flux-pro-1.1-ultra",
  expandModel: "flux-pro-1.0-expand",
};

/** How many reference images Kontext takes (input_image, input_image_2 … _4). */
export const maxInputImages = 4;

/** One set's request: the model path and the fields all four tasks share (each adds its seed). */
export interface SetPlan {
  model: string;
  fields: Record<string, unknown>;
  /** The first task's seed when the prompt fixed one (the others take the next ones). */
  seed?: number;
  /** Image links to send as input_image… (filled in by the adapter, which owns the bytes). */
  images?: string[];
  warnings: ProviderWarning[];
}

const targetPixels = 1024 * 1024;

type SizeShape = { kind: "size"; step: number; min: number; max: number; maxPixels?: number };

/** How a model takes its shape: width/height in steps (FLUX.1, FLUX.2), or an aspect ratio (Ultra, Kontext). */
export function shapeOf(model: string): SizeShape | { kind: "aspect" } {
  if (/ultra|kontext/.test(model)) return { kind: "aspect" };
  if (/^flux-2-/.test(model))
    return { kind: "size", step: 16, min: 64, max: 2048, maxPixels: 4 * targetPixels };
  return { kind: "size", step: 32, min: 256, max: 1440 };
}

export function invalid(message: string, code: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** An aspect in whole numbers, reduced: 16:9 → [16, 9], 1.91:1 → [191, 100]. */
export function integerRatio(aspect: { width: number; height: number }): [number, number] {
  const width = Math.round(aspect.width * 1000);
  const height = Math.round(aspect.height * 1000);
  const divisor = gcd(width, height) || 1;
  return [width / divisor, height / divisor];
}

/** Of the sizes with exactly the asked shape, the one nearest 1 MP (none under 0.75 MP). */
function exactSize(ratio: [number, number], shape: SizeShape): { width: number; height: number } | undefined {
  const [w, h] = ratio;
  let best: { width: number; height: number } | undefined;
  for (let width = shape.min; width <= shape.max; width += shape.step) {
    const height = (width * h) / w;
    if (!Number.isInteger(height) || height % shape.step !== 0) continue;
    if (height < shape.min || height > shape.max || width * height > (shape.maxPixels ?? Infinity)) continue;
    const distance = Math.abs(width * height - targetPixels);
    if (!best || distance < Math.abs(best.width * best.height - targetPixels)) best = { width, height };
  }
  return best && best.width * best.height >= 0.75 * targetPixels ? best : undefined;
}

/** width/height (or aspect_ratio) for `aspect` on `model`; a warning when the shape had to change. */
export function shapeFields(
  aspect: { width: number; height: number },
  model: string,
): { fields: Record<string, unknown>; warning?: ProviderWarning } {
  const asked = `${aspect.width}:${aspect.height}`;
  const shape = shapeOf(model);
  const ratio = integerRatio(aspect);
  if (shape.kind === "aspect") {
    const value = ratio[0] / ratio[1];
    if (value <= 21 / 9 && value >= 9 / 21) return { fields: { aspect_ratio: `${ratio[0]}:${ratio[1]}` } };
    const clamped = value > 1 ? "21:9" : "9:21";
    return {
      fields: { aspect_ratio: clamped },
      warning: {
        type: "changed",
        feature: "--ar",
        details: `${asked} → ${clamped}, the widest ${model} makes`,
      },
    };
  }
  const exact = exactSize(ratio, shape);
  if (exact) return { fields: exact };
  const size = sizeForAspect(aspect, targetPixels, shape.step, shape);
  return {
    fields: size,
    warning: {
      type: "changed",
      feature: "--ar",
      details: `${asked} → ${size.width}×${size.height}, the nearest size ${model} makes (sides in steps of ${shape.step}, ${shape.min}–${shape.max})`,
    },
  };
}

function knobsFor(model: string): BackendKnobs {
  return {
    label: `BFL ${model}`,
    seed: true,
    negativePrompt: false,
    imageInputs: true,
    mapped: ["hd", "style"],
  };
}

/** Words and settings, checked: the version, an empty or too long text. */
function translated(prompt: ParsedPrompt, models: BflModels): TranslatedPrompt {
  const known = [models.model, models.hdModel, models.editModel];
  const problem = modelVersionProblem(prompt.params, "Black Forest Labs FLUX", known);
  if (problem) throw invalid(problem, "model_version");
  const result = translatePrompt(prompt, knobsFor(models.model));
  if (result.text === "")
    throw invalid(
      "FLUX needs words: describe the picture (an image alone is not a prompt for BFL).",
      "no_text",
    );
  if (result.text.length > bflMaxPromptLength)
    throw invalid(
      `The prompt is ${result.text.length} characters; Atelier sends BFL at most ${bflMaxPromptLength}.`,
      "too_long",
    );
  return result;
}

function speedWarnings(speed: Speed | undefined): ProviderWarning[] {
  if (speed === undefined || speed === "fast") return [];
  return [{ type: "unsupported", feature: `${speed} speed`, details: "BFL has one speed" }];
}

/** `--style raw` is Ultra's `raw: true`; nothing else has a style. */
function styleFields(style: string | undefined, model: string): { raw?: true; warning?: ProviderWarning } {
  if (style === undefined) return {};
  if (style === "raw" && /ultra/.test(model)) return { raw: true };
  const details =
    style === "raw"
      ? "only FLUX1.1 [pro] Ultra (HD) has a raw mode"
      : "Midjourney's own style; BFL has no such setting";
  return { warning: { type: "unsupported", feature: `--style ${style}`, details } };
}

/** A new set from a prompt: image prompts go to the editing model, HD to Ultra, the rest to BFL_MODEL. */
export function planImagine(
  prompt: ParsedPrompt,
  settings: { speed?: Speed; quality?: Quality },
  models: BflModels,
): SetPlan {
  const words = translated(prompt, models);
  const warnings = [...words.warnings, ...speedWarnings(settings.speed)];
  const hd = prompt.params.hd === true || settings.quality === "hd";
  const images = words.images.slice(0, maxInputImages);
  if (words.images.length > maxInputImages)
    warnings.push({
      type: "unsupported",
      feature: "image prompts",
      details: `BFL's Kontext takes ${maxInputImages} images; the first ${maxInputImages} were sent`,
    });
  if (images.length > 0 && hd)
    warnings.push({
      type: "unsupported",
      feature: "HD",
      details: "prompts with images run on Kontext, which has no HD mode",
    });
  const model = images.length > 0 ? models.editModel : hd ? models.hdModel : models.model;
  const shape = shapeFields(words.aspect, model);
  const style = styleFields(prompt.params.style, model);
  for (const warning of [shape.warning, style.warning]) if (warning) warnings.push(warning);
  return {
    model,
    fields: { prompt: words.text, ...shape.fields, ...(style.raw ? { raw: true } : {}) },
    ...(words.seed === undefined ? {} : { seed: words.seed }),
    ...(images.length > 0 ? { images } : {}),
    warnings,
  };
}

const variationInstructions: Record<VariationStrength, string> = {
  subtle:
    "Make a subtle variation of this image: keep its subject, composition, colours and style, and change only small details.",
  strong:
    "Make a strong variation of this image: keep its subject and style, but freely change the composition, pose, framing and details.",
};

/**
 * V n / Vary: the editing model with the chosen image and an instruction (subtle keeps the picture,
 * strong lets it move), then the original or remixed words. Warnings only for a remix (the rest were
 * shown with the set).
 */
export function planVariation(
  base: ParsedPrompt,
  remix: ParsedPrompt | undefined,
  strength: VariationStrength,
  models: BflModels,
): SetPlan {
  const words = translated(remix ?? base, models);
  const shape = shapeFields(aspectOf((remix ?? base).params), models.editModel);
  return {
    model: models.editModel,
    fields: { prompt: `${variationInstructions[strength]} The picture: ${words.text}`, ...shape.fields },
    warnings: remix ? [...words.warnings, ...(shape.warning ? [shape.warning] : [])] : [],
  };
}

const blendAspects: Record<BlendDimensions, string> = { portrait: "2:3", square: "1:1", landscape: "3:2" };

/** /blend: the editing model with every image (input_image, input_image_2 …). */
export function planBlend(count: number, dimensions: BlendDimensions, models: BflModels): SetPlan {
  if (count > maxInputImages)
    throw invalid(
      `BFL's Kontext blends at most ${maxInputImages} images; this blend has ${count}.`,
      "too_many_images",
    );
  return {
    model: models.editModel,
    fields: {
      prompt: "Blend these images into one new picture that combines their subjects, styles and colours.",
      aspect_ratio: blendAspects[dimensions],
    },
    warnings: [],
  };
}

export type Outpaint =
  | { kind: "zoom"; factor: 1.5 | 2 }
  | { kind: "pan"; direction: PanDirection }
  | { kind: "square" };

/** Pixels added on each side of a `width`×`height` image; BFL's expand takes 0–2048 per side. */
export function expandPixels(
  outpaint: Outpaint,
  size: { width: number; height: number },
): { top: number; bottom: number; left: number; right: number } {
  const { width, height } = size;
  const split = (total: number) => [Math.floor(total / 2), Math.ceil(total / 2)] as const;
  let pixels = { top: 0, bottom: 0, left: 0, right: 0 };
  if (outpaint.kind === "zoom") {
    const [left, right] = split(Math.round(width * (outpaint.factor - 1)));
    const [top, bottom] = split(Math.round(height * (outpaint.factor - 1)));
    pixels = { top, bottom, left, right };
  } else if (outpaint.kind === "pan") {
    // Half the image again in that direction (Atelier's choice; Midjourney does not publish its own).
    const side = { left: "left", right: "right", up: "top", down: "bottom" }[
      outpaint.direction
    ] as keyof typeof pixels;
    pixels[side] = Math.round((side === "left" || side === "right" ? width : height) / 2);
  } else {
    if (width === height) throw invalid("This image is square already.", "already_square");
    const [before, after] = split(Math.abs(width - height));
    pixels =
      width > height ? { ...pixels, top: before, bottom: after } : { ...pixels, left: before, right: after };
  }
  if (Object.values(pixels).some((value) => value > 2048))
    throw invalid(
      "BFL expands an image by at most 2048 pixels on a side; this one is too large to go further.",
      "too_large",
    );
  return pixels;
}

/** Zoom Out, Pan, Make Square: the expand model around the image, guided by the set's own words. */
export function planOutpaint(base: ParsedPrompt, models: BflModels): SetPlan {
  const words = translatePrompt(base, knobsFor(models.expandModel));
  return { model: models.expandModel, fields: { prompt: words.text }, warnings: [] };
}
