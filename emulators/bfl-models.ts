// The models of the Black Forest Labs emulator (emulators/bfl.ts) and how each validates its body,
// the way BFL's FastAPI service does: every problem becomes one entry of a 422
// `{"detail": [{"loc": ["body", field], "msg", "type"}]}`. Sources are listed in emulators/bfl.ts.
import sharp from "sharp";
import { asRecord } from "./http.ts";

/** How a model takes its shape: width/height in steps, an aspect ratio, or the input image's own. */
export type ModelShape =
  | { kind: "size"; step: number; min: number; max: number; maxPixels?: number; defaults: [number, number] }
  | { kind: "aspect"; megapixels: number }
  | { kind: "edit" }
  | { kind: "expand" }
  | { kind: "fill" };

export interface EmulatedModel {
  shape: ModelShape;
  /** Credits per image (1 credit = $0.01), from BFL's published prices; FLUX.2 priced at 1 MP. */
  credits: number;
  /** The default of `output_format` (Kontext answers PNG by default, the others JPEG). */
  format: "jpeg" | "png";
}

const flux1Size: ModelShape = { kind: "size", step: 32, min: 256, max: 1440, defaults: [1024, 768] };
const flux2Size: ModelShape = {
  kind: "size",
  step: 16,
  min: 64,
  max: 4096,
  maxPixels: 4 * 1024 * 1024,
  defaults: [1024, 1024],
};

export const emulatedModels: Record<string, EmulatedModel> = {
  "flux-pro-1.1": { shape: flux1Size, credits: 4, format: "jpeg" },
  "flux-pro": { shape: flux1Size, credits: 5, format: "jpeg" },
  "flux-dev": { shape: flux1Size, credits: 2.5, format: "jpeg" },
  "flux-pro-1.1-ultra": { shape: { kind: "aspect", megapixels: 4 }, credits: 6, format: "jpeg" },
  "flux-kontext-pro": { shape: { kind: "edit" }, credits: 4, format: "png" },
  "flux-kontext-max": { shape: { kind: "edit" }, credits: 8, format: "png" },
  "flux-pro-1.0-expand": { shape: { kind: "expand" }, credits: 5, format: "jpeg" },
  "flux-pro-1.0-fill": { shape: { kind: "fill" }, credits: 5, format: "jpeg" },
  "flux-2-pro": { shape: flux2Size, credits: 3, format: "jpeg" },
  "flux-2-max": { shape: flux2Size, credits: 7, format: "jpeg" },
  "flux-2-flex": { shape: flux2Size, credits: 5, format: "jpeg" },
  "flux-2-klein-4b": { shape: flux2Size, credits: 1.4, format: "jpeg" },
  "flux-2-klein-9b": { shape: flux2Size, credits: 1.5, format: "jpeg" },
};

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** What a valid create asks for, as the emulator needs it. */
export interface CreateRequest {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  format: "jpeg" | "png";
  webhookUrl?: string;
  webhookSecret?: string;
  /** How many images it takes (input_image…, image): recorded, never fetched when they are links. */
  inputs: number;
}

const expandSides = ["top", "bottom", "left", "right"] as const;
const editInputs = ["input_image", "input_image_2", "input_image_3", "input_image_4"] as const;

/** Collects 422 issues for one body. */
class Issues {
  readonly list: ValidationIssue[] = [];
  add(field: string, msg: string, type: string): void {
    this.list.push({ loc: ["body", field], msg, type });
  }
}

function integerField(
  body: Record<string, unknown>,
  field: string,
  issues: Issues,
  bounds: { min?: number; max?: number; step?: number } = {},
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    issues.add(field, "Input should be a valid integer", "int_type");
    return undefined;
  }
  if (bounds.min !== undefined && value < bounds.min)
    issues.add(field, `Input should be greater than or equal to ${bounds.min}`, "greater_than_equal");
  else if (bounds.max !== undefined && value > bounds.max)
    issues.add(field, `Input should be less than or equal to ${bounds.max}`, "less_than_equal");
  else if (bounds.step !== undefined && value % bounds.step !== 0)
    issues.add(field, `Input should be a multiple of ${bounds.step}`, "multiple_of");
  return value;
}

function commonFields(body: Record<string, unknown>, issues: Issues, allowInsecureWebhooks: boolean) {
  integerField(body, "seed", issues);
  integerField(body, "safety_tolerance", issues, { min: 0, max: 6 });
  const format = body.output_format;
  if (format !== undefined && format !== null && format !== "jpeg" && format !== "png")
    issues.add("output_format", "Input should be 'jpeg' or 'png'", "enum");
  for (const flag of ["prompt_upsampling", "raw"]) {
    if (body[flag] !== undefined && typeof body[flag] !== "boolean")
      issues.add(flag, "Input should be a valid boolean", "bool_type");
  }
  const webhook = body.webhook_url;
  if (webhook !== undefined && webhook !== null) {
    if (typeof webhook !== "string" || !URL.canParse(webhook) || webhook.length > 2083)
      issues.add("webhook_url", "Input should be a valid URL", "url_parsing");
    else if (new URL(webhook).protocol !== "https:" && !allowInsecureWebhooks)
      issues.add("webhook_url", "URL scheme should be 'https'", "url_scheme");
  }
  if (body.webhook_secret !== undefined && typeof body.webhook_secret !== "string")
    issues.add("webhook_secret", "Input should be a valid string", "string_type");
  if (body.prompt !== undefined && body.prompt !== null && typeof body.prompt !== "string")
    issues.add("prompt", "Input should be a valid string", "string_type");
}

