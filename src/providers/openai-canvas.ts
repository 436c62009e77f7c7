// Zoom Out, Pan and Make Square on OpenAI: the image placed on a larger transparent canvas of a size
// the model makes, and a mask that is transparent where new content goes (OpenAI's edits read a mask
// as "fully transparent = edit here"; it must be a PNG with alpha, the size of the image).
import sharp from "sharp";
import { type ImageSize, invalid, sizeFor } from "./openai-plan.ts";
import type { PanDirection, ProviderWarning } from "./types.ts";

export type Outpaint =
  | { kind: "zoom"; factor: 1.5 | 2 }
  | { kind: "pan"; direction: PanDirection }
  | { kind: "square" };

/** Pan adds half the image on one side, as Midjourney's arrows do. */
const panShare = 0.5;

export interface OutpaintCanvas {
  /** The canvas to send as the image: the source inside, transparent around it. */
  image: Buffer;
  mask: Buffer;
  size: ImageSize;
  /** Where the source sits on the canvas, in canvas pixels. */
  placed: { left: number; top: number; width: number; height: number };
  warning?: ProviderWarning;
}

export function outpaintName(outpaint: Outpaint): string {
  if (outpaint.kind === "zoom") return `Zoom Out ${outpaint.factor}x`;
  if (outpaint.kind === "pan") return `Pan ${outpaint.direction}`;
  return "Make Square";
}

/** The canvas around a `source`-sized image, and where the image sits on it, in source pixels. */
export function canvasLayout(
  source: ImageSize,
  outpaint: Outpaint,
): { canvas: ImageSize; left: number; top: number } {
  const { width, height } = source;
  if (outpaint.kind === "zoom") {
    const canvas = { width: width * outpaint.factor, height: height * outpaint.factor };
    return { canvas, left: (canvas.width - width) / 2, top: (canvas.height - height) / 2 };
  }
  if (outpaint.kind === "square") {
    const side = Math.max(width, height);
    return { canvas: { width: side, height: side }, left: (side - width) / 2, top: (side - height) / 2 };
  }
  const across = outpaint.direction === "left" || outpaint.direction === "right";
  const canvas = across
    ? { width: width * (1 + panShare), height }
    : { width, height: height * (1 + panShare) };
  return {
    canvas,
    left: outpaint.direction === "left" ? canvas.width - width : 0,
    top: outpaint.direction === "up" ? canvas.height - height : 0,
  };
}

/** A shape in its smallest whole terms (1872×832 → 9:4), as warnings show it. */
function reduced(shape: ImageSize): ImageSize {
  const width = Math.round(shape.width);
  const height = Math.round(shape.height);
  const divisor = (a: number, b: number): number => (b === 0 ? a : divisor(b, a % b));
  const common = divisor(width, height) || 1;
  return { width: width / common, height: height / common };
}

function blank(size: ImageSize) {
  return sharp({
    create: {
      width: size.width,
      height: size.height,
      channels: 4,
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    },
  });
}

/** The canvas and its mask at the size `model` makes nearest the canvas's shape. */
export async function outpaintCanvas(
  bytes: Buffer,
  outpaint: Outpaint,
  model: string,
): Promise<OutpaintCanvas> {
  const meta = await sharp(bytes).metadata();
  const source = { width: meta.width ?? 0, height: meta.height ?? 0 };
  if (source.width === 0 || source.height === 0)
    throw invalid("The image to extend could not be read.", "image");
  const layout = canvasLayout(source, outpaint);
  if (layout.canvas.width === source.width && layout.canvas.height === source.height) {
    throw invalid("This image is already square.", "already_square");
  }
  const { size, warning } = sizeFor(reduced(layout.canvas), model, outpaintName(outpaint));
  // The whole canvas fits the target (centred when the model's shapes differ a little from it).
  const scale = Math.min(size.width / layout.canvas.width, size.height / layout.canvas.height);
  const offsetX = (size.width - layout.canvas.width * scale) / 2;
  const offsetY = (size.height - layout.canvas.height * scale) / 2;
  const placed = {
    left: Math.round(offsetX + layout.left * scale),
    top: Math.round(offsetY + layout.top * scale),
    width: Math.max(1, Math.round(source.width * scale)),
    height: Math.max(1, Math.round(source.height * scale)),
  };
  const resized = await sharp(bytes)
    .ensureAlpha()
    .resize(placed.width, placed.height, { fit: "fill" })
    .png()
    .toBuffer();
  const kept = await sharp({
    create: {
      width: placed.width,
      height: placed.height,
      channels: 4,
      background: { r: 255, g: 255, b: 255, alpha: 1 },
    },
  })
    .png()
    .toBuffer();
  const at = { left: placed.left, top: placed.top };
  const [image, mask] = await Promise.all([
    blank(size)
      .composite([{ input: resized, ...at }])
      .png()
      .toBuffer(),
    blank(size)
      .composite([{ input: kept, ...at }])
      .png()
      .toBuffer(),
  ]);
  return { image, mask, size, placed, ...(warning ? { warning } : {}) };
}
