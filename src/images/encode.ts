// Encodes an image so Discord accepts it as an attachment (default limit 10 MiB) and shows it inline.
//
// Choices:
// - Opaque images → JPEG (libjpeg-turbo, Huffman-optimised, 4:2:0). Measured on a 2048² grid:
//   ~60 ms vs ~640 ms for mozjpeg or WebP, for files ~20% larger that are still far below the
//   limit; JPEG also opens everywhere people take the image next.
// - Images with real transparency → WebP (keeps the alpha channel; Discord shows it inline).
// - PNG is never produced: these are photographic images, PNG would be 5–10× larger. An input that
//   is already PNG/JPEG/WebP and already fits is passed through untouched (no generation loss).
// - Too big: step quality down (90 → 82 → 74), then shrink, until it fits. Always terminates with
//   a result under the limit or throws.
import sharp from "sharp";
import { contentTypeOf, fileExtensionOf, sniffImageFormat } from "./sniff.ts";

export type OutputFormat = "jpeg" | "webp" | "png";

/** Decoded 8-bit sRGB pixels, interleaved, rows top to bottom (sharp's raw layout). */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface EncodedImage {
  bytes: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  /** e.g. "grid.jpg"; the extension matches the bytes. */
  fileName: string;
  contentType: string;
}

export interface EncodeOptions {
  /** Discord's per-file limit for an unboosted server (10 MiB). */
  maxBytes?: number;
  /** File name without extension. Default "image". */
  baseName?: string;
  /** Return an encoded input unchanged when it is PNG/JPEG/WebP and already fits. Default true. */
  keepOriginalIfFits?: boolean;
  /** Refuse encoded inputs larger than this many pixels (decompression bombs). Default 64 MP. */
  maxInputPixels?: number;
}

export const discordMaxBytes = 10 * 1024 * 1024;

const qualitySteps = [90, 82, 74] as const;
/** Quality used once we resort to shrinking: keep detail crisp at the smaller size. */
const shrinkQuality = 82;
/** Past this overshoot, lowering quality alone cannot win: shrink at once and save encodes. */
const hopelessOvershoot = 1.6;
const maxShrinkAttempts = 8;
const webpMaxSide = 16383;
const defaultMaxInputPixels = 64_000_000;

type LossyFormat = "jpeg" | "webp";

export async function encodeForDiscord(
  image: Buffer | RawImage,
  options: EncodeOptions = {},
): Promise<EncodedImage> {
  const maxBytes = options.maxBytes ?? discordMaxBytes;
  const baseName = options.baseName ?? "image";
  if (Buffer.isBuffer(image)) {
    const original = await keepOriginal(image, maxBytes, baseName, options.keepOriginalIfFits ?? true);
    if (original !== undefined) return original;
    return encodeRaw(
      await decodeToRaw(image, options.maxInputPixels ?? defaultMaxInputPixels),
      maxBytes,
      baseName,
    );
  }
  return encodeRaw(image, maxBytes, baseName);
}

async function keepOriginal(
  bytes: Buffer,
  maxBytes: number,
  baseName: string,
  allowed: boolean,
): Promise<EncodedImage | undefined> {
  const format = sniffImageFormat(bytes);
  if (!allowed || bytes.length > maxBytes || format === undefined || format === "gif") return undefined;
  const { width, height } = (await sharp(bytes).metadata()).autoOrient;
  return describe(bytes, format, width, height, baseName);
}

async function decodeToRaw(bytes: Buffer, maxInputPixels: number): Promise<RawImage> {
  const { data, info } = await sharp(bytes, { limitInputPixels: maxInputPixels })
    .autoOrient()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels === 4 ? 4 : 3;
  return { data, width: info.width, height: info.height, channels };
}

async function encodeRaw(image: RawImage, maxBytes: number, baseName: string): Promise<EncodedImage> {
  const format: LossyFormat = hasTransparency(image) ? "webp" : "jpeg";
  const fullSize = clampSize(image, format);
  let bytes: Buffer = Buffer.alloc(0);
  for (const quality of qualitySteps) {
    bytes = await encodeLossy(image, fullSize, format, quality);
    if (bytes.length <= maxBytes) return describe(bytes, format, fullSize.width, fullSize.height, baseName);
    if (bytes.length > maxBytes * hopelessOvershoot) break;
  }
  return shrinkUntilFits(image, fullSize, format, bytes.length, maxBytes, baseName);
}

/** Encoded size scales roughly with pixel count, so aim by the square root of the overshoot. */
async function shrinkUntilFits(
  image: RawImage,
  fullSize: { width: number; height: number },
  format: LossyFormat,
  lastLength: number,
  maxBytes: number,
  baseName: string,
): Promise<EncodedImage> {
  let scale = 1;
  let length = lastLength;
  for (let attempt = 0; attempt < maxShrinkAttempts; attempt++) {
    scale *= Math.min(0.9, Math.sqrt(maxBytes / length) * 0.92);
    const size = {
      width: Math.max(1, Math.round(fullSize.width * scale)),
      height: Math.max(1, Math.round(fullSize.height * scale)),
    };
    const bytes = await encodeLossy(image, size, format, shrinkQuality);
    if (bytes.length <= maxBytes) return describe(bytes, format, size.width, size.height, baseName);
    length = bytes.length;
  }
  throw new RangeError(`Could not encode the image under ${maxBytes} bytes.`);
}

/** One pipeline from raw pixels: optional resize, then a single encode. */
function encodeLossy(
  image: RawImage,
  size: { width: number; height: number },
  format: LossyFormat,
  quality: number,
): Promise<Buffer> {
  let pipeline = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  });
  if (size.width !== image.width || size.height !== image.height) {
    pipeline = pipeline.resize(size.width, size.height, { fit: "fill" });
  }
  if (format === "webp") return pipeline.webp({ quality }).toBuffer();
  return pipeline
    .removeAlpha()
    .jpeg({ quality, chromaSubsampling: "4:2:0", optimiseCoding: true })
    .toBuffer();
}

function clampSize(image: RawImage, format: LossyFormat): { width: number; height: number } {
  if (format !== "webp") return { width: image.width, height: image.height };
  const scale = Math.min(1, webpMaxSide / image.width, webpMaxSide / image.height);
  return { width: Math.floor(image.width * scale), height: Math.floor(image.height * scale) };
}

function hasTransparency(image: RawImage): boolean {
  if (image.channels !== 4) return false;
  for (let offset = 3; offset < image.data.length; offset += 4) {
    if (image.data[offset] !== 255) return true;
  }
  return false;
}

function describe(
  bytes: Buffer,
  format: "png" | "jpeg" | "webp",
  width: number,
  height: number,
  baseName: string,
): EncodedImage {
  return {
    bytes,
    format,
    width,
    height,
    fileName: `${baseName}.${fileExtensionOf(format)}`,
    contentType: contentTypeOf(format),
  };
}
