// Result images for the provider emulators: one solid, clearly distinct colour per index with the
// 1-based image number drawn in the top-left corner. Tests tell images apart by sampling the centre
// pixel (never covered by the number) and finding the nearest entry of `resultColours`.
import sharp, { type Sharp } from "sharp";
import { type PictureSpec, pictureSvg } from "./pictures.ts";

export type ImageFormat = "png" | "jpeg" | "webp";
export type Rgb = readonly [r: number, g: number, b: number];

/**
 * Colour of result image `index` (0-based). Picked greedily for distance: any two entries are at
 * least 80 apart in RGB space, so lossy JPEG/WebP still maps back to the right index.
 */
export const resultColours: readonly Rgb[] = [
  [230, 25, 75],
  [60, 180, 75],
  [0, 100, 220],
  [250, 220, 20],
  [240, 240, 240],
  [0, 0, 0],
  [160, 0, 240],
  [80, 240, 240],
  [160, 160, 160],
  [0, 0, 160],
  [160, 80, 0],
  [0, 240, 0],
  [0, 80, 80],
  [0, 240, 160],
  [80, 0, 80],
  [240, 80, 240],
  [160, 240, 80],
  [80, 80, 160],
  [240, 0, 160],
  [240, 160, 80],
  [80, 160, 0],
  [0, 0, 80],
  [0, 0, 240],
  [0, 80, 0],
];

/** The colour for an index; wraps around past the table's end. */
export function colourForIndex(index: number): Rgb {
  const size = resultColours.length;
  return resultColours[((index % size) + size) % size] as Rgb;
}

/** Index (0-based) of the table colour nearest to a sampled pixel. */
export function nearestColourIndex(pixel: readonly number[]): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  resultColours.forEach((colour, index) => {
    const distance =
      ((pixel[0] ?? 0) - colour[0]) ** 2 +
      ((pixel[1] ?? 0) - colour[1]) ** 2 +
      ((pixel[2] ?? 0) - colour[2]) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  return best;
}

/** The prompt's `--ar`/`--aspect` value; undefined when absent, null when unparsable. */
export function aspectOf(prompt: string): string | undefined | null {
  const match = /(?:^|\s)--(?:ar|aspect)\s+(\S+)/.exec(prompt);
  if (!match) return undefined;
  const value = match[1] ?? "";
  return /^\d+(?:\.\d+)?:\d+(?:\.\d+)?$/.test(value) ? value : null;
}

/**
 * Width and height for a Midjourney aspect ratio ("16:9") with the longer side `longSide`.
 * Anything unparsable is treated as 1:1, like Midjourney's default.
 */
export function sizeForAspect(ar: string | undefined, longSide: number): { width: number; height: number } {
  const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(ar ?? "");
  const w = match ? Number(match[1]) : 1;
  const h = match ? Number(match[2]) : 1;
  if (!(w > 0 && h > 0)) return { width: longSide, height: longSide };
  if (w >= h) return { width: longSide, height: Math.max(1, Math.round((longSide * h) / w)) };
  return { width: Math.max(1, Math.round((longSide * w) / h)), height: longSide };
}

// 3×5 bitmap digits: no fonts needed (SVG text would depend on the machine's fontconfig).
const digitGlyphs: Record<string, string[]> = {
  "0": ["111", "101", "101", "101", "111"],
  "1": ["010", "110", "010", "010", "111"],
  "2": ["111", "001", "111", "100", "111"],
  "3": ["111", "001", "111", "001", "111"],
  "4": ["101", "101", "111", "001", "001"],
  "5": ["111", "100", "111", "001", "111"],
  "6": ["111", "100", "111", "101", "111"],
  "7": ["111", "001", "001", "001", "001"],
  "8": ["111", "101", "111", "101", "111"],
  "9": ["111", "101", "111", "001", "111"],
};

function contrastingInk(colour: Rgb): Rgb {
  const luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
  return luminance > 128 ? [0, 0, 0] : [255, 255, 255];
}

function fillPixels(pixels: Buffer, colour: Rgb): void {
  for (let offset = 0; offset < pixels.length; offset += 3) {
    pixels[offset] = colour[0];
    pixels[offset + 1] = colour[1];
    pixels[offset + 2] = colour[2];
  }
}

/** Draws `label` in the top-left quarter only, so the centre pixel keeps the solid colour. */
function drawLabel(pixels: Buffer, width: number, height: number, label: string, ink: Rgb): void {
  const scale = Math.max(1, Math.floor(Math.min(width, height) / 32));
  const margin = scale * 2;
  const labelWidth = label.length * 4 * scale;
  if (margin + labelWidth > width / 2 || margin + 5 * scale > height / 2) return;
  [...label].forEach((char, charIndex) => {
    const glyph = digitGlyphs[char] ?? [];
    glyph.forEach((row, gy) => {
      [...row].forEach((bit, gx) => {
        if (bit !== "1") return;
        const left = margin + (charIndex * 4 + gx) * scale;
        const top = margin + gy * scale;
        for (let y = top; y < top + scale; y += 1) {
          for (let x = left; x < left + scale; x += 1) {
            const offset = (y * width + x) * 3;
            pixels[offset] = ink[0];
            pixels[offset + 1] = ink[1];
            pixels[offset + 2] = ink[2];
          }
        }
      });
    });
  });
}

/**
 * A real encoded image: solid `colourForIndex(index)` with the number `index + 1` drawn on it, or,
 * given `picture`, a procedural picture that follows the prompt and seed (the playground's; tests
 * decode the solid colours, so it is never the default).
 */
export async function makeResultImage(o: {
  width: number;
  height: number;
  /** 0-based position in the set. */
  index: number;
  format?: ImageFormat;
  picture?: PictureSpec;
}): Promise<Buffer> {
  const width = Math.max(1, Math.round(o.width));
  const height = Math.max(1, Math.round(o.height));
  const image = o.picture
    ? sharp(Buffer.from(pictureSvg(o.picture, width, height))).removeAlpha()
    : numberedImage(width, height, o.index);
  switch (o.format ?? "png") {
    case "jpeg":
      return image.jpeg({ quality: 90 }).toBuffer();
    case "webp":
      return image.webp({ quality: 90 }).toBuffer();
    default:
      return image.png().toBuffer();
  }
}

function numberedImage(width: number, height: number, index: number): Sharp {
  const colour = colourForIndex(index);
  const pixels = Buffer.alloc(width * height * 3);
  fillPixels(pixels, colour);
  drawLabel(pixels, width, height, String(index + 1), contrastingInk(colour));
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

export const contentTypeForFormat: Record<ImageFormat, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
};
