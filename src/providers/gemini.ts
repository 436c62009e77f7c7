// Google Gemini's native image generation ("Nano Banana"): POST
// /v1beta/models/{model}:generateContent answers with one finished image (base64) per call. A set is
// four such calls, run together in the background (gemini-tasks.ts keeps the task and its snapshot);
// images are kept as blobs. U picks an image (no call); V sends the chosen image back with a
// subtle/strong instruction; 🔄 runs the prompt again; "Run as HD" asks for the 2K size; /blend sends
// 2–5 images with a blend instruction. No seed, no outpainting, no cancel. The key goes in the
// `x-goog-api-key` header, never in a URL. The prompt's side is in gemini-plan.ts, the JSON in
// gemini-wire.ts.
import { silentLogger } from "../log.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import { defineProvider } from "./define.ts";
import {
  blendAspect,
  blendInstruction,
  type GeminiModel,
  type GeminiPlan,
  type GenerateBody,
  geminiMaxPromptLength,
  geminiModel,
  generateBody,
  hdImageSize,
  invalid,
  planGeneration,
  variationInstruction,
} from "./gemini-plan.ts";
import { GeminiTasks } from "./gemini-tasks.ts";
import {
  GeminiRateLimitError,
  type GeneratedImage,
  generatedImage,
  generateResponseSchema,
  mapGeminiHttpError,
  modelListSchema,
  modelProblemCodes,
  modelSchema,
} from "./gemini-wire.ts";
import {
  type Clock,
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type ProviderLogger,
  systemClock,
} from "./http.ts";
import { imageOf, separateImage, withoutSeed } from "./shared.ts";
import { nearestAspectRatio } from "./translate.ts";
import {
  type BlendRequest,
  type DeclaredCapabilities,
  type FollowUpRequest,
  type ImageInput,
  type ImageProvider,
  type ParentTask,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
} from "./types.ts";

export interface GeminiProviderOptions {
  apiKey: string;
  /** e.g. https://generativelanguage.googleapis.com (a trailing /v1beta is understood). */
  baseUrl: string;
  /** An image model, e.g. "gemini-3.1-flash-image". */
  model: string;
  /** Where result images are kept (the bot's store). */
  blobs: ResultBlobs;
  logger?: ProviderLogger;
  /** Transport tuning (tests inject short timeouts and a recording sleep). */
  http?: Pick<HttpClientOptions, "timeouts" | "retry" | "clock" | "dispatcher" | "maxResponseBytes">;
  /** How long a finished set stays readable by fetchTask. Default one hour. */
  keepFinishedMs?: number;
}

