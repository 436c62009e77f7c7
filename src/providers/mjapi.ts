// Adapter for the simple hosted "Midjourney API" shape (seed 000, reference/image-apis.md §2):
//   POST {BASE}/imagine {prompt, webhook_url?} → {task_id}
//   GET  {BASE}/tasks/{id} → {status, progress?, images: [url…], error?}
//   POST {BASE}/upscale {task_id, index 1–4} → {task_id}
// The seed describes no variation or re-roll endpoint: a re-roll submits the same prompt again and a
// variation is image-to-image (image n's URL in front of the original prompt).
import { z } from "zod";
import { silentLogger } from "../log.ts";
import { type ParsedPrompt, type PromptParams, renderPrompt } from "../prompt/index.ts";
import {
  createHttpClient,
  type HttpClientOptions,
  type HttpErrorResponse,
  type ProviderLogger,
} from "./http.ts";
import { imageOf, imageVariationPrompt, progressOf, withoutSeed } from "./shared.ts";
import {
  type FollowUpRequest,
  type ImageProvider,
  type ImagineRequest,
  type ProviderCapabilities,
  ProviderError,
  type SubmitResult,
  type TaskSnapshot,
  type TaskStatus,
} from "./types.ts";

const label = "MJAPI";
const keySetting = "MJAPI_API_KEY";

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

export const mjapiCapabilities: ProviderCapabilities = {
  upscale: "upscale",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: false,
  // A remix is just different prompt text on a re-roll or an image-to-image variation.
  remix: true,
  blend: false,
  describe: false,
  cancel: false,
  progressPreview: false,
  callback: true,
  speeds: [],
  draft: false,
  maxPromptLength: 6000,
  passThroughParams,
  maxTaskDurationMs: 15 * 60_000,
  imagesPerSet: 4,
};

// ---------------------------------------------------------------------------------------------
// Wire format

const createdSchema = z.object({ task_id: z.union([z.string().min(1), z.number()]).transform(String) });

const errorFieldSchema = z.union([
  z.string(),
  z.object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).optional() }),
]);

const taskSchema = z.object({
  task_id: z.union([z.string(), z.number()]).transform(String).optional(),
  status: z.string(),
  progress: z.union([z.number(), z.string()]).nullish(),
  images: z.array(z.string()).nullish(),
  error: errorFieldSchema.nullish(),
});

type WireTask = z.infer<typeof taskSchema>;

const httpErrorBodySchema = z.object({ error: errorFieldSchema.optional(), message: z.string().optional() });

// ---------------------------------------------------------------------------------------------
// Pure mapping (exported for tests)

const statusByWire: Record<string, TaskStatus> = {
  pending: "queued",
  queued: "queued",
  processing: "running",
  in_progress: "running",
  running: "running",
  completed: "completed",
  failed: "failed",
};

const refusalPattern = /banned|policy|moderat|nsfw|inappropriate|prohibited|not allowed|blocked/i;
const transientPattern = /time(d)? ?out|overload|busy|try again|temporar|rate limit|unavailable/i;

function errorText(error: z.infer<typeof errorFieldSchema> | null | undefined): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === "string" ? error : error.message;
}

function errorCode(error: z.infer<typeof errorFieldSchema> | null | undefined): string | undefined {
  return typeof error === "object" && error !== null && error.code !== undefined
    ? String(error.code)
    : undefined;
}

/** A failed task's error in our terms: refused prompts, passing trouble, or the service's fault. */
export function classifyTaskFailure(message: string | undefined, code?: string): ProviderError {
  const text = message?.trim() || "no reason given";
  if (refusalPattern.test(text) || refusalPattern.test(code ?? "")) {
    return new ProviderError("refused", `${label} refused the prompt: ${text}`, { code, reason: text });
  }
  if (transientPattern.test(text)) {
    return new ProviderError("transient", `${label} could not finish the image: ${text}`, { code });
  }
  return new ProviderError("internal", `${label} failed to make the image: ${text}`, { code });
}

