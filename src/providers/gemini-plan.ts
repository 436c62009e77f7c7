// Gemini's side of a prompt: what each image model takes (aspect ratios, image sizes), the prompt as
// Gemini can take it (through the one translation table, src/providers/translate.ts), the words sent
// for a variation or a blend, and the generateContent body. No I/O here.
import type { ParsedPrompt } from "../prompt/types.ts";
import { type BackendKnobs, modelVersionProblem, nearestAspectRatio, translatePrompt } from "./translate.ts";
import {
  type BlendDimensions,
  type ImageInput,
  mergeWarnings,
  ProviderError,
  type ProviderWarning,
  type Quality,
  type Speed,
  type VariationStrength,
} from "./types.ts";

/**
 * Longest prompt Atelier sends. Gemini's own limit is in tokens (32,768 input tokens on
 * gemini-2.5-flash-image, more on the 3.x models): 8192 characters stay under it in any language,
 * and match the prompt language's default.
 */
export const geminiMaxPromptLength = 8192;

/** What one image model takes. */
export interface GeminiModelFacts {
  aspectRatios: readonly string[];
  /** `imageConfig.imageSize` values; empty when the model makes one size only (the field is not sent). */
  imageSizes: readonly string[];
}

const standardRatios = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];

/**
 * By model family, as Google's image-generation guide and js-genai's ImageConfig list them. A
 * configured name matches when it starts with the family ("gemini-3-pro-image-preview" is a
 * gemini-3-pro-image). Models not listed get the ten standard ratios and no image size.
 */
const families: readonly [prefix: string, facts: GeminiModelFacts][] = [
  [
    "gemini-3.1-flash-image",
    { aspectRatios: [...standardRatios, "1:4", "4:1", "1:8", "8:1"], imageSizes: ["512", "1K", "2K", "4K"] },
  ],
  ["gemini-3-pro-image", { aspectRatios: standardRatios, imageSizes: ["1K", "2K", "4K"] }],
  ["nano-banana-pro", { aspectRatios: standardRatios, imageSizes: ["1K", "2K", "4K"] }],
  ["gemini-2.5-flash-image", { aspectRatios: standardRatios, imageSizes: [] }],
];

export function modelFacts(model: string): GeminiModelFacts {
  const found = families.find(([prefix]) => model.startsWith(prefix));
  return found?.[1] ?? { aspectRatios: standardRatios, imageSizes: [] };
}

/** The image size "Run as HD" and quality "hd" ask for: Midjourney's HD is 2048 px, Gemini's 2K. */
export const hdImageSize = "2K";

/** What the model is asked to make, before any image is attached. */
export interface GeminiPlan {
  text: string;
  aspectRatio: string;
  imageSize?: string;
  warnings: ProviderWarning[];
}

/** The configured model, as the settings, warnings and errors name it. */
export interface GeminiModel {
  name: string;
  facts: GeminiModelFacts;
  /** "Gemini gemini-3.1-flash-image", for the translation table's warnings. */
  label: string;
}

export function geminiModel(name: string): GeminiModel {
  return { name, facts: modelFacts(name), label: `Gemini ${name}` };
}

