// An in-process OpenAI Images API (GPT Image models) for tests and local runs, following OpenAI's
// published reference:
// - openai/openai-openapi `openapi.yaml` (commit f85dbe2, 2026-08-21): `POST /images/generations`
//   (JSON) and `POST /images/edits` (multipart `image[]` up to 16 and `mask`, or JSON `images` of
//   `{image_url}`), the fields `model`,
//   `prompt`, `n` 1–10, `size`, `quality` low|medium|high|auto, `background`, `output_format`,
//   `moderation`, `input_fidelity`, `stream` + `partial_images` 0–3; the answers `ImagesResponse`
//   `{created, data:[{b64_json}], usage}` and the events `image_generation.partial_image` /
//   `image_generation.completed` (`image_edit.*` for edits), whose usage is `ImagesUsage`.
// - OpenAI's image-generation guide (developers.openai.com/api/docs/guides/image-generation): sizes of
//   gpt-image-2 (any WxH in multiples of 16, edge ≤ 3840, ratio ≤ 3:1, 655,360–8,294,400 pixels),
//   no transparent background and no `input_fidelity` on gpt-image-2, masks (PNG with alpha, same
//   size as the image), the output-token table, partial images at +100 tokens, and blocked requests:
//   HTTP 400 `{"error":{"type":"image_generation_user_error","code":"moderation_blocked",
//   "moderation_details":{"moderation_stage","categories"}}}`.
// - openai/openai-node (commit 7b7d6ca) `src/core/streaming.ts`: server-sent events, an `error`
//   event (or data carrying `error`) ends a stream with that error; `src/internal/uploads.ts`: arrays
//   go in multipart as `image[]`.
// - OpenAI's error codes as its API sends them (401 `invalid_api_key` with the key masked; 429
//   `rate_limit_exceeded` with `x-ratelimit-*` and `retry-after` headers; 429 `insufficient_quota`).
// Also `GET /models/{model}` (the reference's retrieveModel: `{id, object, created, owned_by}`).
// Not emulated: DALL·E models, `file_id` images (no Files API), fetching `image_url` links, `user`.
// Result images are real images of the asked size, one clear colour per index (emulators/images.ts);
// partial images while streaming show the same colour. Faults: failNext, slowNext, truncateNext (a
// stream cut half-way), cutStreamNext, malformedNext, and knobs for refusals, quota and stalls.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  closeServer,
  type EmulatorHandle,
  type Fault,
  type FaultOptions,
  FaultQueue,
  listen,
  type RecordedRequest,
  type Reply,
} from "./http.ts";
import { makeResultImage } from "./images.ts";
import {
  failure,
  type ParsedRequest,
  parseRequest,
  readRaw,
  recordedBody,
  refusalWording,
  streamPlan,
  unauthorized,
} from "./openai-http.ts";
import {
  checkEdit,
  checkGeneration,
  type ImageJob,
  imageUsage,
  invalidRequest,
  openaiErrorBody,
  openaiImageModels,
} from "./openai-requests.ts";

export {
  type ImageJob as OpenAiImageJob,
  openaiErrorBody,
  openaiImageModels,
  type UploadedImage as OpenAiUpload,
} from "./openai-requests.ts";

export interface OpenAiEmulatorOptions {
  /** The only accepted Bearer key. Default "sk-emulator-0123456789abcdef". */
  apiKey?: string;
  /** How long one request takes to make all its images. Default 300 ms. */
  durationMs?: number;
  /** Models served. Default the GPT Image models of OpenAI's reference. */
  models?: readonly string[];
  refusePrompts?: RegExp;
}

