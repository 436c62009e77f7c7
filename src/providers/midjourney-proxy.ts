// Adapter for the midjourney-proxy protocol (novicezk/midjourney-proxy, trueai-org/midjourney-proxy and
// the many resellers that speak it; reference/image-apis.md §3). The prompt goes verbatim to a real
// Midjourney account, so every Midjourney parameter passes through. Submits answer HTTP 200 with a
// `code`; tasks report `imageUrl` (Midjourney's own 2×2 grid), sometimes `imageUrls` (the 4 split
// images) and, in the trueai fork, `buttons` whose customIds drive every follow-up.
// The JSON is in midjourney-proxy-wire.ts, prompt text and button choice in midjourney-proxy-requests.ts.
import { silentLogger } from "../log.ts";
import { type PromptParams, renderPrompt } from "../prompt/index.ts";
import { defineProvider } from "./define.ts";
import {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type ProviderLogger,
  redactExcerpt,
} from "./http.ts";
import { buttonForFollowUp, followUpWarnings, promptFor } from "./midjourney-proxy-requests.ts";
import {
  dataUrlOf,
  proxyLabel as label,
  mapProxyHttpError,
  proxyTaskSchema,
  submitOutcome,
  submitSchema,
  toSnapshot,
  wireDimensions,
} from "./midjourney-proxy-wire.ts";
import {
  type BlendRequest,
  type DeclaredCapabilities,
  type DescribeRequest,
  type FollowUpRequest,
  type ImageProvider,
  type ImagineRequest,
  type ParentTask,
  type ProviderCapabilities,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type TaskSnapshot,
} from "./types.ts";

export { buttonForFollowUp, findButton } from "./midjourney-proxy-requests.ts";
export {
  classifyFailReason,
  dataUrlOf,
  descriptionsOf,
  mapProxyHttpError,
  submitOutcome,
  toSnapshot,
} from "./midjourney-proxy-wire.ts";

import { probeTaskId, verifyByProbe } from "./verify.ts";

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

