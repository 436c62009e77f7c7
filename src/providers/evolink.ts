// EvoLink's "mj-v8.1" task API: POST /v1/images/generations creates a task, GET /v1/tasks/{id}
// reports it, callbacks POST the same body. Results are 4 separate images (24 sketches in draft);
// U buttons only pick an image (no call), variations are image-to-image (or a configured variation
// model), "Run as HD" re-runs the prompt with quality "hd". No cancel endpoint is documented.
// The prompt's side is in evolink-plan.ts, the JSON in evolink-wire.ts.
import { silentLogger } from "../log.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import { defineProvider } from "./define.ts";
import {
  type EvolinkSpeed,
  evolinkMaxPromptLength,
  evolinkPassThroughParams,
  invalid,
  type Plan,
  planGeneration,
  speedFromFlags,
  withoutSettingFlags,
} from "./evolink-plan.ts";
import { evolinkSnapshot, evolinkTaskSchema, mapEvolinkHttpError } from "./evolink-wire.ts";
import {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type ProviderLogger,
  redactExcerpt,
} from "./http.ts";
import { imageOf, imageVariationPrompt, separateImage, withoutSeed } from "./shared.ts";
import {
  type DeclaredCapabilities,
  type FollowUpRequest,
  type ImageProvider,
  type ParentTask,
  type ProviderCapabilities,
  ProviderError,
  type ProviderWarning,
  type Quality,
  type Speed,
  type SubmitResult,
  type TaskSnapshot,
} from "./types.ts";
import { probeTaskId, verifyByProbe } from "./verify.ts";

export { evolinkPassThroughParams } from "./evolink-plan.ts";

export interface EvolinkProviderOptions {
  apiKey: string;
  baseUrl: string;
  /** Generation model. Default "mj-v8.1". */
  model?: string;
  /** e.g. "mj-v7-variation": used for V buttons instead of image-to-image when set. */
  variationModel?: string;
  /** Default callback URL (public HTTPS) when a request carries none. */
  callbackUrl?: string;
  logger?: ProviderLogger;
  /** Transport tuning (tests inject short timeouts, a fake clock, a dispatcher). */
  http?: Pick<HttpClientOptions, "timeouts" | "retry" | "clock" | "dispatcher" | "maxResponseBytes">;
}

