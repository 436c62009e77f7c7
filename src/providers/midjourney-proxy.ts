// Adapter for the midjourney-proxy protocol (novicezk/midjourney-proxy, trueai-org/midjourney-proxy and
// the many resellers that speak it; reference/image-apis.md §3). The prompt goes verbatim to a real
// Midjourney account, so every Midjourney parameter passes through. Submits answer HTTP 200 with a
// `code`; tasks report `imageUrl` (Midjourney's own 2×2 grid), sometimes `imageUrls` (the 4 split
// images) and, in the trueai fork, `buttons` whose customIds drive every follow-up.
import { z } from "zod";
import { silentLogger } from "../log.ts";
import { type ParsedPrompt, type PromptParams, renderPrompt } from "../prompt/index.ts";
import {
  createHttpClient,
  type HttpClientOptions,
  type HttpErrorResponse,
  type ProviderLogger,
  redactExcerpt,
} from "./http.ts";
import { progressOf } from "./shared.ts";
import {
  type BlendDimensions,
  type BlendRequest,
  type DescribeRequest,
  type FollowUpRequest,
  type ImageInput,
  type ImageProvider,
  type ImagineRequest,
  type ParentTask,
  type ProviderButton,
  type ProviderCapabilities,
  ProviderError,
  type SubmitResult,
  type TaskSnapshot,
  type TaskStatus,
} from "./types.ts";

const label = "midjourney-proxy";
const secretSetting = "MIDJOURNEY_PROXY_API_KEY";

export interface MidjourneyProxyProviderOptions {
  /** Sent as `mj-api-secret` when the server is configured with one. */
  apiSecret?: string;
  /** The proxy's API root, e.g. `http://host:8080/mj`. */
  baseUrl: string;
  /** Default notifyHook when a request brings no callback URL of its own. */
  notifyHookUrl?: string;
  logger?: ProviderLogger;
  /** Tuning of the shared HTTP client (retry policy, timeouts, clock), mainly for tests. */
  http?: Pick<HttpClientOptions, "retry" | "timeouts" | "clock" | "dispatcher">;
}