export interface GeminiProvider extends ImageProvider {
  blend(request: BlendRequest, signal?: AbortSignal): Promise<SubmitResult>;
  verify(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Images in a set: one per call. */
const imagesPerSet = 4;
/** Waits Google's RetryInfo asks for, per call, after the HTTP client's own retries gave up. */
const maxRateLimitWaits = 2;
const maxRateLimitWaitMs = 60_000;

/** One configured Gemini key and model, as every call below needs it. */
interface Gemini {
  http: HttpClient;
  model: GeminiModel;
  /** Path of generateContent for the model, below the base URL. */
  generatePath: string;
  modelsPath: string;
  blobs: ResultBlobs;
  tasks: GeminiTasks;
  secrets: string[];
  logger: ProviderLogger;
  sleep: Clock["sleep"];
  /** The image models this key may use, listed once when the configured one turns out wrong. */
  imageModels?: Promise<string[]>;
}

function declaredCapabilities(model: GeminiModel): DeclaredCapabilities {
  return {
    upscale: "separate",
    upscaleStyles: [],
    variation: ["subtle", "strong"],
    reroll: true,
    hd: model.facts.imageSizes.includes(hdImageSize),
    outpaint: false,
    remix: true,
    progressPreview: false,
    speeds: [],
    draft: false,
    maxPromptLength: geminiMaxPromptLength,
    passThroughParams: [],
    // Four calls of up to 3 minutes each, side by side, plus Google's rate-limit waits.
    maxTaskDurationMs: 10 * 60_000,
    imagesPerSet,
  };
}

/** The image models the key may use, for an error that names GEMINI_IMAGE_MODEL; [] when unknown. */
function imageModels(gemini: Gemini): Promise<string[]> {
  gemini.imageModels ??= gemini.http
    .read(`${gemini.modelsPath}?pageSize=1000`, modelListSchema)
    .then((list) =>
      (list.models ?? [])
        .filter((model) => model.supportedGenerationMethods?.includes("generateContent"))
        .map((model) => model.name.replace(/^models\//, ""))
        .filter((name) => name.includes("image")),
    )
    .catch(() => {
      gemini.imageModels = undefined;
      return [];
    });
  return gemini.imageModels;
}

/** A wrong model named with what to set instead; other errors as they are. */
async function explained(gemini: Gemini, error: unknown): Promise<unknown> {
  if (!(error instanceof ProviderError) || !modelProblemCodes.has(error.code ?? "")) return error;
  const names = await imageModels(gemini);
  const choices =
    names.length > 0
      ? `one of: ${names.join(", ")}`
      : "an image model from https://ai.google.dev/gemini-api/docs/models";
  return new ProviderError(
    "internal",
    `${error.message}. GEMINI_IMAGE_MODEL is "${gemini.model.name}"; set it to ${choices}.`,
    { code: error.code, cause: error },
  );
}

/** One image: a generateContent call, waiting out Google's rate limit (RetryInfo) at most twice. */
async function generateOne(gemini: Gemini, body: GenerateBody, signal: AbortSignal): Promise<GeneratedImage> {
  for (let waits = 0; ; waits += 1) {
    try {
      const answer = await gemini.http.requestJson({
        method: "POST",
        path: gemini.generatePath,
        body,
        schema: generateResponseSchema,
        idempotent: false,
        signal,
      });
      return generatedImage(answer, gemini.secrets);
    } catch (error) {
      if (!(error instanceof GeminiRateLimitError) || waits >= maxRateLimitWaits)
        throw await explained(gemini, error);
      const delay = Math.min(error.retryAfterMs ?? maxRateLimitWaitMs, maxRateLimitWaitMs);
      gemini.logger.debug("Gemini: waiting out the rate limit", { delayMs: delay, wait: waits + 1 });
      await gemini.sleep(delay, signal);
    }
  }
}

/** Starts the four calls of a set; the task id comes back at once. */
function startSet(gemini: Gemini, body: GenerateBody, warnings: ProviderWarning[]): SubmitResult {
  const taskId = gemini.tasks.start(imagesPerSet, (signal) => generateOne(gemini, body, signal));
  return { kind: "task", taskId, warnings };
}

function planned(result: { plan: GeminiPlan } | { error: ProviderError }): GeminiPlan {
  if ("error" in result) throw result.error;
  return result.plan;
}

/** The bytes of image `index` of the set, from the blob store (never downloaded from anywhere). */
async function chosenImage(gemini: Gemini, parent: ParentTask, index: number): Promise<ImageInput> {
  const blob = await gemini.blobs.get(imageOf(parent, index));
  if (!blob)
    throw invalid(
      `Image ${index} of this set is no longer kept (Gemini's images are kept for a week): run the prompt again.`,
      "image_expired",
    );
  return { bytes: blob.bytes, contentType: blob.contentType };
}

async function variation(
  gemini: Gemini,
  request: Extract<FollowUpRequest, { kind: "variation" }>,
): Promise<SubmitResult> {
  const { parent, index, strength } = request;
  const image = await chosenImage(gemini, parent, index);
  // The chosen image stands for the set: its seed means nothing here, its image prompts are not sent.
  const base = { ...withoutSeed(request.prompt ?? parent.prompt), images: [] };
  const plan = planned(planGeneration(base, { quality: parent.quality }, gemini.model, false));
  const body = generateBody({ ...plan, text: variationInstruction(strength, plan.text) }, [image]);
  return startSet(gemini, body, plan.warnings);
}

/** "Run as HD": the same prompt at the 2K size; without a seed it is a new set, not the same images. */
function runAsHd(gemini: Gemini, parent: ParentTask): SubmitResult {
  const plan = planned(planGeneration(parent.prompt, { quality: "hd" }, gemini.model));
  const warning: ProviderWarning = {
    type: "changed",
    feature: "Run as HD",
    details: "Gemini has no seed, so the HD set is composed anew rather than the same images larger",
  };
  return startSet(gemini, generateBody(plan, []), [warning, ...plan.warnings]);
}

async function followUp(gemini: Gemini, request: FollowUpRequest): Promise<SubmitResult> {
  switch (request.kind) {
    case "upscale":
      return separateImage(request.parent, request.index);
    case "variation":
      return variation(gemini, request);
    case "reroll": {
      // No seed to drop or keep: Gemini makes new images each time (a --seed is warned about).
      const prompt = request.prompt ?? request.parent.prompt;
      const plan = planned(planGeneration(prompt, { quality: request.parent.quality }, gemini.model));
      return startSet(gemini, generateBody(plan, []), plan.warnings);
    }
    case "hd":
      if (!gemini.model.facts.imageSizes.includes(hdImageSize))
        throw invalid(`${gemini.model.name} makes one image size only: there is no HD run.`, "no_hd");
      return runAsHd(gemini, request.parent);
    case "action":
      throw invalid("Gemini has no provider buttons to press.", "unsupported_action");
    default:
      throw invalid(
        "Gemini cannot extend an image beyond its edges (no Zoom Out, Pan or Make Square).",
        "no_outpaint",
      );
  }
}

function blend(gemini: Gemini, request: BlendRequest): SubmitResult {
  const count = request.images.length;
  if (count < 2 || count > 5) throw invalid(`/blend takes 2 to 5 images (got ${count}).`, "blend_count");
  const { ratio } = nearestAspectRatio(
    blendAspect[request.dimensions],
    gemini.model.facts.aspectRatios,
    "Gemini",
  );
  return startSet(
    gemini,
    generateBody({ text: blendInstruction(count), aspectRatio: ratio }, request.images),
    [],
  );
}

/** Paths below the base URL: `/v1beta` is added unless the base already ends in an API version. */
function apiRoot(baseUrl: string): string {
  return /\/v1(alpha|beta)?\/?$/.test(new URL(baseUrl).pathname) ? "" : "/v1beta";
}

/**
 * At start: `GET /v1beta/models/{model}` proves the key, the base URL and the model in one free read
 * (generateContent has nothing to read without making an image).
 */
async function verify(gemini: Gemini, signal?: AbortSignal): Promise<void> {
  try {
    await gemini.http.read(
      `${gemini.modelsPath}/${encodeURIComponent(gemini.model.name)}`,
      modelSchema,
      signal,
    );
  } catch (error) {
    if (!(error instanceof ProviderError) || error.kind === "auth") throw error;
    if (modelProblemCodes.has(error.code ?? "")) throw await explained(gemini, error);
    throw new ProviderError(
      "internal",
      `Gemini did not answer like its API at GEMINI_BASE_URL: ${error.message} Check the URL.`,
      { code: error.code, cause: error },
    );
  }
}

function lostTask(taskId: string): ProviderError {
  return new ProviderError(
    "internal",
    `The Gemini task ${taskId} is unknown to this Atelier: it was cut off by a restart (Gemini keeps no task to ask about). Its images may have been made and billed; run it again if you still want them.`,
    { code: "task_lost" },
  );
}

export function createGeminiProvider(options: GeminiProviderOptions): GeminiProvider {
  const secrets = [options.apiKey];
  const logger = options.logger ?? silentLogger;
  const clock: Clock = { ...systemClock, ...options.http?.clock };
  const http = createHttpClient({
    // An image takes seconds to minutes and comes back whole, in base64 (a 4K PNG is tens of MB).
    timeouts: { headersMs: 180_000, bodyMs: 60_000 },
    maxResponseBytes: 80 * 1024 * 1024,
    ...options.http,
    baseUrl: options.baseUrl,
    providerLabel: "Gemini",
    headers: { "x-goog-api-key": options.apiKey },
    secrets,
    logger,
    mapHttpError: (response) => mapGeminiHttpError(response, secrets),
  });
  const model = geminiModel(options.model.replace(/^models\//, ""));
  const root = apiRoot(options.baseUrl);
  const gemini: Gemini = {
    http,
    model,
    generatePath: `${root}/models/${encodeURIComponent(model.name)}:generateContent`,
    modelsPath: `${root}/models`,
    blobs: options.blobs,
    secrets,
    logger,
    sleep: clock.sleep,
    tasks: new GeminiTasks({
      store: (image) => options.blobs.put(image.bytes, image.contentType),
      logger,
      now: clock.now,
      keepFinishedMs: options.keepFinishedMs ?? 60 * 60_000,
    }),
  };
  return defineProvider({
    name: "gemini",
    capabilities: declaredCapabilities(model),
    check(request) {
      const result = planGeneration(request.prompt, request, model);
      return "error" in result ? { warnings: [], error: result.error } : { warnings: result.plan.warnings };
    },
    imagine: async (request) => {
      const plan = planned(planGeneration(request.prompt, request, model));
      return startSet(gemini, generateBody(plan, []), plan.warnings);
    },
    followUp: (request) => followUp(gemini, request),
    verify: (signal) => verify(gemini, signal),
    blend: async (request) => blend(gemini, request),
    fetchTask: async (taskId) => {
      const snapshot = gemini.tasks.snapshot(taskId);
      if (!snapshot) throw lostTask(taskId);
      return snapshot;
    },
    close: async () => {
      gemini.tasks.abortAll();
      await http.close();
    },
  });
}
