// EvoLink's "mj-v8.1" task API: POST /v1/images/generations creates a task, GET /v1/tasks/{id}
// reports it, callbacks POST the same body. Results are 4 separate images (24 sketches in draft);
// U buttons only pick an image (no call), variations are image-to-image (or a configured variation
// model), "Run as HD" re-runs the prompt with quality "hd". No cancel endpoint is documented.
import { z } from "zod";
import { silentLogger } from "../log.ts";
import { renderPrompt } from "../prompt/index.ts";
import type { ParsedPrompt, PromptParams } from "../prompt/types.ts";
import {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpErrorResponse,
  type ProviderLogger,
  redactExcerpt,
} from "./http.ts";
import { imageOf, imageVariationPrompt, withoutSeed } from "./shared.ts";
import {
  type FollowUpRequest,
  type ImageProvider,
  type ImagineRequest,
  type ParentTask,
  type ProviderCapabilities,
  ProviderError,
  type ProviderErrorKind,
  type Quality,
  type Speed,
  type SubmitResult,
  type TaskSnapshot,
  type TaskStatus,
} from "./types.ts";

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

type EvolinkSpeed = "draft" | "fast" | "turbo";

const label = "EvoLink";
const maxPromptLength = 8192;

/**
 * Parameters forwarded in the prompt text. EvoLink lists --ar --c --seed --s --exp --raw --iw --sref
 * --sw --oref --ow for V8.1 and says the prompt "supports all native V8.1 parameter syntax", so the
 * long-standing native --no, --weird and --tile are forwarded too. Everything else is dropped with a
 * warning. `style` passes only as "raw".
 */
export const evolinkPassThroughParams: readonly string[] = [
  "ar",
  "chaos",
  "seed",
  "stylize",
  "exp",
  "style",
  "iw",
  "sref",
  "sw",
  "oref",
  "ow",
  "no",
  "weird",
  "tile",
];

/** Prompt flags that are request settings on EvoLink (the docs: writing them in the prompt has no effect). */
const settingFlags = ["hd", "draft", "fast", "turbo", "relax"] as const;

/** Why a dropped parameter is dropped, when there is more to say than "unsupported". */
const dropHints: Partial<Record<keyof PromptParams, string>> = {
  cref: "use --oref (Omni Reference) instead",
  cw: "use --ow with --oref instead",
  p: "personalisation profiles belong to a Midjourney account",
  quality: 'use the HD setting (quality "hd") instead',
  repeat: "run the command again instead",
};

export const evolinkCapabilities: ProviderCapabilities = {
  upscale: "separate",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: true,
  remix: true,
  blend: false,
  describe: false,
  cancel: false,
  progressPreview: false,
  callback: true,
  speeds: ["draft", "fast", "turbo"],
  draft: true,
  maxPromptLength,
  passThroughParams: [...evolinkPassThroughParams],
  maxTaskDurationMs: 20 * 60_000,
  // 24 in draft speed: the snapshot's imageUrls carries however many came back.
  imagesPerSet: 4,
};

// --- EvoLink JSON (the only place that knows it) -------------------------------------------------

const resultSchema = z.union([z.string(), z.object({ url: z.string() }).transform((result) => result.url)]);

const taskSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  progress: z.number().nullish(),
  results: z.array(resultSchema).nullish(),
  error: z
    .object({ code: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() })
    .nullish(),
  usage: z.object({ credits_reserved: z.number().nullish() }).nullish(),
  task_info: z.object({ can_cancel: z.boolean().nullish(), estimated_time: z.number().nullish() }).nullish(),
});

type EvolinkTask = z.infer<typeof taskSchema>;

const errorBodySchema = z.object({
  error: z.object({
    code: z.union([z.string(), z.number()]).nullish(),
    message: z.string().nullish(),
    type: z.string().nullish(),
  }),
});

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

// --- error mapping ------------------------------------------------------------------------------

const taskErrorKinds: Record<string, ProviderErrorKind> = {
  content_policy_violation: "refused",
  invalid_parameters: "invalid",
  image_dimension_mismatch: "invalid",
  // A reference image that could not be read is the user's to fix, like a bad parameter.
  image_processing_error: "invalid",
  quota_exceeded: "quota",
  resource_exhausted: "quota",
  service_unavailable: "transient",
  service_error: "transient",
  generation_timeout: "transient",
};

