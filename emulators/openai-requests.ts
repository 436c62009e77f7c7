// What OpenAI's Images API accepts, as the OpenAI emulator checks it: the request fields of
// `POST /images/generations` (JSON) and `POST /images/edits` (multipart `image[]`, or JSON `images`
// of `{image_url}`: links are recorded, not fetched; data: URLs are read), the models and their sizes,
// OpenAI's error body, and the token usage a result reports. Sources are listed in emulators/openai.ts.
import sharp from "sharp";
import type { Reply } from "./http.ts";
import type { ImageFormat } from "./images.ts";

/** The GPT Image models of OpenAI's reference; gpt-image-2 (and its snapshot) takes any valid WxH. */
export const openaiImageModels = [
  "gpt-image-2",
  "gpt-image-2-2026-04-21",
  "gpt-image-1.5",
  "gpt-image-1",
  "gpt-image-1-mini",
] as const;

const freeSizeModels = new Set(["gpt-image-2", "gpt-image-2-2026-04-21"]);
/** input_fidelity: gpt-image-1 and 1.5 take it; gpt-image-2 always uses high fidelity, -mini has none. */
const fidelityModels = new Set(["gpt-image-1", "gpt-image-1.5"]);
const standardSizes = ["1024x1024", "1536x1024", "1024x1536"];
const qualities = ["low", "medium", "high", "auto"];
const backgrounds = ["transparent", "opaque", "auto"];
const formats = ["png", "jpeg", "webp"];
const maxPromptLength = 32_000;
const maxInputImages = 16;
const maxFileBytes = 50 * 1024 * 1024;

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export function openaiErrorBody(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  extra: Record<string, unknown> = {},
) {
  return { error: { message, type, param, code, ...extra } };
}

export function invalidRequest(message: string, param: string | null, code: string | null = null): Reply {
  return { status: 400, body: openaiErrorBody(message, "invalid_request_error", param, code) };
}

/** An uploaded file as the emulator recorded it (bytes kept for tests to look at). */
export interface UploadedImage {
  filename: string;
  contentType: string;
  bytes: Buffer;
  width: number;
  height: number;
  format: string;
  hasAlpha: boolean;
  /** A JSON edit's `image_url` link (not fetched: the other fields are empty). */
  url?: string;
}

/** A request that passed validation: what to make. */
export interface ImageJob {
  endpoint: "generations" | "edits";
  model: string;
  prompt: string;
  n: number;
  width: number;
  height: number;
  /** As asked ("auto" included), echoed on events. */
  size: string;
  quality: string;
  background: string;
  format: ImageFormat;
  stream: boolean;
  partialImages: number;
  images: UploadedImage[];
}

type Fields = Record<string, unknown>;

function text(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  return value === undefined || value === null ? undefined : String(value);
}

/** Multipart sends numbers and booleans as text; JSON as themselves. */
function integer(fields: Fields, name: string, min: number, max: number, fallback: number): number | Reply {
  const raw = fields[name];
  if (raw === undefined || raw === null) return fallback;
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(value))
    return invalidRequest(`Invalid type for '${name}': expected an integer.`, name);
  if (value < min)
    return invalidRequest(
      `Invalid '${name}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      name,
      "integer_below_min_value",
    );
  if (value > max)
    return invalidRequest(
      `Invalid '${name}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      name,
      "integer_above_max_value",
    );
  return value;
}

function oneOf(fields: Fields, name: string, allowed: string[], fallback: string): string | Reply {
  const value = text(fields, name) ?? fallback;
  if (allowed.includes(value)) return value;
  const listed = allowed.map((item) => `'${item}'`).join(", ");
  return invalidRequest(`Invalid value: '${value}'. Supported values are: ${listed}.`, name, "invalid_value");
}

/** gpt-image-2's rule: multiples of 16, edge ≤ 3840, ratio ≤ 3:1, 655,360–8,294,400 pixels. */
function freeSizeProblem(width: number, height: number): string | undefined {
  if (width % 16 !== 0 || height % 16 !== 0) return "width and height must both be multiples of 16";
  if (Math.max(width, height) > 3840) return "the longest edge must be at most 3840 pixels";
  if (Math.max(width, height) / Math.min(width, height) > 3) return "the aspect ratio must be at most 3:1";
  const pixels = width * height;
  if (pixels < 655_360 || pixels > 8_294_400) return "the image must have 655,360 to 8,294,400 pixels";
  return undefined;
}