/** Our snapshot of one wire task; unknown statuses count as running (and are logged). */
export function toSnapshot(
  taskId: string,
  wire: WireTask,
  logger: ProviderLogger = silentLogger,
): TaskSnapshot {
  let status = statusByWire[wire.status.toLowerCase()];
  if (status === undefined) {
    logger.debug(`${label}: unknown task status, treating it as running`, { taskId, status: wire.status });
    status = "running";
  }
  const progress = progressOf(wire.progress);
  const snapshot: TaskSnapshot = {
    taskId,
    status,
    imageUrls: [],
    ...(progress === undefined ? {} : { progress }),
  };
  if (status === "failed") {
    return { ...snapshot, error: classifyTaskFailure(errorText(wire.error), errorCode(wire.error)) };
  }
  if (status !== "completed") return snapshot;
  const images = wire.images ?? [];
  if (images.length === 0) {
    const error = new ProviderError("internal", `${label} reported the task completed but sent no images.`);
    return { ...snapshot, status: "failed", error };
  }
  return { ...snapshot, progress: 100, imageUrls: images };
}

/** Maps a non-2xx answer; the setting to fix is named so an admin knows where to look. */
export function mapMjapiHttpError(response: HttpErrorResponse): ProviderError | undefined {
  const parsed = httpErrorBodySchema.safeParse(response.body);
  const message = (parsed.success ? (errorText(parsed.data.error) ?? parsed.data.message) : undefined)?.slice(
    0,
    300,
  );
  const code = String(response.status);
  switch (response.status) {
    case 401:
    case 403:
      return new ProviderError("auth", `${label} rejected the API key (HTTP ${code}): check ${keySetting}.`, {
        code,
      });
    case 402:
      return new ProviderError(
        "quota",
        `${label} says the account is out of credits (HTTP 402): top it up.`,
        { code },
      );
    case 400:
    case 422:
      if (message !== undefined && refusalPattern.test(message)) {
        return new ProviderError("refused", `${label} refused the prompt: ${message}`, {
          code,
          reason: message,
        });
      }
      return new ProviderError(
        "invalid",
        `${label} did not accept the request: ${message ?? `HTTP ${code}`}`,
        { code },
      );
    case 404:
      return new ProviderError(
        "internal",
        `${label} does not know ${response.method} ${response.path} (HTTP 404): check MJAPI_BASE_URL, or the task expired.`,
        { code },
      );
    case 429:
    case 503:
      return new ProviderError("transient", `${label} is busy (HTTP ${code}); try again in a minute.`, {
        code,
      });
    default:
      return undefined;
  }
}

/** Drops the parameters the service does not forward, and says which. */
export function forwardablePrompt(prompt: ParsedPrompt): { prompt: ParsedPrompt; warnings: string[] } {
  const params: PromptParams = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(prompt.params) as [keyof PromptParams, unknown][]) {
    // --repeat is expanded into separate jobs by the bot before anything reaches a provider.
    if (value === undefined || key === "repeat") continue;
    if (passThroughParams.includes(key)) (params as Record<string, unknown>)[key] = value;
    else dropped.push(`--${key}`);
  }
  const warnings = dropped.length > 0 ? [`Left out (not supported by ${label}): ${dropped.join(", ")}.`] : [];
  return { prompt: { ...prompt, params }, warnings };
}

function requestWarnings(request: Pick<ImagineRequest, "speed" | "quality">): string[] {
  const warnings: string[] = [];
  // "fast" is what Midjourney does anyway; any other speed cannot be asked for on this service.
  if (request.speed !== undefined && request.speed !== "fast") {
    warnings.push(`${label} does not let Atelier choose the speed, so "${request.speed}" was not applied.`);
  }
  if (request.quality === "hd") warnings.push(`${label} has no HD mode, so a standard set was made.`);
  return warnings;
}

