// The follow-ups on OpenAI: U picks an image (OpenAI's images are full size), V and Zoom Out / Pan /
// Make Square are edits of an image Atelier keeps (read back from the blobs), 🔄 and Run as HD send
// the prompt again (no seed in this API), /blend is one edit of all its images.
import sharp from "sharp";
import type { ParsedPrompt } from "../prompt/types.ts";
import { type Outpaint, outpaintCanvas } from "./openai-canvas.ts";
import {
  blendInstruction,
  editPrompt,
  type ImageSize,
  invalid,
  outpaintInstruction,
  planGeneration,
  sizeFor,
  variationInstruction,
} from "./openai-plan.ts";
import { type EditSpec, edit, generate, type OpenAi } from "./openai-send.ts";
import { imageOf, separateImage } from "./shared.ts";
import type {
  BlendDimensions,
  BlendRequest,
  FollowUpRequest,
  ImageInput,
  ParentTask,
  ProviderWarning,
  Quality,
  SubmitResult,
} from "./types.ts";

const acceptedTypes = new Set(["image/png", "image/jpeg", "image/webp"]);
const blendShapes: Record<BlendDimensions, ImageSize> = {
  portrait: { width: 2, height: 3 },
  square: { width: 1, height: 1 },
  landscape: { width: 3, height: 2 },
};

/** PNG, JPEG and WebP go as they are; anything else is converted to PNG first. */
async function acceptable(image: ImageInput): Promise<ImageInput> {
  if (acceptedTypes.has(image.contentType)) return image;
  return { bytes: await sharp(image.bytes).png().toBuffer(), contentType: "image/png" };
}

/** The bytes behind a result link (a blob this adapter stored). */
async function resultImage(openai: OpenAi, link: string): Promise<ImageInput> {
  const blob = await openai.blobs.get(link);
  if (!blob) {
    throw invalid(
      "This image is no longer kept (images OpenAI sends as data are kept for a week): run /imagine again.",
      "image_expired",
    );
  }
  return acceptable({ bytes: blob.bytes, contentType: blob.contentType });
}

/** The prompt's text and quality for an edit of an image shaped `shape` (the image decides the size). */
function editPlan(openai: OpenAi, prompt: ParsedPrompt, quality: Quality | undefined, shape: ImageSize) {
  const planned = planGeneration(prompt, { quality }, openai.model);
  if ("error" in planned) throw planned.error;
  const sized = sizeFor(shape, openai.model);
  const warnings = planned.plan.warnings.filter((warning) => warning.feature !== "--ar");
  if (planned.plan.images.length > 0) {
    warnings.push({
      type: "unsupported",
      feature: "image prompts",
      details: "an edit of one image sends only that image, not the prompt's image links",
    });
  }
  return { ...planned.plan, size: sized.size, warnings };
}

/**
 * V: an edit of image n with the (remixed) prompt. Subtle keeps the composition (`input_fidelity:
 * high` where the model takes it), strong keeps only the subject (`low`); see variationInstruction.
 */
async function variation(
  openai: OpenAi,
  request: Extract<FollowUpRequest, { kind: "variation" }>,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const { parent, index, strength } = request;
  const source = await resultImage(openai, imageOf(parent, index));
  const meta = await sharp(source.bytes).metadata();
  const shape = { width: meta.width ?? 1, height: meta.height ?? 1 };
  const plan = editPlan(openai, request.prompt ?? parent.prompt, parent.quality, shape);
  const spec: EditSpec = {
    prompt: editPrompt(variationInstruction[strength], plan.text),
    images: [source],
    size: plan.size,
    quality: plan.quality,
    fidelity: strength === "subtle" ? "high" : "low",
  };
  return edit(openai, spec, plan.warnings, signal);
}

/** Zoom Out, Pan, Make Square: the image on a larger transparent canvas, with a mask, as an edit. */
async function outpaint(
  openai: OpenAi,
  request: Outpaint & { parent: ParentTask },
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const source = await resultImage(openai, imageOf(request.parent, 1));
  const canvas = await outpaintCanvas(source.bytes, request, openai.model);
  const plan = editPlan(openai, request.parent.prompt, request.parent.quality, canvas.size);
  const warnings = canvas.warning ? [...plan.warnings, canvas.warning] : plan.warnings;
  const spec: EditSpec = {
    prompt: editPrompt(outpaintInstruction, plan.text),
    images: [{ bytes: canvas.image, contentType: "image/png" }],
    mask: canvas.mask,
    size: canvas.size,
    quality: plan.quality,
  };
  return edit(openai, spec, warnings, signal);
}

/** Run as HD: the same prompt at high quality; without a seed it is a new set, and says so. */
function runAsHd(openai: OpenAi, parent: ParentTask, signal?: AbortSignal): Promise<SubmitResult> {
  const prompt = { ...parent.prompt, params: { ...parent.prompt.params, hd: true as const } };
  const warning: ProviderWarning = {
    type: "changed",
    feature: "Run as HD",
    details: "OpenAI takes no seed, so the HD run is a new set of the same prompt at high quality",
  };
  return generate(openai, prompt, "hd", [warning], signal);
}

export function followUp(
  openai: OpenAi,
  request: FollowUpRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  switch (request.kind) {
    case "upscale":
      // OpenAI's images are already full size.
      return Promise.resolve(
        separateImage(
          request.parent,
          request.index,
          request.style,
          (style) => `OpenAI has no ${style} upscaler, so this is image ${request.index} as generated`,
        ),
      );
    case "variation":
      return variation(openai, request, signal);
    case "reroll":
      // Same prompt, new images: the API has no seed, so nothing repeats (a --seed is warned about).
      return generate(openai, request.prompt ?? request.parent.prompt, request.parent.quality, [], signal);
    case "hd":
      return runAsHd(openai, request.parent, signal);
    case "zoom":
    case "pan":
    case "square":
      return outpaint(openai, request, signal);
    default:
      return Promise.reject(invalid("OpenAI has no provider buttons to press.", "unsupported_action"));
  }
}

/** /blend: 2–5 images as inputs of one edit, in the shape asked. */
export async function blend(
  openai: OpenAi,
  request: BlendRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const { size, warning } = sizeFor(blendShapes[request.dimensions], openai.model, "/blend");
  const images = await Promise.all(request.images.map(acceptable));
  const spec: EditSpec = { prompt: blendInstruction, images, size, quality: "medium" };
  return edit(openai, spec, warning ? [warning] : [], signal);
}
