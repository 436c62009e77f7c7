// OpenAI's side of a prompt: which GPT Image model takes which sizes and settings, the size nearest a
// prompt's --ar, the quality for the HD setting, the text through the one translation table
// (translate.ts), and the instructions that turn an edit into a variation, an outpaint or a blend.
import type { ParsedPrompt, PromptParams } from "../prompt/types.ts";
import {
  type BackendKnobs,
  modelVersionProblem,
  nearestSize,
  sizeForAspect,
  translatePrompt,
} from "./translate.ts";
import { ProviderError, type ProviderWarning, type Quality, type VariationStrength } from "./types.ts";

/** The reference: prompts up to 32,000 characters for the GPT Image models. */
export const openaiMaxPromptLength = 32_000;

export type OpenAiQuality = "low" | "medium" | "high";

export interface ImageSize {
  width: number;
  height: number;
}

/** What Atelier needs to know about a model; unknown names get the traits every GPT Image model has. */
export interface ModelTraits {
  /** Any WxH within gpt-image-2's limits; otherwise only the three standard sizes. */
  anySize: boolean;
  /** Takes `input_fidelity` (gpt-image-1, gpt-image-1.5); gpt-image-2 refuses it, -mini lacks it. */
  inputFidelity: boolean;
}

/** The GPT Image models of OpenAI's reference, newest first. */
export const openaiModels: Record<string, ModelTraits> = {
  "gpt-image-2": { anySize: true, inputFidelity: false },
  "gpt-image-2-2026-04-21": { anySize: true, inputFidelity: false },
  "gpt-image-1.5": { anySize: false, inputFidelity: true },
  "gpt-image-1": { anySize: false, inputFidelity: true },
  "gpt-image-1-mini": { anySize: false, inputFidelity: false },
};

export function traitsOf(model: string): ModelTraits {
  return openaiModels[model] ?? { anySize: false, inputFidelity: false };
}

export const standardSizes: readonly ImageSize[] = [
  { width: 1024, height: 1024 },
  { width: 1536, height: 1024 },
  { width: 1024, height: 1536 },
];

/** gpt-image-2: edges in multiples of 16 up to 3840, at most 3:1; about a megapixel, like 1024×1024. */
const freeSize = { pixels: 1024 * 1024, step: 16, limits: { min: 16, max: 3840 }, maxRatio: 3 };

export const sizeText = (size: ImageSize) => `${size.width}x${size.height}`;

/** The size the model makes nearest `aspect`: exact on gpt-image-2, else one of the standard three. */
export function sizeFor(
  aspect: ImageSize,
  model: string,
  feature = "--ar",
): { size: ImageSize; warning?: ProviderWarning } {
  const label = `OpenAI ${model}`;
  if (!traitsOf(model).anySize) return relabel(nearestSize(aspect, standardSizes, label), feature);
  const ratio = Math.min(freeSize.maxRatio, Math.max(1 / freeSize.maxRatio, aspect.width / aspect.height));
  const free = sizeForAspect({ width: ratio, height: 1 }, freeSize.pixels, freeSize.step, freeSize.limits);
  return relabel(nearestSize(aspect, [free], label), feature);
}

function relabel<T extends { warning?: ProviderWarning }>(result: T, feature: string): T {
  return result.warning ? { ...result, warning: { ...result.warning, feature } } : result;
}

/** `--hd` or the HD setting → high; `--q` .25/.5 → low, 1 → medium, 2+ → high; otherwise medium. */
export function qualityFor(params: PromptParams, requested: Quality | undefined): OpenAiQuality {
  if (params.hd) return "high";
  if (params.quality !== undefined)
    return params.quality < 1 ? "low" : params.quality >= 2 ? "high" : "medium";
  return requested === "hd" ? "high" : "medium";
}

/**
 * What this backend has: no seed, no negative prompt; image links (image prompts, --sref/--cref/--oref)
 * go to OpenAI as `image_url` references of an edit, which OpenAI fetches itself.
 */
export function knobsFor(model: string): BackendKnobs {
  return {
    label: `OpenAI ${model}`,
    seed: false,
    negativePrompt: false,
    imageInputs: true,
    mapped: ["quality", "hd"],
  };
}

/** The reference: an edit takes up to 16 input images. */
export const maxInputImages = 16;

export function invalid(message: string, code: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

/** A prompt as OpenAI takes it: the text, the size, the quality, and what could not be honoured. */
export interface GenerationPlan {
  text: string;
  /** Image links to send as references (an edit instead of a generation when there are any). */
  images: string[];
  size: ImageSize;
  quality: OpenAiQuality;
  warnings: ProviderWarning[];
}

function modelProblem(model: string): ProviderError | undefined {
  if (!model.startsWith("dall-e")) return undefined;
  return invalid(
    `OPENAI_IMAGE_MODEL is ${model}, a DALL·E model: Atelier runs the GPT Image models (${Object.keys(openaiModels).join(", ")}).`,
    "model",
  );
}

export function planGeneration(
  prompt: ParsedPrompt,
  requested: { quality?: Quality },
  model: string,
): { plan: GenerationPlan } | { error: ProviderError } {
  const unusable = modelProblem(model);
  if (unusable) return { error: unusable };
  const version = modelVersionProblem(prompt.params, `OpenAI ${model}`, Object.keys(openaiModels));
  if (version) return { error: invalid(version, "model_version") };
  const translated = translatePrompt(prompt, knobsFor(model));
  const { text, images } = translated;
  if (text === "" && images.length === 0) {
    return { error: invalid("OpenAI needs words to draw from: add a description.", "empty_prompt") };
  }
  if (text.length > openaiMaxPromptLength) {
    return {
      error: invalid(
        `The prompt is ${text.length} characters; OpenAI's GPT Image models take at most ${openaiMaxPromptLength}.`,
        "too_long",
      ),
    };
  }
  if (images.length > maxInputImages) {
    return {
      error: invalid(
        `The prompt has ${images.length} images; OpenAI takes at most ${maxInputImages}.`,
        "too_many_images",
      ),
    };
  }
  const sized = sizeFor(translated.aspect, model);
  const warnings = sized.warning ? [...translated.warnings, sized.warning] : translated.warnings;
  const quality = qualityFor(prompt.params, requested.quality);
  return { plan: { text, images, size: sized.size, quality, warnings } };
}

/**
 * How V differs by strength. Subtle asks to keep the composition (and, on models that have it, sends
 * `input_fidelity: high`); strong asks only to keep the subject (with `input_fidelity: low`).
 * gpt-image-2 always reads input images at high fidelity, so there only the instruction differs.
 */
export const variationInstruction: Record<VariationStrength, string> = {
  subtle:
    "Make a subtle variation of this image: keep its composition, subject, colours and style, and change only small details.",
  strong:
    "Make a strong variation of this image: keep its subject and idea, but freely change the composition, pose, lighting and details.",
};

export const outpaintInstruction =
  "Extend this picture outward: fill the transparent area so that it continues the scene seamlessly, and keep the existing part as it is.";

/** Image prompts and --sref/--cref/--oref links: what the references are for. */
export const referenceInstruction =
  "Make a new picture that uses the given images as references for its subject, composition and style.";

export const blendInstruction =
  "Blend these images into one new picture that combines their subjects, styles and colours.";

/** An edit's prompt: the instruction, then what the picture shows. */
export function editPrompt(instruction: string, text: string): string {
  return text === "" ? instruction : `${instruction} The picture: ${text}`;
}