export interface OpenAiEmulatorKnobs {
  durationMs: number;
  /** Prompts blocked on input: HTTP 400 `moderation_blocked` before anything is made. */
  refusePrompts: RegExp | undefined;
  /** Prompts blocked on output: an `error` event after the first image's partial images. */
  refuseOutputs: RegExp | undefined;
  /** The categories a block names (`moderation_details.categories`). */
  moderationCategories: string[];
  /** Overrides the message of a block (OpenAI's own wording by default). */
  refusalMessage: string | undefined;
  /** The account has no credit: HTTP 429 `insufficient_quota`. */
  quotaExhausted: boolean;
  /** Streams send their first event and then nothing more, without closing. */
  stall: boolean;
  /** A stream ends after this many images whatever `n` asked (how n > 1 streams is not documented). */
  imagesPerStream: number | undefined;
}

/** `requests[].body` is the JSON body, or for multipart the fields with files as `UploadedImage`. */
export interface OpenAiEmulator extends EmulatorHandle<OpenAiEmulatorKnobs> {
  apiKey: string;
  /** The next matching request is processed, its headers held back for `ms`. */
  slowNext(ms: number, options?: FaultOptions): void;
  /** The next matching stream is cut (connection destroyed) after `events` events. */
  cutStreamNext(events: number, options?: FaultOptions): void;
}

type OwnFault = ({ kind: "slow"; ms: number } | { kind: "cut"; events: number }) & FaultOptions;

const prefix = "/v1";

/** The knobs of a well-behaved service (what tests reset to between cases). */
export function openaiDefaultKnobs(durationMs = 300, refusePrompts?: RegExp): OpenAiEmulatorKnobs {
  return {
    durationMs,
    refusePrompts,
    refuseOutputs: undefined,
    moderationCategories: [],
    refusalMessage: undefined,
    quotaExhausted: false,
    stall: false,
    imagesPerStream: undefined,
  };
}