// ---------------------------------------------------------------------------------------------

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

  function prepare(prompt: ParsedPrompt): { text: string; warnings: string[]; error?: ProviderError } {
    const forwarded = forwardablePrompt(prompt);
    const text = renderPrompt(forwarded.prompt);
    if (text.length <= mjapiCapabilities.maxPromptLength) return { text, warnings: forwarded.warnings };
    const error = new ProviderError(
      "invalid",
      `The prompt is ${text.length} characters; ${label} takes at most ${mjapiCapabilities.maxPromptLength}.`,
    );
    return { text, warnings: forwarded.warnings, error };
  }

  async function submitPrompt(
    prompt: ParsedPrompt,
    webhookUrl: string | undefined,
    extraWarnings: string[],
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const prepared = prepare(prompt);
    if (prepared.error) throw prepared.error;
    const body = { prompt: prepared.text, ...(webhookUrl === undefined ? {} : { webhook_url: webhookUrl }) };
    const created = await http.requestJson({
      method: "POST",
      path: "/imagine",
      body,
      schema: createdSchema,
      idempotent: false,
      signal,
    });
    return { kind: "task", taskId: created.task_id, warnings: [...extraWarnings, ...prepared.warnings] };
  }

  async function upscale(taskId: string, index: number, signal?: AbortSignal): Promise<SubmitResult> {
    const created = await http.requestJson({
      method: "POST",
      path: "/upscale",
      body: { task_id: taskId, index },
      schema: createdSchema,
      idempotent: false,
      signal,
    });
    return { kind: "task", taskId: created.task_id, warnings: [] };
  }

  /** Image-to-image: the chosen image first, then the original (or remixed) prompt. */
  function variationPrompt(request: Extract<FollowUpRequest, { kind: "variation" }>): ParsedPrompt {
    const { parent, index } = request;
    return imageVariationPrompt(request.prompt ?? parent.prompt, imageOf(parent, index), request.strength);
  }

  const provider: MjapiProvider = {
    name: "mjapi",
    capabilities: mjapiCapabilities,

    check(request) {
      const prepared = prepare(request.prompt);
      const warnings = [...requestWarnings(request), ...prepared.warnings];
      return prepared.error ? { warnings, error: prepared.error } : { warnings };
    },

    imagine(request, signal) {
      return submitPrompt(
        request.prompt,
        request.callbackUrl ?? options.webhookUrl,
        requestWarnings(request),
        signal,
      );
    },

    async followUp(request, signal) {
      switch (request.kind) {
        case "upscale": {
          if (!Number.isInteger(request.index) || request.index < 1 || request.index > 4) {
            throw new ProviderError("invalid", `There is no image ${request.index} to upscale (1–4).`);
          }
          const result = await upscale(request.parent.taskId, request.index, signal);
          if (request.style === undefined) return result;
          return { ...result, warnings: [`${label} has one upscaler; "${request.style}" was not applied.`] };
        }
        case "variation":
          return submitPrompt(variationPrompt(request), options.webhookUrl, [], signal);
        case "reroll":
          return submitPrompt(
            withoutSeed(request.prompt ?? request.parent.prompt),
            options.webhookUrl,
            [],
            signal,
          );
        case "hd":
          throw new ProviderError("invalid", `${label} has no HD mode.`);
        case "action":
          throw new ProviderError("invalid", `${label} has no provider buttons ("${request.customId}").`);
      }
    },

    async fetchTask(taskId, signal) {
      const wire = await http.requestJson({
        method: "GET",
        path: `/tasks/${encodeURIComponent(taskId)}`,
        schema: taskSchema,
        idempotent: true,
        signal,
      });
      return toSnapshot(taskId, wire, logger);
    },

    parseCallback(body) {
      const parsed = taskSchema.safeParse(body);
      if (!parsed.success || parsed.data.task_id === undefined) {
        throw new ProviderError("internal", `${label} sent a webhook Atelier could not understand.`, {
          code: "bad_callback",
        });
      }
      return toSnapshot(parsed.data.task_id, parsed.data, logger);
    },

    close: () => http.close(),
  };
  return provider;
}