function sizeOf(fields: Fields, model: string): { size: string; width: number; height: number } | Reply {
  const size = text(fields, "size") ?? "auto";
  if (size === "auto") return { size, width: 1024, height: 1024 };
  const match = /^(\d+)x(\d+)$/.exec(size);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (freeSizeModels.has(model) && match) {
    const problem = freeSizeProblem(width, height);
    if (problem) return invalidRequest(`Invalid size '${size}': ${problem}.`, "size", "invalid_value");
    return { size, width, height };
  }
  if (!standardSizes.includes(size)) {
    const listed = [...standardSizes, "auto"].map((item) => `'${item}'`).join(", ");
    return invalidRequest(
      `Invalid value: '${size}'. Supported values are: ${listed}.`,
      "size",
      "invalid_value",
    );
  }
  return { size, width, height };
}

function modelOf(fields: Fields, served: readonly string[]): string | Reply {
  const model = text(fields, "model");
  if (model === undefined || model.startsWith("dall-e")) {
    return invalidRequest(
      "This emulator serves the GPT Image models only: set 'model' to one of them.",
      "model",
    );
  }
  if (!served.includes(model)) {
    return {
      status: 404,
      body: openaiErrorBody(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        null,
        "model_not_found",
      ),
    };
  }
  return model;
}

function isReply(value: unknown): value is Reply {
  return typeof value === "object" && value !== null && "status" in value && "body" in value;
}

/** The fields both endpoints share, checked in the order OpenAI reports them. */
function commonFields(
  fields: Fields,
  served: readonly string[],
): Omit<ImageJob, "endpoint" | "images"> | Reply {
  const model = modelOf(fields, served);
  if (isReply(model)) return model;
  const prompt = text(fields, "prompt");
  if (prompt === undefined || prompt === "")
    return invalidRequest("Missing required parameter: 'prompt'.", "prompt");
  if (prompt.length > maxPromptLength) {
    return invalidRequest(
      `Invalid 'prompt': string too long. Expected a string with maximum length ${maxPromptLength}, but got a string with length ${prompt.length} instead.`,
      "prompt",
      "string_above_max_length",
    );
  }
  const n = integer(fields, "n", 1, 10, 1);
  const partialImages = integer(fields, "partial_images", 0, 3, 0);
  const size = sizeOf(fields, model);
  const quality = oneOf(fields, "quality", qualities, "auto");
  const background = oneOf(fields, "background", backgrounds, "auto");
  const format = oneOf(fields, "output_format", formats, "png");
  const moderation = oneOf(fields, "moderation", ["low", "auto"], "auto");
  for (const value of [n, partialImages, size, quality, background, format, moderation]) {
    if (isReply(value)) return value;
  }
  if (background === "transparent" && freeSizeModels.has(model)) {
    return invalidRequest(`Transparent backgrounds are not supported for ${model}.`, "background");
  }
  const stream = String(fields.stream ?? "false") === "true";
  const { width, height, size: asked } = size as { size: string; width: number; height: number };
  return {
    model,
    prompt,
    n: n as number,
    width,
    height,
    size: asked,
    quality: quality as string,
    background: background as string,
    format: format as ImageFormat,
    stream,
    partialImages: partialImages as number,
  };
}

export function checkGeneration(fields: Fields, served: readonly string[]): ImageJob | Reply {
  const common = commonFields(fields, served);
  if (isReply(common)) return common;
  return { ...common, endpoint: "generations", images: [] };
}

/** Reads an uploaded file the way the service does: by its bytes, not its name. */
export async function readUpload(file: File): Promise<UploadedImage | undefined> {
  const bytes = Buffer.from(await file.arrayBuffer());
  try {
    const meta = await sharp(bytes).metadata();
    return {
      filename: file.name,
      contentType: file.type,
      bytes,
      width: meta.width ?? 0,
      height: meta.height ?? 0,
      format: meta.format ?? "unknown",
      hasAlpha: meta.hasAlpha ?? false,
    };
  } catch {
    return undefined;
  }
}