/** The quoted word in a refusal message ("…banned word "gore"…"), else the whole message. */
function refusalReason(message: string): string {
  const quoted = /["'“‘`]([^"'”’`]{1,80})["'”’`]/.exec(message);
  return quoted?.[1] ?? message;
}

function errorFromCode(code: string, rawMessage: string | undefined, secrets: string[]): ProviderError {
  const message = redactExcerpt(rawMessage ?? code, secrets, 300);
  const kind = taskErrorKinds[code] ?? "internal";
  switch (kind) {
    case "refused":
      return new ProviderError("refused", `EvoLink refused the prompt (content policy): ${message}`, {
        code,
        reason: refusalReason(message),
      });
    case "invalid":
      return new ProviderError("invalid", `EvoLink could not run this prompt: ${message}`, { code });
    case "quota":
      return new ProviderError(
        "quota",
        `EvoLink's account has no capacity left (${code}): top up or tell an admin.`,
        { code },
      );
    case "transient":
      return new ProviderError("transient", `EvoLink could not finish the images (${code}): try again.`, {
        code,
      });
    default:
      return new ProviderError("internal", `EvoLink failed the task (${code}): ${message}`, { code });
  }
}

function mapHttpError(response: HttpErrorResponse, secrets: string[]): ProviderError {
  const parsed = errorBodySchema.safeParse(response.body);
  const code = parsed.success && parsed.data.error.code != null ? String(parsed.data.error.code) : undefined;
  const message = parsed.success ? (parsed.data.error.message ?? undefined) : undefined;
  const { status } = response;
  if (status === 401 || status === 403) {
    return new ProviderError("auth", "EvoLink rejected the API key: check EVOLINK_API_KEY.", {
      code: code ?? String(status),
    });
  }
  if (status === 402) {
    return new ProviderError("quota", "EvoLink account balance is insufficient: top up or tell an admin.", {
      code: code ?? "402",
    });
  }
  if (status === 429) {
    return new ProviderError("transient", "EvoLink is rate-limiting requests: try again in a minute.", {
      code: code ?? "429",
    });
  }
  if (status >= 500) {
    return new ProviderError("transient", `EvoLink is having trouble (HTTP ${status}): try again shortly.`, {
      code: code ?? String(status),
    });
  }
  // A task error code on a 4xx (e.g. content_policy_violation at submit) says more than the status.
  if (code && code in taskErrorKinds) return errorFromCode(code, message, secrets);
  if (status === 404) {
    const what = response.method === "GET" ? "the task (it may have expired)" : `${response.path}`;
    return new ProviderError("internal", `EvoLink could not find ${what}: check EVOLINK_BASE_URL.`, {
      code: code ?? "404",
    });
  }
  if (status >= 400 && status < 500) {
    const detail = redactExcerpt(message ?? response.excerpt, secrets, 300);
    return new ProviderError("invalid", `EvoLink rejected the request: ${detail}`, {
      code: code ?? String(status),
    });
  }
  return new ProviderError("internal", `EvoLink answered HTTP ${status}.`, { code: code ?? String(status) });
}

// --- prompt → request --------------------------------------------------------------------------

function invalid(message: string, code?: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

/** `--niji` or a version other than 8.1 cannot run here: refuse before anything is sent. */
function versionError(params: PromptParams): ProviderError | undefined {
  if (params.niji !== undefined) {
    return invalid("EvoLink runs Midjourney V8.1 only; remove --niji.", "niji");
  }
  if (params.v !== undefined && !/^8\.1(\.0)?$/.test(params.v)) {
    return invalid(`EvoLink runs Midjourney V8.1 only; remove --v ${params.v}.`, "v");
  }
  return undefined;
}

/** The speed a prompt flag asks for, most specific first. */
function speedFromFlags(params: PromptParams): Speed | undefined {
  if (params.draft) return "draft";
  if (params.turbo) return "turbo";
  if (params.fast) return "fast";
  if (params.relax) return "relax";
  return undefined;
}

interface Plan {
  prompt: ParsedPrompt;
  text: string;
  speed: EvolinkSpeed;
  quality: Quality;
  warnings: string[];
}

/** Splits a prompt into what EvoLink takes in the text and in its fields; warns about what changed. */
function planGeneration(
  prompt: ParsedPrompt,
  requested: { speed?: Speed; quality?: Quality },
): { plan: Plan } | { error: ProviderError } {
  const params = prompt.params;
  const problem = versionError(params);
  if (problem) return { error: problem };
  const warnings: string[] = [];

  const moved = settingFlags.filter((flag) => params[flag] !== undefined);
  if (moved.length > 0) {
    warnings.push(
      `Moved ${moved.map((flag) => `--${flag}`).join(", ")} out of the prompt into EvoLink's settings.`,
    );
  }
  let speed = speedFromFlags(params) ?? requested.speed ?? "fast";
  if (speed === "relax") {
    warnings.push("EvoLink has no relax mode: using fast.");
    speed = "fast";
  }
  const quality: Quality = params.hd ? "hd" : (requested.quality ?? "standard");
  if (quality === "hd" && speed === "draft") {
    return {
      error: invalid("EvoLink cannot make HD drafts: choose HD or draft speed, not both.", "hd_draft"),
    };
  }

  const kept: PromptParams = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(params) as [keyof PromptParams, unknown][]) {
    if (value === undefined || (settingFlags as readonly string[]).includes(key) || key === "v") continue;
    if (key === "style" && value !== "raw") {
      dropped.push(`--style ${String(value)}`);
      continue;
    }
    if (!evolinkPassThroughParams.includes(key)) {
      const hint = dropHints[key];
      dropped.push(hint ? `--${key} (${hint})` : `--${key}`);
      continue;
    }
    (kept as Record<string, unknown>)[key] = value;
  }
  if (dropped.length > 0) {
    warnings.push(`Left out (not supported by EvoLink's Midjourney V8.1): ${dropped.join(", ")}.`);
  }

  const cleaned: ParsedPrompt = { ...prompt, params: kept };
  const text = renderPrompt(cleaned);
  if (prompt.images.length === 1 && prompt.text.trim() === "") {
    return {
      error: invalid(
        "EvoLink needs words with a single image prompt: add a description after the image URL, or use two or more images.",
        "invalid_parameters",
      ),
    };
  }
  if (text.length > maxPromptLength) {
    return {
      error: invalid(
        `The prompt is ${text.length} characters; EvoLink accepts at most ${maxPromptLength}.`,
        "too_long",
      ),
    };
  }
  return { plan: { prompt: cleaned, text, speed, quality, warnings } };
}

