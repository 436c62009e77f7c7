// Reading pixels back out of encoded images, for every test that checks what a picture shows:
// one decode to raw samples, then the colour at a point, the emulators' palette index at a point,
// of the centre, or of the four quadrants of a 2×2 grid.
import sharp from "sharp";
import { nearestColourIndex } from "../../emulators/images.ts";

export interface Pixels {
  width: number;
  height: number;
  /** Samples per pixel as decoded (3 for RGB, 4 with alpha). */
  channels: number;
  /** The samples of the pixel at (x, y), alpha included; fractional coordinates are floored. */
  pixel(x: number, y: number): number[];
  /** Index (0-based) of the emulators' result colour nearest to the pixel at (x, y). */
  paletteIndexAt(x: number, y: number): number;
  /** Palette index at the image's centre. */
  centre(): number;
  /** Palette index at the centre of each quadrant of a 2×2 grid, in reading order 1 2 / 3 4. */
  quadrants(): number[];
}

/** Decodes an image (bytes or a file path) to raw samples. */
export async function decodePixels(image: Buffer | string): Promise<Pixels> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const pixel = (x: number, y: number) => {
    const offset = (Math.floor(y) * width + Math.floor(x)) * channels;
    return Array.from(data.subarray(offset, offset + channels));
  };
  const paletteIndexAt = (x: number, y: number) => nearestColourIndex(pixel(x, y));
  return {
    width,
    height,
    channels,
    pixel,
    paletteIndexAt,
    centre: () => paletteIndexAt(width / 2, height / 2),
    quadrants: () =>
      [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ].map(([x = 0, y = 0]) => paletteIndexAt(x * width, y * height)),
  };
}