export interface MidjourneyProxyProvider extends ImageProvider {
  /** /blend: 2–5 images into one new set (a grid like /imagine). */
  blend(request: BlendRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** /describe: the finished task's snapshot carries `descriptions`. */
  describe(request: DescribeRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

/** Everything Midjourney itself understands; `--repeat` is expanded by the bot before submitting. */
const passThroughParams: (keyof PromptParams)[] = [
  "ar",
  "v",
  "niji",
  "style",
  "stylize",
  "chaos",
  "weird",
  "exp",
  "no",
  "quality",
  "seed",
  "stop",
  "tile",
  "sref",
  "sw",
  "sv",
  "cref",
  "cw",
  "oref",
  "ow",
  "iw",
  "p",
  "draft",
  "hd",
  "fast",
  "relax",
  "turbo",
  "stealth",
  "public",
];

export const midjourneyProxyCapabilities: ProviderCapabilities = {
  upscale: "upscale",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: false,
  // Remix needs the MODAL round trip (POST /submit/modal), not implemented.
  remix: false,
  blend: true,
  describe: true,
  cancel: false,
  progressPreview: true,
  callback: true,
  // Written into the prompt as --fast/--relax/--turbo: the account's own Midjourney modes.
  speeds: ["fast", "relax", "turbo"],
  draft: false,
  // Discord's limit for a slash-command option, which is how the proxy submits the prompt.
  maxPromptLength: 6000,
  passThroughParams,
  // Tasks stuck in SUBMITTED or at "93%" are a known failure mode: the job layer times them out.
  maxTaskDurationMs: 10 * 60_000,
  imagesPerSet: 4,
};

// ---------------------------------------------------------------------------------------------
// Wire format

const idSchema = z.union([z.string(), z.number()]).transform(String);

const submitSchema = z.object({
  code: z.number(),
  description: z.string().nullish(),
  result: idSchema.nullish(),
  properties: z.record(z.string(), z.unknown()).nullish(),
});

type WireSubmit = z.infer<typeof submitSchema>;

const buttonSchema = z.object({
  customId: z.string(),
  label: z.string().nullish(),
  emoji: z.string().nullish(),
});

const imageUrlSchema = z.union([z.string(), z.object({ url: z.string() }).transform((image) => image.url)]);

const taskSchema = z.object({
  id: idSchema,
  action: z.string().nullish(),
  status: z.string().nullish(),
  progress: z.union([z.string(), z.number()]).nullish(),
  prompt: z.string().nullish(),
  imageUrl: z.string().nullish(),
  imageUrls: z.array(imageUrlSchema).nullish(),
  failReason: z.string().nullish(),
  buttons: z.array(buttonSchema).nullish(),
  properties: z.object({ finalPrompt: z.string().nullish() }).nullish(),
});

type WireTask = z.infer<typeof taskSchema>;

type ChangeAction = "UPSCALE" | "VARIATION" | "REROLL";

const wireDimensions: Record<BlendDimensions, string> = {
  portrait: "PORTRAIT",
  square: "SQUARE",
  landscape: "LANDSCAPE",
};

/** The proxy takes image bytes, not links: `data:image/png;base64,…`. */
export function dataUrlOf(image: ImageInput): string {
  return `data:${image.contentType};base64,${image.bytes.toString("base64")}`;
}

// ---------------------------------------------------------------------------------------------
// Pure mapping (exported for tests)

const statusByWire: Record<string, TaskStatus> = {
  "": "queued",
  NOT_START: "queued",
  SUBMITTED: "queued",
  // Waiting for a remix modal: still alive on the proxy's side, so it counts as running.
  MODAL: "running",
  IN_PROGRESS: "running",
  SUCCESS: "completed",
  FAILURE: "failed",
  CANCEL: "cancelled",
};

const refusalPattern = /banned|policy|moderat|sensitive|nsfw|inappropriate|prohibited|blocked|violat/i;
const transientPattern =
  /time(d)? ?out|queue|busy|try again|temporar|rate limit|unavailable|network|disconnect/i;

/** A FAILURE's failReason in our terms: refused prompts, passing trouble, or the proxy's fault. */
export function classifyFailReason(failReason: string | null | undefined): ProviderError {
  const text = failReason?.trim() || "no reason given";
  if (refusalPattern.test(text)) {
    return new ProviderError("refused", `Midjourney refused the prompt: ${text}`, { reason: text });
  }
  if (transientPattern.test(text)) {
    return new ProviderError("transient", `Midjourney could not finish the images: ${text}`);
  }
  return new ProviderError("internal", `Midjourney (via ${label}) failed the task: ${text}`);
}

function buttonsOf(wire: WireTask): ProviderButton[] | undefined {
  if (!wire.buttons) return undefined;
  return wire.buttons.map((button) => ({
    customId: button.customId,
    label: button.label ?? "",
    ...(button.emoji ? { emoji: button.emoji } : {}),
  }));
}

/** Midjourney's four numbered suggestions ("1️⃣ …\n\n2️⃣ …") as plain prompts. */
export function descriptionsOf(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((part) => part.replace(/^\s*(?:\d\uFE0F?\u20E3|\d+[.)])\s*/u, "").trim())
    .filter((part) => part !== "");
}

/** The images of a finished task: one for an upscale, otherwise the grid plus split images if sent. */
function completedImages(wire: WireTask): Pick<TaskSnapshot, "gridUrl" | "imageUrls" | "descriptions"> {
  const action = (wire.action ?? "").toUpperCase();
  if (action === "DESCRIBE") {
    return { imageUrls: [], descriptions: descriptionsOf(wire.prompt ?? wire.properties?.finalPrompt ?? "") };
  }
  const imageUrl = wire.imageUrl ?? undefined;
  if (action.startsWith("UPSCALE")) return { imageUrls: imageUrl ? [imageUrl] : [] };
  return { ...(imageUrl ? { gridUrl: imageUrl } : {}), imageUrls: wire.imageUrls ?? [] };
}

/** Our snapshot of one proxy task; unknown statuses count as running (and are logged). */
export function toSnapshot(wire: WireTask, logger: ProviderLogger = silentLogger): TaskSnapshot {
  const wireStatus = wire.status ?? "";
  let status = statusByWire[wireStatus];
  if (status === undefined) {
    logger.debug(`${label}: unknown task status, treating it as running`, {
      taskId: wire.id,
      status: wireStatus,
    });
    status = "running";
  }
  if (wireStatus === "MODAL") logger.debug(`${label}: task waits for a remix modal`, { taskId: wire.id });
  const progress = progressOf(wire.progress);
  const buttons = buttonsOf(wire);
  const snapshot: TaskSnapshot = {
    taskId: wire.id,
    status,
    imageUrls: [],
    ...(progress === undefined ? {} : { progress }),
    ...(buttons === undefined ? {} : { buttons }),
  };
  if (status === "failed") return { ...snapshot, error: classifyFailReason(wire.failReason) };
  if (status === "running" || status === "queued") {
    // While running, imageUrl is Midjourney's blurry in-progress grid.
    return wire.imageUrl ? { ...snapshot, previewUrl: wire.imageUrl } : snapshot;
  }
  if (status !== "completed") return snapshot;
  const images = completedImages(wire);
  if (images.descriptions === undefined && images.gridUrl === undefined && images.imageUrls.length === 0) {
    const error = new ProviderError("internal", `${label} reported the task finished but sent no image.`, {
      code: "no_image",
    });
    return { ...snapshot, status: "failed", error };
  }
  return { ...snapshot, ...images, progress: 100 };
}

/** Turns a submit answer into a task id, or the error its code stands for. */
export function submitOutcome(
  answer: WireSubmit,
  warnings: string[],
  secrets: string[] = [],
): Extract<SubmitResult, { kind: "task" }> {
  const description = redactExcerpt(answer.description ?? `code ${answer.code}`, secrets, 300);
  const code = String(answer.code);
  const properties = answer.properties ?? {};
  switch (answer.code) {
    case 1:
    case 21: // "already exists": the same follow-up was submitted before; its task is the answer.
    case 22: {
      if (!answer.result) {
        throw new ProviderError("internal", `${label} accepted the request but sent no task id.`, {
          code,
          maybeSubmitted: true,
        });
      }
      const result: Extract<SubmitResult, { kind: "task" }> = {
        kind: "task",
        taskId: answer.result,
        warnings,
      };
      const ahead = Number(properties.numberOfQueues);
      // numberOfQueues counts the tasks ahead of this one, so the position is one more.
      if (answer.code === 22 && Number.isFinite(ahead)) result.queuePosition = Math.max(0, ahead) + 1;
      return result;
    }
    case 23:
      throw new ProviderError("transient", "The Midjourney queue is full, try again in a few minutes.", {
        code,
      });
    case 24: {
      const word = typeof properties.bannedWord === "string" ? properties.bannedWord : undefined;
      const message = word
        ? `Midjourney would refuse this prompt: it contains the banned word "${word}".`
        : `Midjourney would refuse this prompt: ${description}`;
      throw new ProviderError("refused", message, { code, reason: word ?? description });
    }
    case 4:
      throw new ProviderError("invalid", `${label} did not accept the request: ${description}`, { code });
    case 3:
      throw new ProviderError("invalid", `${label} no longer knows the original task: ${description}`, {
        code,
      });
    default:
      throw new ProviderError("internal", `${label} could not submit the request: ${description}`, { code });
  }
}

/** Maps a non-2xx answer; the setting to fix is named so an admin knows where to look. */
export function mapProxyHttpError(
  response: HttpErrorResponse,
  secretConfigured: boolean,
  secrets: string[] = [],
): ProviderError | undefined {
  const code = String(response.status);
  switch (response.status) {
    case 401:
    case 403: {
      const fix = secretConfigured
        ? `the mj-api-secret was rejected: check ${secretSetting}`
        : `the server needs an API secret: set ${secretSetting}`;
      return new ProviderError("auth", `${label} refused access (HTTP ${code}): ${fix}.`, { code });
    }
    case 404:
      return new ProviderError(
        "internal",
        `${label} has no ${response.path} (HTTP 404): check MIDJOURNEY_PROXY_BASE_URL (it usually ends in /mj).`,
        { code },
      );
    case 429:
    case 502:
    case 503:
    case 504:
      return new ProviderError(
        "transient",
        `${label} is busy or unreachable (HTTP ${code}); try again shortly.`,
        {
          code,
        },
      );
  }
  // Some servers send their submit codes with a 4xx status; the code says more than the status.
  const parsed = submitSchema.safeParse(response.body);
  if (response.status < 500 && parsed.success && parsed.data.code !== 1) {
    try {
      submitOutcome(parsed.data, [], secrets);
    } catch (error) {
      if (error instanceof ProviderError) return error;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Prompt and button helpers

const speedFlags = ["fast", "relax", "turbo"] as const;

/** Drops what Midjourney would not take (only --repeat) and writes the requested speed as a flag. */
function promptFor(request: Pick<ImagineRequest, "prompt" | "speed" | "quality">): {
  prompt: ParsedPrompt;
  warnings: string[];
} {
  const params: PromptParams = { ...request.prompt.params };
  delete params.repeat;
  const warnings: string[] = [];
  const flagged = speedFlags.some((flag) => params[flag] !== undefined);
  if (request.speed === "draft") {
    warnings.push(`${label} has no draft speed setting here; the account's usual mode was used.`);
  } else if (request.speed !== undefined && !flagged) {
    params[request.speed] = true;
  }
  if (request.quality === "hd") warnings.push(`${label} has no "Run as HD"; a standard set was made.`);
  return { prompt: { ...request.prompt, params }, warnings };
}

function customIdParts(customId: string): { job: string; index: number } | undefined {
  const [mj, kind, job, index] = customId.split("::");
  if (mj !== "MJ" || kind !== "JOB" || job === undefined) return undefined;
  return { job, index: Number(index) };
}

/** The parent's button for `job` (exact name or a pattern) and image `index`, when it lists one. */
export function findButton(
  buttons: readonly ProviderButton[] | undefined,
  job: string | RegExp,
  index: number,
): ProviderButton | undefined {
  return buttons?.find((button) => {
    const parts = customIdParts(button.customId);
    if (parts === undefined || parts.index !== index) return false;
    return typeof job === "string" ? parts.job === job : job.test(parts.job);
  });
}

/** The button for a follow-up, best match first (e.g. Vary (Subtle) before a plain V button). */
export function buttonForFollowUp(request: FollowUpRequest): ProviderButton | undefined {
  const buttons = request.parent.buttons;
  switch (request.kind) {
    case "upscale":
      return request.style === undefined
        ? findButton(buttons, "upsample", request.index)
        : findButton(buttons, new RegExp(`^upsample_.*_${request.style}$`), request.index);
    case "variation": {
      const strengthJob = request.strength === "subtle" ? "low_variation" : "high_variation";
      return (
        findButton(buttons, strengthJob, request.index) ?? findButton(buttons, "variation", request.index)
      );
    }
    case "reroll":
      return findButton(buttons, "reroll", 0);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

export function createMidjourneyProxyProvider(
  options: MidjourneyProxyProviderOptions,
): MidjourneyProxyProvider {
  const logger = options.logger ?? silentLogger;
  const secrets = options.apiSecret ? [options.apiSecret] : [];
  const http = createHttpClient({
    ...options.http,
    baseUrl: options.baseUrl,
    providerLabel: label,
    headers: options.apiSecret ? { "mj-api-secret": options.apiSecret } : {},
    secrets,
    mapHttpError: (response) => mapProxyHttpError(response, options.apiSecret !== undefined, secrets),
    logger,
  });

  const hookFor = (callbackUrl: string | undefined) => {
    const url = callbackUrl ?? options.notifyHookUrl;
    return url ? { notifyHook: url } : {};
  };

  async function submit(path: string, body: object, warnings: string[], signal?: AbortSignal) {
    const answer = await http.requestJson({
      method: "POST",
      path,
      body,
      schema: submitSchema,
      idempotent: false,
      signal,
    });
    return submitOutcome(answer, warnings, secrets);
  }

  function prepare(request: Pick<ImagineRequest, "prompt" | "speed" | "quality">) {
    const { prompt, warnings } = promptFor(request);
    const text = renderPrompt(prompt);
    const max = midjourneyProxyCapabilities.maxPromptLength;
    const error =
      text.length > max
        ? new ProviderError(
            "invalid",
            `The prompt is ${text.length} characters; Midjourney takes at most ${max}.`,
          )
        : undefined;
    return { text, warnings, error };
  }

  async function imagine(request: ImagineRequest, signal?: AbortSignal): Promise<SubmitResult> {
    const prepared = prepare(request);
    if (prepared.error) throw prepared.error;
    const body = { prompt: prepared.text, ...hookFor(request.callbackUrl) };
    return submit("/submit/imagine", body, prepared.warnings, signal);
  }

  /** The original protocol: /submit/change with an action and a 1-based image number. */
  function change(parent: ParentTask, action: ChangeAction, index: number | undefined, signal?: AbortSignal) {
    const body = {
      taskId: parent.taskId,
      action,
      ...(index === undefined ? {} : { index }),
      ...hookFor(undefined),
    };
    return submit("/submit/change", body, [], signal);
  }

  function press(parent: ParentTask, customId: string, warnings: string[], signal?: AbortSignal) {
    return submit(
      "/submit/action",
      { taskId: parent.taskId, customId, ...hookFor(undefined) },
      warnings,
      signal,
    );
  }

  /** Buttons first (they carry exactly what Midjourney offers), /submit/change otherwise. */
  async function followUp(request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult> {
    if (request.kind === "action") return press(request.parent, request.customId, [], signal);
    if (request.kind === "hd") throw new ProviderError("invalid", `${label} has no "Run as HD".`);
    const button = buttonForFollowUp(request);
    const warnings = followUpWarnings(request, button);
    if (request.kind === "reroll" && request.prompt !== undefined) {
      // An edited re-roll is a new /imagine with the edited prompt.
      return imagine({ prompt: request.prompt, speed: request.parent.speed }, signal);
    }
    if (button !== undefined) return press(request.parent, button.customId, warnings, signal);
    if (request.kind === "upscale" && request.style !== undefined) {
      throw new ProviderError("invalid", `This image offers no Upscale (${request.style}) on ${label}.`);
    }
    const result =
      request.kind === "upscale"
        ? await change(request.parent, "UPSCALE", request.index, signal)
        : request.kind === "variation"
          ? await change(request.parent, "VARIATION", request.index, signal)
          : await change(request.parent, "REROLL", undefined, signal);
    return { ...result, warnings };
  }

  const provider: MidjourneyProxyProvider = {
    name: "midjourney-proxy",
    capabilities: midjourneyProxyCapabilities,

    check(request) {
      const prepared = prepare(request);
      return prepared.error
        ? { warnings: prepared.warnings, error: prepared.error }
        : { warnings: prepared.warnings };
    },

    imagine,
    followUp,

    async fetchTask(taskId, signal) {
      const wire = await http.requestJson({
        method: "GET",
        path: `/task/${encodeURIComponent(taskId)}/fetch`,
        schema: taskSchema,
        idempotent: true,
        signal,
      });
      return toSnapshot(wire, logger);
    },

    parseCallback(body) {
      const parsed = taskSchema.safeParse(body);
      if (!parsed.success) {
        logger.warn(`${label}: notifyHook body has an unexpected shape`, {
          excerpt: redactExcerpt(JSON.stringify(body) ?? String(body), secrets),
        });
        throw new ProviderError("internal", `${label} sent a notification Atelier could not understand.`, {
          code: "bad_callback",
        });
      }
      return toSnapshot(parsed.data, logger);
    },

    blend(request, signal) {
      if (request.images.length < 2 || request.images.length > 5) {
        return Promise.reject(new ProviderError("invalid", "A blend takes 2 to 5 images."));
      }
      const body = {
        base64Array: request.images.map(dataUrlOf),
        dimensions: wireDimensions[request.dimensions],
        ...hookFor(request.callbackUrl),
      };
      return submit("/submit/blend", body, [], signal);
    },

    describe(request, signal) {
      return submit(
        "/submit/describe",
        { base64: dataUrlOf(request.image), ...hookFor(request.callbackUrl) },
        [],
        signal,
      );
    },

    close: () => http.close(),
  };
  return provider;
}

function followUpWarnings(request: FollowUpRequest, button: ProviderButton | undefined): string[] {
  const warnings: string[] = [];
  if (request.kind === "variation") {
    const job = button ? customIdParts(button.customId)?.job : undefined;
    // A plain V button (or /submit/change) uses the account's variation mode, Strong unless changed.
    if (request.strength === "subtle" && job !== "low_variation") {
      warnings.push(
        `${label} cannot choose Vary (Subtle) here; Midjourney used the account's variation mode.`,
      );
    }
    if (request.prompt !== undefined) {
      warnings.push(`${label} cannot remix a variation; the original prompt was used.`);
    }
  }
  return warnings;
}
