// Small pieces of adapter logic that are the same whatever the protocol: picking image n of a set
// (and U where images are already full size), the image-to-image variation prompt, a re-roll's
// seedless prompt, reading a progress value, and shrinking a live preview.
import sharp from "sharp";
import type { ParsedPrompt } from "../prompt/types.ts";
import {
  type ParentTask,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type VariationStrength,
} from "./types.ts";

/** The URL of image `index` (1-based) of a finished set; invalid when the set has no such image. */
export function imageOf(parent: ParentTask, index: number): string {
  const url = parent.imageUrls[index - 1];
  if (url === undefined) {
    throw new ProviderError(
      "invalid",
      `There is no image ${index} in this set (it has ${parent.imageUrls.length}).`,
      { code: "image_number" },
    );
  }
  return url;
}

/**
 * U where a set's images are already full size: image n on its own, done without a call. An upscale
 * style cannot be honoured: `noUpscaler(style)` says so in a warning (no warning without it).
 */
export function separateImage(
  parent: ParentTask,
  index: number,
  style?: string,
  noUpscaler?: (style: string) => string,
): SubmitResult {
  const url = imageOf(parent, index);
  const warnings: ProviderWarning[] =
    style && noUpscaler
      ? [{ type: "unsupported", feature: `Upscale (${style})`, details: noUpscaler(style) }]
      : [];
  return {
    kind: "done",
    warnings,
    snapshot: { taskId: `${parent.taskId}#U${index}`, status: "completed", progress: 100, imageUrls: [url] },
  };
}

/** Same prompt, new noise: an explicit seed would repeat the very same images. */
export function withoutSeed(prompt: ParsedPrompt): ParsedPrompt {
  const params = { ...prompt.params };
  delete params.seed;
  return { ...prompt, params };
}

/**
 * An image-to-image variation: the chosen image first, then the original (or remixed) prompt,
 * without its seed. A subtle variation gets a higher image weight (`--iw 2`, Midjourney's default
 * is 1) unless the prompt sets one, which keeps the result closer to the chosen image.
 */
export function imageVariationPrompt(
  base: ParsedPrompt,
  imageUrl: string,
  strength: VariationStrength,
): ParsedPrompt {
  const seedless = withoutSeed(base);
  const params =
    strength === "subtle" && seedless.params.iw === undefined
      ? { ...seedless.params, iw: 2 }
      : seedless.params;
  return { ...seedless, images: [imageUrl, ...seedless.images], params };
}

/** A progress value ("42%", "42" or 42) as 0..100; undefined when absent or unreadable. */
export function progressOf(value: number | string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "number" ? value : Number.parseFloat(value);
  return Number.isFinite(number) ? Math.min(100, Math.max(0, number)) : undefined;
}

/** Long side of a stored preview: previews are shown small, and kept as blobs like results. */
const previewLongSide = 512;

/** A partial image made small for the progress message; undefined when it cannot be read. */
export async function previewOf(bytes: Buffer): Promise<Buffer | undefined> {
  try {
    return await sharp(bytes)
      .resize(previewLongSide, previewLongSide, { fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 75 })
      .toBuffer();
  } catch {
    return undefined;
  }
}
