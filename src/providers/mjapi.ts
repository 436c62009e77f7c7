// Adapter for the simple hosted "Midjourney API" shape (seed 000, reference/image-apis.md §2):
//   POST {BASE}/imagine {prompt, webhook_url?} → {task_id}
//   GET  {BASE}/tasks/{id} → {status, progress?, images: [url…], error?}
//   POST {BASE}/upscale {task_id, index 1–4} → {task_id}
// The seed describes no variation or re-roll endpoint: a re-roll submits the same prompt again and a
// variation is image-to-image (image n's URL in front of the original prompt).
// The JSON is in mjapi-wire.ts.
import { silentLogger } from "../log.ts";
import { type ParsedPrompt, type PromptParams, renderPrompt } from "../prompt/index.ts";
import { defineProvider } from "./define.ts";
import { createHttpClient, type HttpClient, type HttpClientOptions, type ProviderLogger } from "./http.ts";
import {
  createdSchema,
  mjapiLabel as label,
  mapMjapiHttpError,
  mjapiTaskSchema,
  toSnapshot,
} from "./mjapi-wire.ts";
import { imageOf, imageVariationPrompt, withoutSeed } from "./shared.ts";
import {
  type DeclaredCapabilities,
  type FollowUpRequest,
  type ImageProvider,
  type ImagineRequest,
  type ProviderCapabilities,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type TaskSnapshot,
} from "./types.ts";
import { probeTaskId, verifyByProbe } from "./verify.ts";

export { classifyTaskFailure, mapMjapiHttpError, toSnapshot } from "./mjapi-wire.ts";

export interface MjapiProviderOptions {
  apiKey: string;
  /** Everything in front of `/imagine`, e.g. `https://api.example.com/v1`. */
  baseUrl: string;
  /** Default webhook when a request brings no callback URL of its own. */
  webhookUrl?: string;
  logger?: ProviderLogger;
  /** Tuning of the shared HTTP client (retry policy, timeouts, clock), mainly for tests. */
  http?: Pick<HttpClientOptions, "retry" | "timeouts" | "clock" | "dispatcher">;
}

