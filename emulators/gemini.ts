// An in-process Gemini API (Google AI, generativelanguage.googleapis.com) for contract tests and local
// runs, following Google's published protocol for native image generation ("Nano Banana"):
//   POST /v1beta/models/{model}:generateContent   one answer per call, one image per candidate
//   GET  /v1beta/models, GET /v1beta/models/{model}   the models this key may use
// Auth: `x-goog-api-key: <key>` (or `?key=`). A wrong key is 400 INVALID_ARGUMENT with ErrorInfo reason
// API_KEY_INVALID; no key is 403 PERMISSION_DENIED. Request: `{contents:[{role, parts:[{text} |
// {inlineData:{mimeType, data}}]}], generationConfig:{responseModalities, imageConfig:{aspectRatio,
// imageSize}, candidateCount?}}`, fields checked strictly (camelCase or snake_case, as Google's JSON
// parser takes). Answer: `{candidates:[{content:{role, parts:[{text}|{inlineData}]}, finishReason,
// finishMessage?}], promptFeedback?:{blockReason}, usageMetadata, modelVersion, responseId}`.
// Errors: `{"error":{"code","message","status","details"}}` — 400 INVALID_ARGUMENT (bad aspect ratio,
// image size, parts, token limit), 404 NOT_FOUND (unknown model), 429 RESOURCE_EXHAUSTED with
// QuotaFailure and RetryInfo in `details` (no Retry-After header is documented), 500 INTERNAL,
// 503 UNAVAILABLE.
// Sources: googleapis/js-genai src/types.ts (ImageConfig, GenerateContentResponse, Candidate,
// FinishReason incl. IMAGE_SAFETY/NO_IMAGE, BlockedReason incl. PROHIBITED_CONTENT; blockReasonMessage
// is "not supported in Gemini API"), js-genai src/gaos/models/interactions/image-config.ts (aspect
// ratios incl. 1:4…8:1 and image size "512" for Gemini 3.1 Flash Image), ai.google.dev/gemini-api/docs/
// models (stable image models gemini-2.5-flash-image, gemini-3-pro-image, gemini-3.1-flash-image),
// the Vertex model card of Gemini 3.1 Flash Image (tokens per image size), google-gemini/gemini-cli
// packages/core/src/utils/googleQuotaErrors.ts (RetryInfo.retryDelay, PerDay quota ids), and public
// issue reports quoting the real API_KEY_INVALID and NOT_FOUND bodies. Exact 400 message texts for a
// bad aspect ratio or image size are not published: the emulator's wording is its own.
// Result images are solid colours (emulators/images.ts), one per call, numbered by the order the
// emulator answers; calls arriving together are answered `staggerMs` apart in arrival order. The
// longer side is `tileLongSide` for "1K" (the real service: about 1024 px, e.g. 1344×768 for 16:9).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import sharp from "sharp";
import {
  apiKeyInvalid,
  defaultGeminiModels,
  type GeminiModelSpec,
  type GeminiRefusal,
  type GenerateAsk,
  googleError,
  injectedErrorBody,
  keyMissing,
  modelNotFound,
  modelResource,
  promptTokens,
  readGenerateRequest,
  refusalBody,
  sizeFactor,
  usageMetadata,
} from "./gemini-protocol.ts";
import {
  closeServer,
  type EmulatorHandle,
  type Fault,
  type FaultOptions,
  FaultQueue,
  listen,
  notProcessed,
  parseBody,
  type RecordedRequest,
  type Reply,
  readBody,
  sendReply,
} from "./http.ts";
import { contentTypeForFormat, type ImageFormat, makeResultImage, sizeForAspect } from "./images.ts";

export {
  type GeminiModelSpec,
  type GeminiRefusal,
  geminiRateLimitBody,
  googleErrorBody,
} from "./gemini-protocol.ts";

export interface GeminiEmulatorOptions {
  /** The only accepted key. Default "gemini-test-key". */
  apiKey?: string;
  models?: readonly GeminiModelSpec[];
  /** Time one generateContent call takes. Default 60 ms. */
  generationMs?: number;
  /** Extra time per call already running when a call arrives. Default 25 ms. */
  staggerMs?: number;
  /** Longer side of a "1K" image. Default 256. */
  tileLongSide?: number;
  imageFormat?: ImageFormat;
  refusePrompts?: RegExp;
}

export interface GeminiKnobs {
  generationMs: number;
  staggerMs: number;
  imageFormat: ImageFormat;
  /** Prompts (any text part) matching this are refused, as `refusal` says. */
  refusePrompts: RegExp | undefined;
  refusal: GeminiRefusal;
  /** generateContent calls are taken in and never answered (a stalled service); cut at stop(). */
  hang: boolean;
}