export function invalid(message: string, code?: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

function knobs(model: GeminiModel): BackendKnobs {
  // No seed and no negative prompt in Gemini's request; `--hd` is read as the HD setting below.
  return { label: model.label, seed: false, negativePrompt: false, imageInputs: false, mapped: ["hd"] };
}

const referenceFeatures = new Set(["--sref", "--cref", "--oref"]);

/**
 * The table's words for images fit backends that take none; Gemini takes images (V, /blend), but
 * Atelier never downloads a prompt's links for it. Say so, and what to do instead.
 */
function imageWarnings(warnings: ProviderWarning[]): ProviderWarning[] {
  return warnings.map((warning) => {
    if (warning.feature === "image prompts")
      return { ...warning, details: "Atelier does not fetch links for Gemini; attach the images to /blend" };
    if (referenceFeatures.has(warning.feature))
      return {
        ...warning,
        details: "Midjourney codes and reference links are not used with Gemini; attach references to /blend",
      };
    return warning;
  });
}

/** A speed the person chose that Gemini has no counterpart for (fast is what it does). */
function speedWarnings(speed: Speed | undefined): ProviderWarning[] {
  if (speed === undefined || speed === "fast") return [];
  return [{ type: "unsupported", feature: `${speed} speed`, details: "Gemini has no speed settings" }];
}

function sizeFor(model: GeminiModel, quality: Quality): { imageSize?: string; warnings: ProviderWarning[] } {
  if (quality !== "hd") return { warnings: [] };
  if (model.facts.imageSizes.includes(hdImageSize)) return { imageSize: hdImageSize, warnings: [] };
  return {
    warnings: [{ type: "unsupported", feature: "HD", details: `${model.name} makes one image size only` }],
  };
}

/**
 * The prompt as Gemini takes it: words (weights joined, `--no` folded in), the nearest aspect ratio
 * the model offers, a larger image size for HD, and a warning for everything left out or changed.
 * `needsText`: a plain generation has nothing to go on without words (a variation has its image).
 */
export function planGeneration(
  prompt: ParsedPrompt,
  requested: { speed?: Speed; quality?: Quality },
  model: GeminiModel,
  needsText = true,
): { plan: GeminiPlan } | { error: ProviderError } {
  const version = modelVersionProblem(prompt.params, model.label, [model.name]);
  if (version) return { error: invalid(version, "model_version") };
  const translated = translatePrompt(prompt, knobs(model));
  if (needsText && translated.text === "")
    return {
      error: invalid(
        "Gemini needs words to go on: image links in a prompt are not sent to it. Describe the image, or attach the images to /blend.",
        "no_text",
      ),
    };
  if (translated.text.length > geminiMaxPromptLength)
    return {
      error: invalid(
        `The prompt is ${translated.text.length} characters; Atelier sends Gemini at most ${geminiMaxPromptLength}.`,
        "too_long",
      ),
    };
  const ratio = nearestAspectRatio(translated.aspect, model.facts.aspectRatios, model.label);
  const size = sizeFor(model, prompt.params.hd ? "hd" : (requested.quality ?? "standard"));
  const warnings = mergeWarnings(
    imageWarnings(translated.warnings),
    ratio.warning ? [ratio.warning] : [],
    size.warnings,
    speedWarnings(requested.speed),
  );
  const plan: GeminiPlan = { text: translated.text, aspectRatio: ratio.ratio, warnings };
  if (size.imageSize) plan.imageSize = size.imageSize;
  return { plan };
}

/**
 * The words sent with the chosen image for V: a subtle variation keeps the picture and changes
 * details (Midjourney's Vary (Subtle)); a strong one keeps the subject and idea and lets the
 * composition, pose, viewpoint and light change (Vary (Strong)). The prompt (or the remix) follows.
 */
export function variationInstruction(strength: VariationStrength, description: string): string {
  const instruction =
    strength === "subtle"
      ? "Make a subtle variation of this image: keep its subject, composition, colours and style, and change only small details."
      : "Make a strong variation of this image: keep its subject and overall idea, but freely change the composition, pose, viewpoint, lighting and details.";
  return description === "" ? instruction : `${instruction} Prompt: ${description}`;
}

/** The words sent with the 2–5 images of a /blend. */
export function blendInstruction(count: number): string {
  return `Blend these ${count} images into one new image: combine their subjects, styles and colours into a single coherent picture.`;
}

/** Midjourney's /blend shapes (src/jobs/kinds.ts writes the same --ar). */
export const blendAspect: Record<BlendDimensions, { width: number; height: number }> = {
  portrait: { width: 2, height: 3 },
  square: { width: 1, height: 1 },
  landscape: { width: 3, height: 2 },
};

export interface GenerateBody {
  contents: {
    role: "user";
    parts: ({ text: string } | { inlineData: { mimeType: string; data: string } })[];
  }[];
  generationConfig: {
    responseModalities: ("TEXT" | "IMAGE")[];
    imageConfig: { aspectRatio: string; imageSize?: string };
  };
}

/**
 * One generateContent call: the images first, then the words. TEXT is asked for alongside IMAGE so
 * that a refusal comes back in the model's own words; text parts next to an image are ignored.
 */
export function generateBody(
  plan: Pick<GeminiPlan, "text" | "aspectRatio" | "imageSize">,
  images: ImageInput[],
): GenerateBody {
  return {
    contents: [
      {
        role: "user",
        parts: [
          ...images.map((image) => ({
            inlineData: { mimeType: image.contentType, data: image.bytes.toString("base64") },
          })),
          { text: plan.text },
        ],
      },
    ],
    generationConfig: {
      responseModalities: ["TEXT", "IMAGE"],
      imageConfig: {
        aspectRatio: plan.aspectRatio,
        ...(plan.imageSize === undefined ? {} : { imageSize: plan.imageSize }),
      },
    },
  };
}