/** A JSON edit's `images` entry (`ImageRefParam`): a data: URL is read, a link recorded as it is. */
export async function readImageRef(entry: unknown): Promise<UploadedImage | undefined> {
  const url = (entry as { image_url?: unknown } | null)?.image_url;
  if (typeof url !== "string" || (entry as { file_id?: unknown }).file_id !== undefined) return undefined;
  if (/^https?:\/\//.test(url)) {
    return {
      filename: url,
      contentType: "",
      bytes: Buffer.alloc(0),
      width: 0,
      height: 0,
      format: "link",
      hasAlpha: false,
      url,
    };
  }
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!inline) return undefined;
  return readUpload(new File([Buffer.from(inline[2] ?? "", "base64")], "image", { type: inline[1] ?? "" }));
}

function imageProblem(image: UploadedImage | undefined, name: string): Reply | undefined {
  if (image?.url) return undefined;
  if (!image || !["png", "webp", "jpeg"].includes(image.format)) {
    return invalidRequest(
      `Invalid file '${name}': unsupported image format. Supported formats are: 'png', 'webp', and 'jpg'.`,
      name,
      "invalid_image_format",
    );
  }
  if (image.bytes.length >= maxFileBytes) {
    return invalidRequest(`Invalid file '${name}': the image must be smaller than 50 MB.`, name);
  }
  return undefined;
}

function maskProblem(mask: UploadedImage | undefined, first: UploadedImage): Reply | undefined {
  if (!mask) return undefined;
  const same = mask.width === first.width && mask.height === first.height;
  if (mask.format !== "png" || !mask.hasAlpha || !same) {
    return {
      status: 400,
      body: openaiErrorBody(
        "Invalid mask image format - mask must be a PNG with an alpha channel and the size of the image",
        "image_generation_user_error",
        "mask",
        "invalid_mask_image_format",
      ),
    };
  }
  return undefined;
}

/** An edit: the common fields, 1–16 images, an optional mask, input_fidelity where the model has it. */
export function checkEdit(
  fields: Fields,
  uploads: { images: (UploadedImage | undefined)[]; mask?: UploadedImage | undefined; hasMask: boolean },
  served: readonly string[],
): ImageJob | Reply {
  const common = commonFields(fields, served);
  if (isReply(common)) return common;
  if (uploads.images.length === 0) return invalidRequest("Missing required parameter: 'image'.", "image");
  if (uploads.images.length > maxInputImages) {
    return invalidRequest(`Invalid 'image': at most ${maxInputImages} images.`, "image");
  }
  for (const image of uploads.images) {
    const problem = imageProblem(image, "image");
    if (problem) return problem;
  }
  const images = uploads.images as UploadedImage[];
  if (uploads.hasMask) {
    const problem =
      imageProblem(uploads.mask, "mask") ?? maskProblem(uploads.mask, images[0] as UploadedImage);
    if (problem) return problem;
  }
  const fidelity = fields.input_fidelity;
  if (fidelity !== undefined && fidelity !== null) {
    if (!fidelityModels.has(common.model)) {
      return invalidRequest(`input_fidelity is not supported for ${common.model}.`, "input_fidelity");
    }
    const checked = oneOf(fields, "input_fidelity", ["high", "low"], "low");
    if (isReply(checked)) return checked;
  }
  return { ...common, endpoint: "edits", images };
}

// --- usage ---------------------------------------------------------------------------------------

/** Output tokens per image from OpenAI's image-generation guide (models before gpt-image-2). */
const outputTokens: Record<string, Record<string, number>> = {
  low: { "1024x1024": 272, "1024x1536": 408, "1536x1024": 400 },
  medium: { "1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568 },
  high: { "1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208 },
};

/** The guide: each partial image costs 100 more output tokens. */
export const partialImageTokens = 100;

/** One image's usage; other sizes scale the square's figure by area (the emulator's own estimate). */
export function imageUsage(job: ImageJob, partials: number, withInput: boolean) {
  const table = outputTokens[job.quality === "auto" ? "medium" : job.quality] ?? {};
  const key = `${job.width}x${job.height}`;
  const square = table["1024x1024"] ?? 1056;
  const output =
    (table[key] ?? Math.round((square * job.width * job.height) / (1024 * 1024))) +
    partials * partialImageTokens;
  // Input tokens are the emulator's stand-in (about 4 characters a token; a fixed figure per image).
  const textTokens = withInput ? Math.ceil(job.prompt.length / 4) : 0;
  const imageTokens = withInput ? job.images.length * 1_000 : 0;
  return {
    total_tokens: textTokens + imageTokens + output,
    input_tokens: textTokens + imageTokens,
    output_tokens: output,
    input_tokens_details: { text_tokens: textTokens, image_tokens: imageTokens },
  };
}