/** Whether (and how) a request carried the key; its value is never recorded. */
export interface GeminiRecordedRequest extends RecordedRequest {
  keyIn?: "header" | "query";
}

/** Google's own fault: the next calls are refused as `how` says, whatever their prompt. */
type BlockFault = { kind: "block"; how: GeminiRefusal } & FaultOptions;

export interface GeminiEmulator extends EmulatorHandle<GeminiKnobs> {
  apiKey: string;
  models: readonly GeminiModelSpec[];
  requests: GeminiRecordedRequest[];
  apiRequests(method?: string): GeminiRecordedRequest[];
  /** The next `count` generateContent calls are refused as `how` says. */
  blockNext(count: number, how: GeminiRefusal, options?: FaultOptions): void;
  /** The bodies of the generateContent calls received so far (faulted ones included). */
  generateBodies(): Record<string, unknown>[];
  /** Images answered so far. */
  imagesMade(): number;
}

const generatePath = /^\/v1beta\/models\/([^/:]+):generateContent$/;
const modelPath = /^\/v1beta\/models\/([^/:]+)$/;

export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const apiKey = options.apiKey ?? "gemini-test-key";
  const models = options.models ?? defaultGeminiModels;
  const tileLongSide = options.tileLongSide ?? 256;
  const knobs: GeminiKnobs = {
    generationMs: options.generationMs ?? 60,
    staggerMs: options.staggerMs ?? 25,
    imageFormat: options.imageFormat ?? "png",
    refusePrompts: options.refusePrompts,
    refusal: "text",
    hang: false,
  };
  const requests: GeminiRecordedRequest[] = [];
  const faults = new FaultQueue<BlockFault>();
  const timers = new Set<NodeJS.Timeout>();
  const responseIds: string[] = [];
  let inFlight = 0;
  let imagesMade = 0;

  const findModel = (name: string) => models.find((model) => model.name === name);

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /** The aspect of the answer: asked for, else the first input image's (as Gemini keeps it), else square. */
  async function aspectOf(ask: GenerateAsk): Promise<string> {
    if (ask.aspectRatio) return ask.aspectRatio;
    const first = ask.images[0];
    if (!first) return "1:1";
    const { width = 1, height = 1 } = await sharp(first.bytes).metadata();
    return `${width}:${height}`;
  }

  /** Answers leave in the order their images are numbered, a few ms apart, however long encoding takes. */
  let lastAnswer: Promise<unknown> = Promise.resolve();
  function inTurn<T>(work: Promise<T>): Promise<T> {
    const turn = lastAnswer.then(() => work);
    lastAnswer = turn.then(
      () => wait(3),
      () => wait(3),
    );
    return turn;
  }

  async function imageAnswer(model: GeminiModelSpec, ask: GenerateAsk, responseId: string): Promise<Reply> {
    const size = ask.imageSize ?? "1K";
    const index = imagesMade;
    imagesMade += 1;
    const longSide = Math.round(tileLongSide * (sizeFactor[size] ?? 1));
    const format = knobs.imageFormat;
    const shape = aspectOf(ask).then((aspect) => sizeForAspect(aspect, longSide));
    const bytes = await inTurn(shape.then((box) => makeResultImage({ ...box, index, format })));
    const parts: unknown[] = ask.modalities.includes("TEXT")
      ? [{ text: "Here is the image you asked for." }]
      : [];
    parts.push({ inlineData: { mimeType: contentTypeForFormat[format], data: bytes.toString("base64") } });
    const output = model.imageTokens[size] ?? 1290;
    return {
      status: 200,
      body: {
        candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
        usageMetadata: usageMetadata(promptTokens(ask), output),
        modelVersion: model.name,
        responseId,
      },
    };
  }

  function refusalFor(
    ask: GenerateAsk,
    fault: Fault | BlockFault | undefined,
  ): { how: GeminiRefusal; word: string } | undefined {
    if (fault?.kind === "block") return { how: fault.how, word: "this" };
    const word = ask.texts.map((text) => knobs.refusePrompts?.exec(text)?.[0]).find(Boolean);
    if (word === undefined) return undefined;
    // Without TEXT in the modalities there are no words to refuse with: the image is filtered instead.
    const how = knobs.refusal === "text" && !ask.modalities.includes("TEXT") ? "image" : knobs.refusal;
    return { how, word };
  }

  async function generate(
    modelName: string,
    body: unknown,
    fault: Fault | BlockFault | undefined,
  ): Promise<Reply> {
    const model = findModel(modelName);
    if (!model) return modelNotFound(modelName);
    const ask = readGenerateRequest(model, body);
    if ("status" in ask) return ask;
    const delay = knobs.generationMs + knobs.staggerMs * inFlight;
    inFlight += 1;
    try {
      await wait(delay);
    } finally {
      inFlight -= 1;
    }
    const responseId = randomUUID().replaceAll("-", "").slice(0, 22);
    responseIds.push(responseId);
    const refused = refusalFor(ask, fault);
    if (refused) {
      const meta = { modelVersion: model.name, responseId, promptTokens: promptTokens(ask) };
      return { status: 200, body: refusalBody(refused.how, refused.word, meta) };
    }
    if (!ask.modalities.includes("IMAGE")) {
      const text = "Here is a description instead of an image.";
      return {
        status: 200,
        body: {
          candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
          usageMetadata: usageMetadata(promptTokens(ask), 10, "TEXT"),
          modelVersion: model.name,
          responseId,
        },
      };
    }
    return imageAnswer(model, ask, responseId);
  }

  function route(
    method: string,
    path: string,
    body: unknown,
    fault: Fault | BlockFault | undefined,
  ): Promise<Reply> | Reply {
    const generateMatch = generatePath.exec(path);
    if (method === "POST" && generateMatch)
      return generate(decodeURIComponent(generateMatch[1] ?? ""), body, fault);
    if (method === "GET" && path === "/v1beta/models")
      return { status: 200, body: { models: models.map(modelResource) } };
    const modelMatch = modelPath.exec(path);
    if (method === "GET" && modelMatch) {
      const model = findModel(decodeURIComponent(modelMatch[1] ?? ""));
      return model ? { status: 200, body: modelResource(model) } : modelNotFound(modelMatch[1] ?? "");
    }
    // Google's front end answers an unknown path with an HTML page, not the API's error format.
    return {
      status: 404,
      body: `<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>The requested URL ${path} was not found on this server.`,
    };
  }

  function authorize(
    request: IncomingMessage,
    url: URL,
  ): Pick<GeminiRecordedRequest, "hasAuthHeader" | "authorized" | "keyIn"> {
    const header = request.headers["x-goog-api-key"];
    const query = url.searchParams.get("key");
    const given = typeof header === "string" ? header : (query ?? undefined);
    const keyIn = typeof header === "string" ? "header" : query !== null ? "query" : undefined;
    return { hasAuthHeader: given !== undefined, authorized: given === apiKey, keyIn };
  }

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://emulator");
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    const body = parseBody(raw);
    const record: GeminiRecordedRequest = { method, path: url.pathname, body, ...authorize(request, url) };
    requests.push(record);
    const taken = faults.take(method, url.pathname);
    const modelName = generatePath.exec(url.pathname)?.[1] ?? "unknown";
    // Injected failures carry Google's error body unless the test gives its own.
    const fault =
      taken?.kind === "fail" && taken.body === undefined
        ? { ...taken, body: injectedErrorBody(taken.status, modelName) }
        : taken;
    if (fault?.kind === "fail" && !fault.afterProcessing)
      return sendReply(response, record, notProcessed, fault);
    let reply: Reply;
    if (!record.hasAuthHeader) reply = keyMissing();
    else if (!record.authorized) reply = apiKeyInvalid();
    else if (method === "POST" && raw !== "" && body === raw)
      reply = googleError(400, "Invalid JSON payload received. Unexpected token.");
    else if (knobs.hang && method === "POST")
      return; // left open; stop() cuts it
    else reply = await route(method, url.pathname, body, fault);
    if (response.destroyed) return;
    sendReply(response, record, reply, fault?.kind === "block" ? undefined : fault);
  }

  const server = createServer((request, response) => {
    response.on("error", () => {});
    respond(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify(injectedErrorBody(500, String(error))));
      } else response.destroy();
    });
  });
  const baseUrl = await listen(server);
  const generateRequests = () => requests.filter((request) => generatePath.test(request.path));

  return {
    baseUrl,
    apiKey,
    models,
    requests,
    knobs,
    failNext: faults.failNext,
    malformedNext: faults.malformedNext,
    truncateNext: faults.truncateNext,
    truncatePolls: faults.truncatePolls,
    clearFaults: faults.clearFaults,
    blockNext(count, how, faultOptions = {}) {
      for (let n = 0; n < count; n += 1) faults.add({ kind: "block", how, method: "POST", ...faultOptions });
    },
    apiRequests: (method) => requests.filter((request) => method === undefined || request.method === method),
    generateBodies: () => generateRequests().map((request) => request.body as Record<string, unknown>),
    imagesMade: () => imagesMade,
    taskIds: () => [...responseIds],
    stop: () => closeServer(server, timers),
  };
}