/** "W:H" within 21:9 … 9:21, as Ultra and Kontext take it. */
function aspectField(body: Record<string, unknown>, issues: Issues): number | undefined {
  const value = body.aspect_ratio;
  if (value === undefined || value === null) return undefined;
  const match = typeof value === "string" ? /^(\d+):(\d+)$/.exec(value) : null;
  const ratio = match ? Number(match[1]) / Number(match[2]) : Number.NaN;
  if (!(ratio > 0) || ratio > 21 / 9 + 1e-9 || ratio < 9 / 21 - 1e-9) {
    issues.add("aspect_ratio", "Value error, Aspect ratio must be between 21:9 and 9:21", "value_error");
    return undefined;
  }
  return ratio;
}

/** The decoded size of a base64 image; undefined for a link (BFL fetches links itself). */
async function imageField(
  body: Record<string, unknown>,
  field: string,
  issues: Issues,
  required: boolean,
): Promise<{ width: number; height: number } | "link" | undefined> {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) issues.add(field, "Field required", "missing");
    return undefined;
  }
  if (typeof value !== "string") {
    issues.add(field, "Input should be a valid string", "string_type");
    return undefined;
  }
  if (/^https?:\/\//i.test(value)) return "link";
  try {
    const metadata = await sharp(Buffer.from(value, "base64")).metadata();
    if (metadata.width && metadata.height) return { width: metadata.width, height: metadata.height };
  } catch {
    // reported below
  }
  issues.add(field, "Value error, Invalid image: not a base64-encoded image or a URL", "value_error");
  return undefined;
}

/** Width × height near `megapixels` for `ratio`, in steps of 32. */
function sizeOfRatio(ratio: number, megapixels: number): { width: number; height: number } {
  const height = Math.sqrt((megapixels * 1024 * 1024) / ratio);
  const round = (value: number) => Math.max(32, Math.round(value / 32) * 32);
  return { width: round(height * ratio), height: round(height) };
}

async function shapedSize(
  shape: ModelShape,
  body: Record<string, unknown>,
  issues: Issues,
): Promise<{ width: number; height: number; inputs: number }> {
  switch (shape.kind) {
    case "size": {
      const bounds = { min: shape.min, max: shape.max, step: shape.step };
      const width = integerField(body, "width", issues, bounds) ?? shape.defaults[0];
      const height = integerField(body, "height", issues, bounds) ?? shape.defaults[1];
      if (shape.maxPixels !== undefined && width * height > shape.maxPixels)
        issues.add("width", "Value error, width × height must be at most 4 megapixels", "value_error");
      return { width, height, inputs: 0 };
    }
    case "aspect":
      return { ...sizeOfRatio(aspectField(body, issues) ?? 16 / 9, shape.megapixels), inputs: 0 };
    case "edit": {
      const ratio = aspectField(body, issues);
      const images = await Promise.all(editInputs.map((field) => imageField(body, field, issues, false)));
      const first = images[0];
      const size =
        ratio !== undefined || first === undefined || first === "link" ? sizeOfRatio(ratio ?? 1, 1) : first;
      return { ...size, inputs: images.filter((image) => image !== undefined).length };
    }
    case "expand": {
      const image = await imageField(body, "image", issues, true);
      const [top = 0, bottom = 0, left = 0, right = 0] = expandSides.map(
        (side) => integerField(body, side, issues, { min: 0, max: 2048 }) ?? 0,
      );
      const base = typeof image === "object" ? image : { width: 1024, height: 1024 };
      return { width: base.width + left + right, height: base.height + top + bottom, inputs: 1 };
    }
    case "fill": {
      const image = await imageField(body, "image", issues, true);
      await imageField(body, "mask", issues, false);
      return { ...(typeof image === "object" ? image : { width: 1024, height: 1024 }), inputs: 1 };
    }
  }
}

/** The create as the emulator runs it, or the 422 issues BFL would answer with. */
export async function readCreate(
  model: EmulatedModel,
  raw: unknown,
  options: { allowInsecureWebhooks: boolean; randomSeed: () => number },
): Promise<CreateRequest | ValidationIssue[]> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [
      {
        loc: ["body"],
        msg: "Input should be a valid dictionary or object to extract fields from",
        type: "model_attributes_type",
      },
    ];
  }
  const body = asRecord(raw);
  const issues = new Issues();
  commonFields(body, issues, options.allowInsecureWebhooks);
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  const needsPrompt = model.shape.kind === "edit" || model.shape.kind === "size";
  if (needsPrompt && prompt.trim() === "" && body.image_prompt === undefined)
    issues.add("prompt", "Field required", "missing");
  const size = await shapedSize(model.shape, body, issues);
  if (issues.list.length > 0) return issues.list;
  const format = (body.output_format as "jpeg" | "png" | undefined) ?? model.format;
  return {
    prompt,
    seed: typeof body.seed === "number" ? body.seed : options.randomSeed(),
    width: size.width,
    height: size.height,
    format,
    inputs: size.inputs,
    ...(typeof body.webhook_url === "string" ? { webhookUrl: body.webhook_url } : {}),
    ...(typeof body.webhook_secret === "string" ? { webhookSecret: body.webhook_secret } : {}),
  };
}
