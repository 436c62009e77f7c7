// The OpenAI emulator's HTTP side, apart from the server itself: reading a request (JSON, multipart,
// JSON edits naming images), what is recorded of it, OpenAI's error answers for a status or a wrong
// key, and the order of a stream's events. Sources are listed in emulators/openai.ts.
import type { IncomingMessage } from "node:http";
import type { Fault, Reply } from "./http.ts";
import {
  type ImageJob,
  openaiErrorBody,
  readImageRef,
  readUpload,
  type UploadedImage,
} from "./openai-requests.ts";

/** One event of a stream: a partial image of image `image`, or (without `partial`) the image itself. */
export interface StreamStep {
  image: number;
  partial?: number;
}

export const refusalWording = "Your request was rejected by the safety system.";

/** The body OpenAI sends with a status, for faults injected without one. */
export function statusBody(status: number) {
  if (status === 429) {
    return openaiErrorBody(
      "Rate limit reached for images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in 12s.",
      "requests",
      null,
      "rate_limit_exceeded",
    );
  }
  if (status === 401)
    return openaiErrorBody("Invalid authorization.", "invalid_request_error", null, "invalid_api_key");
  if (status === 503)
    return openaiErrorBody("The engine is currently overloaded, please try again later.", "server_error");
  if (status >= 500)
    return openaiErrorBody(
      "The server had an error while processing your request. Sorry about that!",
      "server_error",
    );
  return openaiErrorBody(`Injected HTTP ${status}.`, "invalid_request_error");
}

/** The key as OpenAI echoes it in a 401: the first 3 and last 4 characters. */
function maskedKey(key: string): string {
  return key.length <= 8
    ? "*".repeat(key.length)
    : `${key.slice(0, 3)}${"*".repeat(key.length - 7)}${key.slice(-4)}`;
}

export function unauthorized(header: string | undefined): Reply {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1];
  if (given === undefined) {
    return {
      status: 401,
      body: openaiErrorBody(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
      ),
    };
  }
  return {
    status: 401,
    body: openaiErrorBody(
      `Incorrect API key provided: ${maskedKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      "invalid_request_error",
      null,
      "invalid_api_key",
    ),
  };
}

export async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface ParsedRequest {
  kind: "json" | "multipart" | "none" | "unreadable";
  fields: Record<string, unknown>;
  images: (UploadedImage | undefined)[];
  mask?: UploadedImage | undefined;
  hasMask: boolean;
}

export async function parseRequest(contentType: string, raw: Buffer): Promise<ParsedRequest> {
  const empty: ParsedRequest = { kind: "none", fields: {}, images: [], hasMask: false };
  if (raw.length === 0) return empty;
  if (contentType.startsWith("multipart/form-data")) {
    const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
    const parsed: ParsedRequest = { ...empty, kind: "multipart", images: [] };
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") parsed.fields[name] = value;
      else if (name === "mask") {
        parsed.hasMask = true;
        parsed.mask = await readUpload(value);
      } else if (name === "image" || name === "image[]") parsed.images.push(await readUpload(value));
    }
    return parsed;
  }
  let fields: unknown;
  try {
    fields = JSON.parse(raw.toString("utf8"));
    if (typeof fields !== "object" || fields === null || Array.isArray(fields))
      throw new Error("not an object");
  } catch {
    return { ...empty, kind: "unreadable" };
  }
  // A JSON edit names its images (`images: [{image_url}]`) instead of uploading them.
  const refs = (fields as { images?: unknown }).images;
  const images = Array.isArray(refs) ? await Promise.all(refs.map(readImageRef)) : [];
  return { ...empty, kind: "json", fields: fields as Record<string, unknown>, images };
}

/** What the request body is recorded as: JSON as sent, multipart as its fields and files. */
export function recordedBody(parsed: ParsedRequest): unknown {
  if (parsed.kind !== "multipart") return parsed.kind === "json" ? parsed.fields : undefined;
  return {
    ...parsed.fields,
    "image[]": parsed.images,
    ...(parsed.hasMask ? { mask: parsed.mask } : {}),
  };
}

export function failure(fault: Extract<Fault, { kind: "fail" }>): Reply {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
  if (fault.status === 429) {
    headers["x-ratelimit-remaining-requests"] = "0";
    headers["x-ratelimit-reset-requests"] = `${fault.retryAfter ?? "12"}s`;
  }
  return { status: fault.status, body: fault.body ?? statusBody(fault.status), headers };
}

/** The events of one stream, in order: each image's partial images, then that image. */
export function streamPlan(job: ImageJob, imagesPerStream: number | undefined): StreamStep[] {
  const images = Math.min(job.n, imagesPerStream ?? job.n);
  const plan: StreamStep[] = [];
  for (let image = 0; image < images; image += 1) {
    for (let partial = 0; partial < job.partialImages; partial += 1) plan.push({ image, partial });
    plan.push({ image });
  }
  return plan;
}