// --- task → snapshot ---------------------------------------------------------------------------

function statusOf(task: EvolinkTask): TaskStatus {
  switch (task.status) {
    case "pending":
      return "queued";
    case "processing":
      return "running";
    case "completed":
      return "completed";
    case "cancelled":
    case "canceled":
      return "cancelled";
    case "failed":
      return task.error?.code === "request_cancelled" ? "cancelled" : "failed";
    default:
      // An undocumented status is treated as still running; the job layer's timeout bounds it.
      return "running";
  }
}

function toSnapshot(task: EvolinkTask, secrets: string[]): TaskSnapshot {
  const status = statusOf(task);
  const snapshot: TaskSnapshot = { taskId: task.id, status, imageUrls: task.results ?? [] };
  if (task.progress != null) snapshot.progress = Math.max(0, Math.min(100, task.progress));
  if (task.usage?.credits_reserved != null) snapshot.usage = { credits: task.usage.credits_reserved };
  if (status === "failed") {
    const code = task.error?.code == null ? "unknown_error" : String(task.error.code);
    snapshot.error = errorFromCode(code, task.error?.message ?? undefined, secrets);
  }
  if (status === "completed" && snapshot.imageUrls.length === 0) {
    snapshot.status = "failed";
    snapshot.error = new ProviderError("internal", "EvoLink finished the task without any images.", {
      code: "no_results",
    });
  }
  return snapshot;
}

// --- the provider -------------------------------------------------------------------------------

