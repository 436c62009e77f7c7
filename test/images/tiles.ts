// Test fixtures built with sharp: solid-colour tiles in any format, seeded noise, pixel probes.
import sharp from "sharp";

export type Rgb = readonly [number, number, number];
export type TileFormat = "png" | "jpeg" | "webp" | "gif";

/** Four colours far apart, in reading order 1 2 / 3 4. */
export const quadrantColours: readonly Rgb[] = [
  [220, 30, 30],
  [30, 200, 40],
  [30, 60, 220],
  [240, 220, 20],
];

export function solidTile(
  width: number,
  height: number,
  colour: Rgb,
  format: TileFormat = "png",
): Promise<Buffer> {
  const [r, g, b] = colour;
  const image = sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
  return image.toFormat(format, format === "jpeg" ? { quality: 95 } : {}).toBuffer();
}

/** Deterministic white noise: the worst case for any encoder. */
export function noiseRaw(width: number, height: number, channels: 3 | 4, seed = 1): Buffer {
  const words = new Uint32Array(Math.ceil((width * height * channels) / 4));
  let state = seed >>> 0 || 1;
  for (let index = 0; index < words.length; index++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  return Buffer.from(words.buffer, 0, width * height * channels);
}

export function noiseTile(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(noiseRaw(width, height, 3, seed), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

export { decodePixels as decode, type Pixels as Decoded } from "../support/pixels.ts";

/** Largest per-channel difference between a decoded pixel and a colour (lossy encoders drift a little). */
export function colourDistance(pixel: number[], colour: Rgb): number {
  return Math.max(...colour.map((channel, index) => Math.abs((pixel[index] ?? -999) - channel)));
}