export interface MjapiProvider extends ImageProvider {
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

/** Midjourney parameters this service forwards in the prompt text (`--repeat` is expanded by the bot). */
const passThroughParams: (keyof PromptParams)[] = [
  "ar",
  "v",
  "niji",
  "style",
  "chaos",
  "stylize",
  "no",
  "cref",
  "sref",
  "cw",
  "sw",
  "tile",
  "seed",
  "quality",
  // Image weight: needed for image prompts, including our image-to-image variations.
  "iw",
];

const declaredCapabilities: DeclaredCapabilities = {
  upscale: "upscale",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: false,
  outpaint: false,
  // A remix is just different prompt text on a re-roll or an image-to-image variation.
  remix: true,
  progressPreview: false,
  speeds: [],
  draft: false,
  maxPromptLength: 6000,
  passThroughParams,
  maxTaskDurationMs: 15 * 60_000,
  imagesPerSet: 4,
};

/** Drops the parameters the service does not forward, and says which. */
export function forwardablePrompt(prompt: ParsedPrompt): {
  prompt: ParsedPrompt;
  warnings: ProviderWarning[];
} {
  const params: PromptParams = {};
  const warnings: ProviderWarning[] = [];
  for (const [key, value] of Object.entries(prompt.params) as [keyof PromptParams, unknown][]) {
    // --repeat is expanded into separate jobs by the bot before anything reaches a provider.
    if (value === undefined || key === "repeat") continue;
    if (passThroughParams.includes(key)) (params as Record<string, unknown>)[key] = value;
    else warnings.push({ type: "unsupported", feature: `--${key}`, details: `not supported by ${label}` });
  }
  return { prompt: { ...prompt, params }, warnings };
}

function requestWarnings(request: Pick<ImagineRequest, "speed" | "quality">): ProviderWarning[] {
  const warnings: ProviderWarning[] = [];
  // "fast" is what Midjourney does anyway; any other speed cannot be asked for on this service.
  if (request.speed !== undefined && request.speed !== "fast") {
    warnings.push({
      type: "unsupported",
      feature: `${request.speed} speed`,
      details: `${label} does not let Atelier choose the speed`,
    });
  }
  if (request.quality === "hd") {
    warnings.push({
      type: "unsupported",
      feature: "HD",
      details: `${label} has no HD mode, so a standard set was made`,
    });
  }
  return warnings;
}

/** The prompt text to send, what it cannot honour, and whether it is too long to send at all. */
function prepare(prompt: ParsedPrompt): { text: string; warnings: ProviderWarning[]; error?: ProviderError } {
  const forwarded = forwardablePrompt(prompt);
  const text = renderPrompt(forwarded.prompt);
  const max = declaredCapabilities.maxPromptLength;
  if (text.length <= max) return { text, warnings: forwarded.warnings };
  const error = new ProviderError(
    "invalid",
    `The prompt is ${text.length} characters; ${label} takes at most ${max}.`,
  );
  return { text, warnings: forwarded.warnings, error };
}

// ---------------------------------------------------------------------------------------------

/** One configured service, as every call below needs it. */
interface Mjapi {
  http: HttpClient;
  webhookUrl?: string;
  logger: ProviderLogger;
}

/** POSTs a create and returns the task it started. */
async function create(
  mjapi: Mjapi,
  path: "/imagine" | "/upscale",
  body: object,
  warnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const created = await mjapi.http.create(path, body, createdSchema, signal);
  return { kind: "task", taskId: created.task_id, warnings };
}

async function submitPrompt(
  mjapi: Mjapi,
  prompt: ParsedPrompt,
  webhookUrl: string | undefined,
  extraWarnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const prepared = prepare(prompt);
  if (prepared.error) throw prepared.error;
  const body = { prompt: prepared.text, ...(webhookUrl === undefined ? {} : { webhook_url: webhookUrl }) };
  return create(mjapi, "/imagine", body, [...extraWarnings, ...prepared.warnings], signal);
}

/** U: the service's one upscaler on image 1–4. */
async function upscale(
  mjapi: Mjapi,
  request: Extract<FollowUpRequest, { kind: "upscale" }>,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const { index, style } = request;
  if (!Number.isInteger(index) || index < 1 || index > 4) {
    throw new ProviderError("invalid", `There is no image ${index} to upscale (1–4).`);
  }
  const warnings: ProviderWarning[] =
    style === undefined
      ? []
      : [{ type: "unsupported", feature: `Upscale (${style})`, details: `${label} has one upscaler` }];
  return create(mjapi, "/upscale", { task_id: request.parent.taskId, index }, warnings, signal);
}

async function followUp(mjapi: Mjapi, request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult> {
  const parent = request.parent;
  switch (request.kind) {
    case "upscale":
      return upscale(mjapi, request, signal);
    case "variation": {
      // Image-to-image: the chosen image first, then the original (or remixed) prompt.
      const base = request.prompt ?? parent.prompt;
      const prompt = imageVariationPrompt(base, imageOf(parent, request.index), request.strength);
      return submitPrompt(mjapi, prompt, mjapi.webhookUrl, [], signal);
    }
    case "reroll":
      return submitPrompt(mjapi, withoutSeed(request.prompt ?? parent.prompt), mjapi.webhookUrl, [], signal);
    case "hd":
      throw new ProviderError("invalid", `${label} has no HD mode.`);
    case "action":
      throw new ProviderError("invalid", `${label} has no provider buttons ("${request.customId}").`);
    default:
      throw new ProviderError("invalid", `${label} cannot zoom out, pan or make square.`);
  }
}

async function fetchTask(mjapi: Mjapi, taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
  const wire = await mjapi.http.read(`/tasks/${encodeURIComponent(taskId)}`, mjapiTaskSchema, signal);
  return toSnapshot(taskId, wire, mjapi.logger);
}

function parseCallback(mjapi: Mjapi, body: unknown): TaskSnapshot {
  const parsed = mjapiTaskSchema.safeParse(body);
  if (!parsed.success || parsed.data.task_id === undefined) {
    throw new ProviderError("internal", `${label} sent a webhook Atelier could not understand.`, {
      code: "bad_callback",
    });
  }
  return toSnapshot(parsed.data.task_id, parsed.data, mjapi.logger);
}

export function createMjapiProvider(options: MjapiProviderOptions): MjapiProvider {
  const logger = options.logger ?? silentLogger;
  const http = createHttpClient({
    ...options.http,
    baseUrl: options.baseUrl,
    providerLabel: label,
    headers: { authorization: `Bearer ${options.apiKey}` },
    secrets: [options.apiKey],
    mapHttpError: mapMjapiHttpError,
    logger,
  });
  const mjapi: Mjapi = { http, webhookUrl: options.webhookUrl, logger };
  return defineProvider({
    name: "mjapi",
    capabilities: declaredCapabilities,
    check(request) {
      const prepared = prepare(request.prompt);
      const warnings = [...requestWarnings(request), ...prepared.warnings];
      return prepared.error ? { warnings, error: prepared.error } : { warnings };
    },
    imagine: (request, signal) =>
      submitPrompt(
        mjapi,
        request.prompt,
        request.callbackUrl ?? options.webhookUrl,
        requestWarnings(request),
        signal,
      ),
    followUp: (request, signal) => followUp(mjapi, request, signal),
    fetchTask: (taskId, signal) => fetchTask(mjapi, taskId, signal),
    verify: (signal) =>
      verifyByProbe({ label: "mjapi", keySetting: "MJAPI_API_KEY", urlSetting: "MJAPI_BASE_URL" }, () =>
        fetchTask(mjapi, probeTaskId, signal),
      ),
    parseCallback: (body) => parseCallback(mjapi, body),
    close: () => http.close(),
  });
}

/** What every MJAPI provider offers, read off an adapter that never connects. */
export const mjapiCapabilities: ProviderCapabilities = createMjapiProvider({
  apiKey: "",
  baseUrl: "https://mjapi.invalid/v1",
}).capabilities;