export interface EvolinkProvider extends ImageProvider {
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

const declaredCapabilities: DeclaredCapabilities = {
  upscale: "separate",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: true,
  outpaint: false,
  remix: true,
  progressPreview: false,
  speeds: ["draft", "fast", "turbo"],
  draft: true,
  maxPromptLength: evolinkMaxPromptLength,
  passThroughParams: [...evolinkPassThroughParams],
  maxTaskDurationMs: 20 * 60_000,
  // 24 in draft speed: the snapshot's imageUrls carries however many came back.
  imagesPerSet: 4,
};

interface GenerationBody {
  model: string;
  prompt: string;
  quality: Quality;
  model_params: { speed: EvolinkSpeed };
  callback_url?: string;
}

interface VariationModelBody {
  model: string;
  model_params: { task_id: string; image_number: number; type: "subtle" | "strong" };
  prompt?: string;
  callback_url?: string;
}

/** One configured EvoLink account, as every call below needs it. */
interface Evolink {
  http: HttpClient;
  model: string;
  variationModel?: string;
  callbackUrl?: string;
  secrets: string[];
  logger: ProviderLogger;
}

function callbackFor(evolink: Evolink, requestUrl: string | undefined): { callback_url?: string } {
  const url = requestUrl ?? evolink.callbackUrl;
  return url ? { callback_url: url } : {};
}

async function submit(
  evolink: Evolink,
  body: GenerationBody | VariationModelBody,
  warnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const task = await evolink.http.create("/v1/images/generations", body, evolinkTaskSchema, signal);
  const result: SubmitResult = { kind: "task", taskId: task.id, warnings };
  if (task.usage?.credits_reserved != null) result.usage = { credits: task.usage.credits_reserved };
  return result;
}

function generationBody(evolink: Evolink, plan: Plan, callbackUrl: string | undefined): GenerationBody {
  return {
    model: evolink.model,
    prompt: plan.text,
    quality: plan.quality,
    model_params: { speed: plan.speed },
    ...callbackFor(evolink, callbackUrl),
  };
}

async function generate(
  evolink: Evolink,
  prompt: ParsedPrompt,
  settings: { speed?: Speed; quality?: Quality; callbackUrl?: string },
  extraWarnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const planned = planGeneration(prompt, settings);
  if ("error" in planned) throw planned.error;
  const warnings = [...extraWarnings, ...planned.plan.warnings];
  return submit(evolink, generationBody(evolink, planned.plan, settings.callbackUrl), warnings, signal);
}

/** The speed the parent ran at, as the adapter resolved it (flags in its prompt win). */
function parentSpeed(parent: ParentTask): Speed | undefined {
  return speedFromFlags(parent.prompt.params) ?? parent.speed;
}

async function variation(
  evolink: Evolink,
  request: Extract<FollowUpRequest, { kind: "variation" }>,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const { parent, index, strength } = request;
  const url = imageOf(parent, index);
  if (evolink.variationModel) {
    const remix = request.prompt ? planGeneration(request.prompt, {}) : undefined;
    if (remix && "error" in remix) throw remix.error;
    const body: VariationModelBody = {
      model: evolink.variationModel,
      // 0-based, as in EvoLink's examples for its follow-up models (enhance uses image_number 0).
      model_params: { task_id: parent.taskId, image_number: index - 1, type: strength },
      ...(remix ? { prompt: remix.plan.text } : {}),
      ...callbackFor(evolink, undefined),
    };
    return submit(evolink, body, remix?.plan.warnings ?? [], signal);
  }
  // Image-to-image: the chosen image first, then the original (or remixed) prompt.
  const prompt = imageVariationPrompt(withoutSettingFlags(request.prompt ?? parent.prompt), url, strength);
  return generate(evolink, prompt, { speed: parentSpeed(parent), quality: parent.quality }, [], signal);
}

/** "Run as HD": the same prompt and seed with quality "hd" (never at draft speed). */
function runAsHd(evolink: Evolink, parent: ParentTask, signal?: AbortSignal): Promise<SubmitResult> {
  const base = withoutSettingFlags(parent.prompt);
  const speed = parentSpeed(parent);
  const warnings: ProviderWarning[] =
    base.params.seed === undefined
      ? [
          {
            type: "changed",
            feature: "--seed",
            details:
              "the original prompt had none, so the HD run composes a new set rather than the same images",
          },
        ]
      : [];
  // HD cannot run at draft speed; a draft set is re-run in HD at fast speed.
  const hdSpeed = speed === "draft" || speed === "relax" || speed === undefined ? "fast" : speed;
  return generate(evolink, base, { speed: hdSpeed, quality: "hd" }, warnings, signal);
}

async function followUp(
  evolink: Evolink,
  request: FollowUpRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  switch (request.kind) {
    case "upscale":
      // V8.1 has no upscaler.
      return separateImage(
        request.parent,
        request.index,
        request.style,
        (style) => `EvoLink has no ${style} upscaler, so this is image ${request.index} as generated`,
      );
    case "variation":
      return variation(evolink, request, signal);
    case "reroll": {
      // Same prompt, new noise: an explicit seed would repeat the same images. Flags written in a
      // remixed prompt still win over the parent's settings (see planGeneration).
      const { parent } = request;
      const prompt = withoutSeed(request.prompt ?? parent.prompt);
      return generate(evolink, prompt, { speed: parent.speed, quality: parent.quality }, [], signal);
    }
    case "hd":
      return runAsHd(evolink, request.parent, signal);
    default:
      throw invalid("EvoLink has no provider buttons to press.", "unsupported_action");
  }
}

async function fetchTask(evolink: Evolink, taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
  const task = await evolink.http.read(`/v1/tasks/${encodeURIComponent(taskId)}`, evolinkTaskSchema, signal);
  return evolinkSnapshot(task, evolink.secrets);
}

function parseCallback(evolink: Evolink, body: unknown): TaskSnapshot {
  const parsed = evolinkTaskSchema.safeParse(body);
  if (!parsed.success) {
    evolink.logger.warn("EvoLink: callback body has an unexpected shape", {
      excerpt: redactExcerpt(JSON.stringify(body) ?? String(body), evolink.secrets),
    });
    throw new ProviderError("internal", "EvoLink sent a callback Atelier could not understand.", {
      code: "bad_callback",
    });
  }
  return evolinkSnapshot(parsed.data, evolink.secrets);
}

export function createEvolinkProvider(options: EvolinkProviderOptions): EvolinkProvider {
  const secrets = [options.apiKey];
  const logger = options.logger ?? silentLogger;
  const http = createHttpClient({
    ...options.http,
    baseUrl: options.baseUrl,
    providerLabel: "EvoLink",
    headers: { authorization: `Bearer ${options.apiKey}` },
    secrets,
    logger,
    mapHttpError: (response) => mapEvolinkHttpError(response, secrets),
  });
  const evolink: Evolink = {
    http,
    model: options.model ?? "mj-v8.1",
    variationModel: options.variationModel,
    callbackUrl: options.callbackUrl,
    secrets,
    logger,
  };
  return defineProvider({
    name: "evolink",
    capabilities: declaredCapabilities,
    check(request) {
      const planned = planGeneration(request.prompt, request);
      if ("error" in planned) return { warnings: [], error: planned.error };
      return { warnings: planned.plan.warnings };
    },
    imagine: (request, signal) => generate(evolink, request.prompt, request, [], signal),
    followUp: (request, signal) => followUp(evolink, request, signal),
    fetchTask: (taskId, signal) => fetchTask(evolink, taskId, signal),
    verify: (signal) =>
      verifyByProbe({ label: "EvoLink", keySetting: "EVOLINK_API_KEY", urlSetting: "EVOLINK_BASE_URL" }, () =>
        fetchTask(evolink, probeTaskId, signal),
      ),
    parseCallback: (body) => parseCallback(evolink, body),
    close: () => http.close(),
  });
}

/** What every EvoLink provider offers, read off an adapter that never connects. */
export const evolinkCapabilities: ProviderCapabilities = createEvolinkProvider({
  apiKey: "",
  baseUrl: "https://api.evolink.ai",
}).capabilities;