export function createEvolinkProvider(options: EvolinkProviderOptions): EvolinkProvider {
  const model = options.model ?? "mj-v8.1";
  const secrets = [options.apiKey];
  const logger = options.logger ?? silentLogger;
  const http: HttpClient = createHttpClient({
    ...options.http,
    baseUrl: options.baseUrl,
    providerLabel: label,
    headers: { authorization: `Bearer ${options.apiKey}` },
    secrets,
    logger,
    mapHttpError: (response) => mapHttpError(response, secrets),
  });

  function callbackFor(requestUrl: string | undefined): { callback_url?: string } {
    const url = requestUrl ?? options.callbackUrl;
    return url ? { callback_url: url } : {};
  }

  async function submit(body: GenerationBody | VariationModelBody, warnings: string[], signal?: AbortSignal) {
    const task = await http.requestJson({
      method: "POST",
      path: "/v1/images/generations",
      body,
      schema: taskSchema,
      idempotent: false,
      signal,
    });
    const result: SubmitResult = { kind: "task", taskId: task.id, warnings };
    if (task.usage?.credits_reserved != null) result.usage = { credits: task.usage.credits_reserved };
    return result;
  }

  function generationBody(plan: Plan, callbackUrl: string | undefined): GenerationBody {
    return {
      model,
      prompt: plan.text,
      quality: plan.quality,
      model_params: { speed: plan.speed },
      ...callbackFor(callbackUrl),
    };
  }

  async function generate(
    prompt: ParsedPrompt,
    settings: { speed?: Speed; quality?: Quality; callbackUrl?: string },
    extraWarnings: string[],
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const planned = planGeneration(prompt, settings);
    if ("error" in planned) throw planned.error;
    const warnings = [...extraWarnings, ...planned.plan.warnings];
    return submit(generationBody(planned.plan, settings.callbackUrl), warnings, signal);
  }

  /** The speed the parent ran at, as the adapter resolved it (flags in its prompt win). */
  function parentSpeed(parent: ParentTask): Speed | undefined {
    return speedFromFlags(parent.prompt.params) ?? parent.speed;
  }

  function withoutSettingFlags(prompt: ParsedPrompt): ParsedPrompt {
    const params = { ...prompt.params };
    for (const flag of settingFlags) delete params[flag];
    return { ...prompt, params };
  }

  function upscale(parent: ParentTask, index: number, style: string | undefined): SubmitResult {
    const url = imageOf(parent, index);
    const warnings = style ? [`EvoLink has no ${style} upscaler: this is image ${index} as generated.`] : [];
    return {
      kind: "done",
      warnings,
      snapshot: {
        taskId: `${parent.taskId}#U${index}`,
        status: "completed",
        progress: 100,
        imageUrls: [url],
      },
    };
  }

  async function variation(
    request: Extract<FollowUpRequest, { kind: "variation" }>,
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const { parent, index, strength } = request;
    const url = imageOf(parent, index);
    if (options.variationModel) {
      const remix = request.prompt ? planGeneration(request.prompt, {}) : undefined;
      if (remix && "error" in remix) throw remix.error;
      const body: VariationModelBody = {
        model: options.variationModel,
        // 0-based, as in EvoLink's examples for its follow-up models (enhance uses image_number 0).
        model_params: { task_id: parent.taskId, image_number: index - 1, type: strength },
        ...(remix ? { prompt: remix.plan.text } : {}),
        ...callbackFor(undefined),
      };
      return submit(body, remix?.plan.warnings ?? [], signal);
    }
    // Image-to-image: the chosen image first, then the original (or remixed) prompt.
    const prompt = imageVariationPrompt(withoutSettingFlags(request.prompt ?? parent.prompt), url, strength);
    return generate(prompt, { speed: parentSpeed(parent), quality: parent.quality }, [], signal);
  }

  async function reroll(
    request: Extract<FollowUpRequest, { kind: "reroll" }>,
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const { parent } = request;
    // A re-roll is the same prompt with new noise: an explicit seed would repeat the same images.
    const prompt = withoutSeed(request.prompt ?? parent.prompt);
    // Flags written in a remixed prompt still win over the parent's settings (see planGeneration).
    return generate(prompt, { speed: parent.speed, quality: parent.quality }, [], signal);
  }

  async function runAsHd(parent: ParentTask, signal?: AbortSignal): Promise<SubmitResult> {
    const base = withoutSettingFlags(parent.prompt);
    const speed = parentSpeed(parent);
    const warnings: string[] = [];
    if (base.params.seed === undefined) {
      warnings.push(
        "The original prompt had no --seed, so the HD run composes a new set rather than the same images.",
      );
    }
    // HD cannot run at draft speed; a draft set is re-run in HD at fast speed.
    const hdSpeed = speed === "draft" || speed === "relax" || speed === undefined ? "fast" : speed;
    return generate(base, { speed: hdSpeed, quality: "hd" }, warnings, signal);
  }

  const provider: EvolinkProvider = {
    name: "evolink",
    capabilities: evolinkCapabilities,

    check(request: ImagineRequest) {
      const planned = planGeneration(request.prompt, request);
      if ("error" in planned) return { warnings: [], error: planned.error };
      return { warnings: planned.plan.warnings };
    },

    async imagine(request: ImagineRequest, signal?: AbortSignal) {
      return generate(request.prompt, request, [], signal);
    },

    async followUp(request: FollowUpRequest, signal?: AbortSignal) {
      switch (request.kind) {
        case "upscale":
          return upscale(request.parent, request.index, request.style);
        case "variation":
          return variation(request, signal);
        case "reroll":
          return reroll(request, signal);
        case "hd":
          return runAsHd(request.parent, signal);
        default:
          throw invalid("EvoLink has no provider buttons to press.", "unsupported_action");
      }
    },

    async fetchTask(taskId: string, signal?: AbortSignal) {
      const task = await http.requestJson({
        method: "GET",
        path: `/v1/tasks/${encodeURIComponent(taskId)}`,
        schema: taskSchema,
        idempotent: true,
        signal,
      });
      return toSnapshot(task, secrets);
    },

    parseCallback(body: unknown) {
      const parsed = taskSchema.safeParse(body);
      if (!parsed.success) {
        logger.warn("EvoLink: callback body has an unexpected shape", {
          excerpt: redactExcerpt(JSON.stringify(body) ?? String(body), secrets),
        });
        throw new ProviderError("internal", "EvoLink sent a callback Atelier could not understand.", {
          code: "bad_callback",
        });
      }
      return toSnapshot(parsed.data, secrets);
    },

    close: () => http.close(),
  };
  return provider;
}
