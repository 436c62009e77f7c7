// Small pieces of adapter logic that are the same whatever the protocol: picking image n of a set,
// the image-to-image variation prompt, a re-roll's seedless prompt, and reading a progress value.
import type { ParsedPrompt } from "../prompt/types.ts";
import { type ParentTask, ProviderError, type VariationStrength } from "./types.ts";

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