const declaredCapabilities: DeclaredCapabilities = {
  upscale: "upscale",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: false,
  outpaint: false,
  // Remix needs the MODAL round trip (POST /submit/modal), not implemented.
  remix: false,
  progressPreview: true,
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

type ChangeAction = "UPSCALE" | "VARIATION" | "REROLL";

/** One configured proxy server, as every call below needs it. */
interface ProxyServer {
  http: HttpClient;
  notifyHookUrl?: string;
  secrets: string[];
  logger: ProviderLogger;
}

function hookFor(server: ProxyServer, callbackUrl: string | undefined): { notifyHook?: string } {
  const url = callbackUrl ?? server.notifyHookUrl;
  return url ? { notifyHook: url } : {};
}

async function submit(
  server: ProxyServer,
  path: string,
  body: object,
  warnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const answer = await server.http.create(path, body, submitSchema, signal);
  return submitOutcome(answer, warnings, server.secrets);
}

/** The prompt text to send, what it cannot honour, and whether it is too long to send at all. */
function prepare(request: Pick<ImagineRequest, "prompt" | "speed" | "quality">) {
  const { prompt, warnings } = promptFor(request);
  const text = renderPrompt(prompt);
  const max = declaredCapabilities.maxPromptLength;
  const error =
    text.length > max
      ? new ProviderError(
          "invalid",
          `The prompt is ${text.length} characters; Midjourney takes at most ${max}.`,
        )
      : undefined;
  return { text, warnings, error };
}

async function imagine(
  server: ProxyServer,
  request: ImagineRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const prepared = prepare(request);
  if (prepared.error) throw prepared.error;
  const body = { prompt: prepared.text, ...hookFor(server, request.callbackUrl) };
  return submit(server, "/submit/imagine", body, prepared.warnings, signal);
}

/** The original protocol: /submit/change with an action and a 1-based image number. */
function change(
  server: ProxyServer,
  parent: ParentTask,
  action: ChangeAction,
  index: number | undefined,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const body = {
    taskId: parent.taskId,
    action,
    ...(index === undefined ? {} : { index }),
    ...hookFor(server, undefined),
  };
  return submit(server, "/submit/change", body, [], signal);
}

function press(
  server: ProxyServer,
  parent: ParentTask,
  customId: string,
  warnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const body = { taskId: parent.taskId, customId, ...hookFor(server, undefined) };
  return submit(server, "/submit/action", body, warnings, signal);
}

/** Buttons first (they carry exactly what Midjourney offers), /submit/change otherwise. */
async function followUp(
  server: ProxyServer,
  request: FollowUpRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  if (request.kind === "action") return press(server, request.parent, request.customId, [], signal);
  if (request.kind === "hd") throw new ProviderError("invalid", `${label} has no "Run as HD".`);
  const button = buttonForFollowUp(request);
  const warnings = followUpWarnings(request, button);
  if (request.kind === "reroll" && request.prompt !== undefined) {
    // An edited re-roll is a new /imagine with the edited prompt.
    return imagine(server, { prompt: request.prompt, speed: request.parent.speed }, signal);
  }
  if (button !== undefined) return press(server, request.parent, button.customId, warnings, signal);
  if (request.kind === "upscale" && request.style !== undefined) {
    throw new ProviderError("invalid", `This image offers no Upscale (${request.style}) on ${label}.`);
  }
  const result =
    request.kind === "upscale"
      ? await change(server, request.parent, "UPSCALE", request.index, signal)
      : request.kind === "variation"
        ? await change(server, request.parent, "VARIATION", request.index, signal)
        : await change(server, request.parent, "REROLL", undefined, signal);
  return { ...result, warnings };
}

async function fetchTask(server: ProxyServer, taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
  const path = `/task/${encodeURIComponent(taskId)}/fetch`;
  // The Java server answers an id it does not know with an empty body (read as null).
  const wire = await server.http.read(path, proxyTaskSchema.nullable(), signal);
  if (wire === null) {
    throw new ProviderError(
      "internal",
      `${label} does not know task ${taskId} (it may have expired): check MIDJOURNEY_PROXY_BASE_URL.`,
      { code: "task_not_found" },
    );
  }
  return toSnapshot(wire, server.logger);
}

function parseCallback(server: ProxyServer, body: unknown): TaskSnapshot {
  const parsed = proxyTaskSchema.safeParse(body);
  if (!parsed.success) {
    server.logger.warn(`${label}: notifyHook body has an unexpected shape`, {
      excerpt: redactExcerpt(JSON.stringify(body) ?? String(body), server.secrets),
    });
    throw new ProviderError("internal", `${label} sent a notification Atelier could not understand.`, {
      code: "bad_callback",
    });
  }
  return toSnapshot(parsed.data, server.logger);
}

async function blend(
  server: ProxyServer,
  request: BlendRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  if (request.images.length < 2 || request.images.length > 5) {
    throw new ProviderError("invalid", "A blend takes 2 to 5 images.");
  }
  const body = {
    base64Array: request.images.map(dataUrlOf),
    dimensions: wireDimensions[request.dimensions],
    ...hookFor(server, request.callbackUrl),
  };
  return submit(server, "/submit/blend", body, [], signal);
}

function describe(
  server: ProxyServer,
  request: DescribeRequest,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const body = { base64: dataUrlOf(request.image), ...hookFor(server, request.callbackUrl) };
  return submit(server, "/submit/describe", body, [], signal);
}

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
  const server: ProxyServer = { http, notifyHookUrl: options.notifyHookUrl, secrets, logger };
  return defineProvider({
    name: "midjourney-proxy",
    capabilities: declaredCapabilities,
    check(request) {
      const { warnings, error } = prepare(request);
      return error ? { warnings, error } : { warnings };
    },
    imagine: (request, signal) => imagine(server, request, signal),
    followUp: (request, signal) => followUp(server, request, signal),
    fetchTask: (taskId, signal) => fetchTask(server, taskId, signal),
    verify: (signal) =>
      verifyByProbe(
        {
          label: "midjourney-proxy",
          keySetting: "MIDJOURNEY_PROXY_API_KEY",
          urlSetting: "MIDJOURNEY_PROXY_BASE_URL",
        },
        () => fetchTask(server, probeTaskId, signal),
      ),
    parseCallback: (body) => parseCallback(server, body),
    blend: (request, signal) => blend(server, request, signal),
    describe: (request, signal) => describe(server, request, signal),
    close: () => http.close(),
  });
}

/** What every midjourney-proxy provider offers, read off an adapter that never connects. */
export const midjourneyProxyCapabilities: ProviderCapabilities = createMidjourneyProxyProvider({
  baseUrl: "http://midjourney-proxy.invalid/mj",
}).capabilities;