export async function startOpenAiEmulator(options: OpenAiEmulatorOptions = {}): Promise<OpenAiEmulator> {
  const apiKey = options.apiKey ?? "sk-emulator-0123456789abcdef";
  const served = options.models ?? openaiImageModels;
  const knobs = openaiDefaultKnobs(options.durationMs, options.refusePrompts);
  const requests: RecordedRequest[] = [];
  const taskIds: string[] = [];
  const faults = new FaultQueue<OwnFault>();
  const timers = new Set<NodeJS.Timeout>();
  const imageCache = new Map<string, Promise<Buffer>>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  function imageBytes(job: ImageJob, index: number): Promise<Buffer> {
    const key = `${job.width}x${job.height}:${index}:${job.format}`;
    let image = imageCache.get(key);
    if (!image) {
      image = makeResultImage({ width: job.width, height: job.height, index, format: job.format });
      imageCache.set(key, image);
    }
    return image;
  }

  function blocked(stage: "input" | "output"): ReturnType<typeof openaiErrorBody> {
    return openaiErrorBody(
      knobs.refusalMessage ?? refusalWording,
      "image_generation_user_error",
      null,
      "moderation_blocked",
      {
        moderation_details: { moderation_stage: stage, categories: knobs.moderationCategories },
      },
    );
  }

  /** A request the service takes on (and bills), or the error that stops it first. */
  function accept(path: string, parsed: ParsedRequest): ImageJob | Reply {
    if (parsed.kind === "unreadable") {
      return invalidRequest("We could not parse the JSON body of your request.", null);
    }
    let job: ImageJob | Reply;
    if (path === "/images/generations") {
      job =
        parsed.kind === "multipart"
          ? invalidRequest("Generations take a JSON body.", null)
          : checkGeneration(parsed.fields, served);
    } else if (path === "/images/edits") {
      job = checkEdit(parsed.fields, parsed, served);
    } else {
      return {
        status: 404,
        body: openaiErrorBody(`Invalid URL (POST ${prefix}${path})`, "invalid_request_error"),
      };
    }
    if ("status" in job) return job;
    if (knobs.quotaExhausted) {
      return {
        status: 429,
        body: openaiErrorBody(
          "You exceeded your current quota, please check your plan and billing details.",
          "insufficient_quota",
          null,
          "insufficient_quota",
        ),
      };
    }
    if (knobs.refusePrompts?.test(job.prompt)) return { status: 400, body: blocked("input") };
    return job;
  }

  function invalidUrl(method: string, path: string): Reply {
    return { status: 404, body: openaiErrorBody(`Invalid URL (${method} ${path})`, "invalid_request_error") };
  }

  /** `GET /models/{model}` (what the adapter checks at start), or an image request. */
  function route(method: string, path: string, parsed: ParsedRequest): ImageJob | Reply {
    const model = /^\/models\/([^/]+)$/.exec(path);
    if (method === "GET" && model) {
      const id = decodeURIComponent(model[1] ?? "");
      if (!served.includes(id)) {
        return {
          status: 404,
          body: openaiErrorBody(
            `The model '${id}' does not exist`,
            "invalid_request_error",
            "model",
            "model_not_found",
          ),
        };
      }
      return { status: 200, body: { id, object: "model", created: 1_745_000_000, owned_by: "system" } };
    }
    if (method !== "POST") return invalidUrl(method, `${prefix}${path}`);
    return accept(path, parsed);
  }

  function headersFor(requestId: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      "x-request-id": requestId,
      "x-ratelimit-limit-requests": "50",
      "x-ratelimit-remaining-requests": "49",
      "x-ratelimit-reset-requests": "1.2s",
      ...extra,
    };
  }

  function sendJson(
    response: ServerResponse,
    record: RecordedRequest,
    reply: Reply,
    requestId: string,
  ): void {
    if (response.destroyed) return;
    record.status = reply.status;
    response.writeHead(reply.status, {
      "content-type": "application/json",
      ...headersFor(requestId, reply.headers),
    });
    response.end(JSON.stringify(reply.body));
  }

  async function answerJson(
    response: ServerResponse,
    record: RecordedRequest,
    job: ImageJob,
    requestId: string,
    fault?: Fault | OwnFault,
  ) {
    await wait(knobs.durationMs);
    const data = await Promise.all(
      Array.from({ length: job.n }, async (_, index) => ({
        b64_json: (await imageBytes(job, index)).toString("base64"),
      })),
    );
    const usage = imageUsage(job, 0, true);
    usage.output_tokens *= job.n;
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    const body = {
      created: Math.floor(Date.now() / 1000),
      data,
      background: job.background === "transparent" ? "transparent" : "opaque",
      output_format: job.format,
      size: `${job.width}x${job.height}`,
      quality: job.quality === "auto" ? "medium" : job.quality,
      usage,
    };
    if (fault?.kind === "truncate" || fault?.kind === "malformed") {
      const text =
        fault.kind === "malformed" ? '{"created": 17, "data": [{"b64_json": ' : JSON.stringify(body);
      record.status = 200;
      response.writeHead(200, {
        "content-type": "application/json",
        ...headersFor(requestId),
        "content-length": String(Buffer.byteLength(text)),
      });
      response.write(fault.kind === "malformed" ? text : text.slice(0, Math.floor(text.length / 2)));
      await wait(20);
      response.destroy();
      return;
    }
    sendJson(response, record, { status: 200, body }, requestId);
  }

  async function streamEvent(job: ImageJob, step: { image: number; partial?: number }): Promise<string> {
    const family = job.endpoint === "generations" ? "image_generation" : "image_edit";
    const common = {
      b64_json: (await imageBytes(job, step.image)).toString("base64"),
      created_at: Math.floor(Date.now() / 1000),
      size: job.size,
      quality: job.quality === "auto" ? "medium" : job.quality,
      background: job.background === "transparent" ? "transparent" : "opaque",
      output_format: job.format,
    };
    const data =
      step.partial === undefined
        ? {
            type: `${family}.completed`,
            ...common,
            usage: imageUsage(job, job.partialImages, step.image === 0),
          }
        : { type: `${family}.partial_image`, ...common, partial_image_index: step.partial };
    return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  function cutAfter(fault: Fault | OwnFault | undefined, total: number): number | undefined {
    if (fault?.kind === "cut") return fault.events;
    if (fault?.kind === "truncate") return Math.max(1, Math.floor(total / 2));
    return undefined;
  }

  async function answerStream(
    response: ServerResponse,
    record: RecordedRequest,
    job: ImageJob,
    requestId: string,
    fault?: Fault | OwnFault,
  ) {
    record.status = 200;
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...headersFor(requestId),
    });
    if (fault?.kind === "malformed") {
      response.write(
        'event: image_generation.partial_image\ndata: {"type": "image_generation.partial_im\n\n',
      );
      response.end();
      return;
    }
    const plan = streamPlan(job, knobs.imagesPerStream);
    const cut = cutAfter(fault, plan.length);
    const pause = knobs.durationMs / Math.max(1, plan.length);
    for (const [sent, step] of plan.entries()) {
      if (response.destroyed) return;
      if (cut !== undefined && sent >= cut) {
        // Let what was written leave before the connection dies, as a real cut does.
        await wait(20);
        response.destroy();
        return;
      }
      if (knobs.stall && sent >= 1) return; // held open, silent, until the client or stop() ends it
      await wait(pause);
      if (step.partial === undefined && knobs.refuseOutputs?.test(job.prompt)) {
        // The finished image is what the output check blocks: the stream ends with the error instead.
        response.end(`event: error\ndata: ${JSON.stringify({ type: "error", ...blocked("output") })}\n\n`);
        return;
      }
      response.write(await streamEvent(job, step));
    }
    response.end();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://emulator").pathname;
    const method = request.method ?? "GET";
    const raw = await readRaw(request);
    const parsed = await parseRequest(request.headers["content-type"] ?? "", raw);
    const header = request.headers.authorization;
    const authorized = header === `Bearer ${apiKey}`;
    const record: RecordedRequest = {
      method,
      path,
      body: recordedBody(parsed),
      hasAuthHeader: header !== undefined,
      authorized,
    };
    requests.push(record);
    const requestId = `req_${randomBytes(16).toString("hex")}`;
    const apiPath = path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
    const fault = apiPath === undefined ? undefined : faults.take(method, apiPath);
    if (fault) record.fault = fault.kind === "fail" ? `fail ${fault.status}` : fault.kind;
    if (fault?.kind === "fail" && !fault.afterProcessing)
      return sendJson(response, record, failure(fault), requestId);
    if (fault?.kind === "slow") await wait(fault.ms);
    const outcome: ImageJob | Reply =
      apiPath === undefined
        ? invalidUrl(method, path)
        : !authorized
          ? unauthorized(header)
          : route(method, apiPath, parsed);
    if ("status" in outcome) return sendJson(response, record, outcome, requestId);
    taskIds.push(requestId);
    if (fault?.kind === "fail") return sendJson(response, record, failure(fault), requestId);
    if (outcome.stream) return answerStream(response, record, outcome, requestId, fault);
    return answerJson(response, record, outcome, requestId, fault);
  }

  const server = createServer((request, response) => {
    response.on("error", () => {});
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(
          JSON.stringify(openaiErrorBody(`The server had an error: ${String(error)}`, "server_error")),
        );
      }
    });
  });
  const baseUrl = `${await listen(server)}${prefix}`;

  return {
    baseUrl,
    apiKey,
    requests,
    knobs,
    failNext: faults.failNext,
    malformedNext: faults.malformedNext,
    truncateNext: faults.truncateNext,
    truncatePolls: faults.truncatePolls,
    clearFaults: faults.clearFaults,
    slowNext: (ms, faultOptions = {}) => faults.add({ kind: "slow", ms, ...faultOptions }),
    cutStreamNext: (events, faultOptions = {}) => faults.add({ kind: "cut", events, ...faultOptions }),
    apiRequests: (method) =>
      requests.filter(
        (request) =>
          request.path.startsWith(`${prefix}/`) && (method === undefined || request.method === method),
      ),
    taskIds: () => [...taskIds],
    stop: () => closeServer(server, timers),
  };
}
