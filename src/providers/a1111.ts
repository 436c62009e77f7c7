// AUTOMATIC1111's web UI API (also served by Forge and SD.Next with `--api`) on a pool of the team's
// own machines (A1111_URL, a comma list; one job per machine at a time, as the server itself runs
// them). /imagine is one txt2img with batch_size 4, sent in the background while /sdapi/v1/progress
// gives the percentage and the live preview (a1111-tasks.ts). V n is a seed variation: image n's seed
// with a variation seed (subseed_strength 0.15 subtle, 0.4 strong) — the same composition re-noised,
// at the model's own size, no image sent back and forth (img2img would blur and drift each round).
// U n is /sdapi/v1/extra-single-image with A1111_UPSCALER at 2×; 🔄 a new seed; ❌ /sdapi/v1/interrupt.
// Task ids carry the machine and the seeds (a1111-wire.ts): V works after a restart, and a job cut by
// a restart says where it ran. The prompt's side is in a1111-plan.ts.
import { silentLogger } from "../log.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import {
  type A1111Defaults,
  a1111MaxPromptLength,
  imagesPerSet,
  invalid,
  nestedVariationWarning,
  planned,
  planSet,
  type SetPlan,
  seedOfImage,
  type Txt2ImgBody,
  upscaleBody,
  variationStrength,
} from "./a1111-plan.ts";
import { type A1111Instance, A1111Tasks, type A1111Work } from "./a1111-tasks.ts";
import {
  basicAuth,
  decodeTaskId,
  encodeTaskId,
  generationSchema,
  mapA1111HttpError,
  modelsSchema,
  type TaskIdentity,
  upscalersSchema,
  upscaleSchema,
} from "./a1111-wire.ts";
import { defineProvider } from "./define.ts";
import { createHttpClient, type HttpClientOptions, type ProviderLogger } from "./http.ts";
import { InstancePool, type Lease } from "./pool.ts";
import { imageOf, withoutSeed } from "./shared.ts";
import {
  type DeclaredCapabilities,
  type FollowUpRequest,
  type ImageProvider,
  type ParentTask,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type TaskSnapshot,
} from "./types.ts";

export interface A1111ProviderOptions {
  /** A1111_URL: one base URL per machine. */
  urls: readonly string[];
  /** A1111_AUTH: `user:password` as given to `--api-auth`. */
  auth?: string;
  /** A1111_UPSCALER: the upscaler of U. Default "R-ESRGAN 4x+". */
  upscaler?: string;
  blobs: ResultBlobs;
  logger?: ProviderLogger;
  http?: Pick<HttpClientOptions, "timeouts" | "retry" | "clock" | "dispatcher">;
  /** Side of a square image at the model's native area. Default 1024 (SDXL). */
  nativeSide?: number;
  /** Sampling steps. Default 25. */
  steps?: number;
  /** Progress polls while a job runs. Default 1 s. */
  pollIntervalMs?: number;
  /** Default 15 minutes. */
  maxTaskDurationMs?: number;
  /** How long a machine that stopped answering is skipped. Default 30 s. */
  retryDownAfterMs?: number;
  /** Picks seeds. Default Math.random. */
  random?: () => number;
}

export interface A1111Provider extends ImageProvider {
  cancel(taskId: string): Promise<void>;
  verify(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

interface A1111 {
  pool: InstancePool;
  instances: A1111Instance[];
  tasks: A1111Tasks;
  blobs: ResultBlobs;
  upscaler: string;
  defaults: A1111Defaults;
  random: () => number;
  logger: ProviderLogger;
  /** Checkpoint names, learnt at the start-up check. */
  models: string[];
}

function declaredCapabilities(maxTaskDurationMs: number): DeclaredCapabilities {
  return {
    upscale: "upscale",
    upscaleStyles: [],
    variation: ["subtle", "strong"],
    reroll: true,
    hd: false,
    outpaint: false,
    remix: true,
    progressPreview: true,
    speeds: [],
    draft: false,
    maxPromptLength: a1111MaxPromptLength,
    passThroughParams: [],
    maxTaskDurationMs,
    imagesPerSet,
  };
}

const maxSeed = 4_294_967_294 - imagesPerSet;

/** A machine's slot now when one is free (the task id then names it); otherwise the task waits for one. */
async function freeLease(a: A1111): Promise<Lease | undefined> {
  return a.pool.describe().some((instance) => instance.busy === 0) ? a.pool.acquire() : undefined;
}

async function startTask(
  a: A1111,
  identity: Omit<TaskIdentity, "nonce" | "instance">,
  work: A1111Work,
  warnings: ProviderWarning[],
): Promise<SubmitResult> {
  const lease = await freeLease(a);
  const taskId = encodeTaskId({ ...identity, instance: lease?.instance.index });
  a.tasks.start(taskId, work, lease);
  return { kind: "task", taskId, warnings };
}

/** One txt2img of four images with these seeds. */
function startSet(
  a: A1111,
  plan: SetPlan,
  seeds: { seed: number; subseed?: number; strength?: number },
  extraWarnings: ProviderWarning[] = [],
): Promise<SubmitResult> {
  const subseed = seeds.subseed ?? Math.floor(a.random() * maxSeed);
  const strength = seeds.strength ?? 0;
  const body: Txt2ImgBody = { ...plan.body, seed: seeds.seed, subseed, subseed_strength: strength };
  const work: A1111Work = {
    count: imagesPerSet,
    watch: true,
    run: async (instance, signal) => {
      const answer = await instance.job.create("/sdapi/v1/txt2img", body, generationSchema, signal);
      return { images: answer.images ?? [], info: answer.info };
    },
  };
  const identity = { kind: "set" as const, seed: seeds.seed, subseed, strength: Math.round(strength * 1000) };
  return startTask(a, identity, work, [...plan.warnings, ...extraWarnings]);
}

const newSeed = (a: A1111) => Math.floor(a.random() * maxSeed);

function identityOf(parent: ParentTask): TaskIdentity {
  const identity = decodeTaskId(parent.taskId);
  if (identity?.kind !== "set")
    throw invalid("This set was not made by Atelier's A1111 adapter, so its seeds are unknown.", "not_a1111");
  return identity;
}

async function upscale(a: A1111, parent: ParentTask, index: number): Promise<SubmitResult> {
  const blob = await a.blobs.get(imageOf(parent, index));
  if (!blob)
    throw invalid(
      `Image ${index} of this set is no longer kept (kept for a week): run the prompt again.`,
      "image_expired",
    );
  const body = upscaleBody(blob.bytes, a.upscaler);
  const work: A1111Work = {
    count: 1,
    watch: false,
    run: async (instance, signal) => {
      const answer = await instance.job.create("/sdapi/v1/extra-single-image", body, upscaleSchema, signal);
      return { images: answer.image ? [answer.image] : [] };
    },
  };
  return startTask(a, { kind: "up", seed: 0, subseed: 0, strength: 0 }, work, []);
}

async function followUp(a: A1111, request: FollowUpRequest): Promise<SubmitResult> {
  const { parent } = request;
  switch (request.kind) {
    case "upscale":
      return upscale(a, parent, request.index);
    case "variation": {
      imageOf(parent, request.index);
      const identity = identityOf(parent);
      const plan = planned(planSet(withoutSeed(request.prompt ?? parent.prompt), {}, a.defaults));
      const seed = seedOfImage({ seed: identity.seed, strength: identity.strength }, request.index);
      const nested = identity.strength > 0 ? [nestedVariationWarning] : [];
      return startSet(a, plan, { seed, strength: variationStrength[request.strength] }, nested);
    }
    case "reroll": {
      const plan = planned(planSet(withoutSeed(request.prompt ?? parent.prompt), {}, a.defaults));
      return startSet(a, plan, { seed: newSeed(a), strength: plan.spread });
    }
    case "hd":
      throw invalid(
        "A1111 here makes the model's native size: there is no HD run (use U to upscale).",
        "no_hd",
      );
    case "action":
      throw invalid("A1111 has no provider buttons to press.", "unsupported_action");
    default:
      throw invalid("Zoom Out, Pan and Make Square are not available on A1111 here.", "no_outpaint");
  }
}

/** A task this process does not know: cut off by a restart (a blocking txt2img cannot be picked up again). */
function lostTask(a: A1111, taskId: string): ProviderError {
  const identity = decodeTaskId(taskId);
  if (!identity)
    return new ProviderError(
      "internal",
      `The task ${taskId.slice(0, 80)} is not one of Atelier's A1111 adapter (A1111_URL).`,
      { code: "bad_task_id" },
    );
  const where =
    identity.instance === undefined
      ? "while it waited for a free machine"
      : `while it ran on ${a.instances[identity.instance]?.url ?? `machine ${identity.instance + 1}`}`;
  return new ProviderError(
    "internal",
    `The A1111 task ${taskId} was interrupted by a restart of Atelier ${where} (A1111_URL): a running txt2img cannot be picked up again. Press 🔄 to run it again — on your own machines that costs nothing.`,
    { code: "interrupted_by_restart" },
  );
}

/**
 * At start: every machine lists its checkpoints (proving the URL and the login); one that does not
 * answer is skipped for now (the others carry on), none answering is an error naming A1111_URL. The
 * configured upscaler must be one the machines have.
 */
async function verify(a: A1111, signal?: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(
    a.instances.map((instance) => instance.read.read("/sdapi/v1/sd-models", modelsSchema, signal)),
  );
  const up = a.instances.filter((_, index) => results[index]?.status === "fulfilled");
  for (const [index, result] of results.entries()) {
    if (result.status === "fulfilled") continue;
    const error: unknown = result.reason;
    if (error instanceof ProviderError && error.kind === "auth") throw error;
    const instance = a.instances[index] as A1111Instance;
    a.pool.markDown(instance);
    a.logger.warn("A1111: a machine did not answer the start-up check", {
      url: instance.url,
      error: String(error),
    });
    if (up.length === 0)
      throw new ProviderError(
        "internal",
        `A1111 did not answer at A1111_URL (${a.instances.map((i) => i.url).join(", ")}): ${error instanceof Error ? error.message : String(error)} Check the URL, and that it runs with --api (and --listen).`,
        { cause: error },
      );
  }
  const first = results.find((result) => result.status === "fulfilled");
  if (first?.status === "fulfilled") a.models = first.value.map((model) => model.model_name);
  const upscalers = (
    await (up[0] as A1111Instance).read.read("/sdapi/v1/upscalers", upscalersSchema, signal)
  ).map((item) => item.name);
  if (!upscalers.includes(a.upscaler))
    throw new ProviderError(
      "internal",
      `A1111_UPSCALER is "${a.upscaler}", which ${(up[0] as A1111Instance).url} does not have; set it to one of: ${upscalers.join(", ")}.`,
      { code: "upscaler" },
    );
}

function makeInstance(
  url: string,
  index: number,
  options: A1111ProviderOptions,
  maxTaskDurationMs: number,
): A1111Instance {
  const auth = basicAuth(options.auth);
  const common = {
    baseUrl: url,
    providerLabel: `A1111 at ${url}`,
    headers: auth.headers,
    secrets: auth.secrets,
    logger: options.logger ?? silentLogger,
    mapHttpError: (response: Parameters<typeof mapA1111HttpError>[0]) =>
      mapA1111HttpError(response, url, options.auth !== undefined),
    clock: options.http?.clock,
    dispatcher: options.http?.dispatcher,
  };
  return {
    url,
    index,
    // txt2img answers only when the images are done; a machine that goes away is seen by the progress polls.
    job: createHttpClient({
      ...common,
      timeouts: { ...options.http?.timeouts, headersMs: maxTaskDurationMs, bodyMs: 120_000 },
      retry: { maxAttempts: 2, ...options.http?.retry },
      maxResponseBytes: 256 * 1024 * 1024,
    }),
    read: createHttpClient({
      ...common,
      timeouts: { headersMs: 15_000, ...options.http?.timeouts },
      retry: options.http?.retry,
      maxResponseBytes: 64 * 1024 * 1024,
    }),
  };
}

export function createA1111Provider(options: A1111ProviderOptions): A1111Provider {
  const logger = options.logger ?? silentLogger;
  const maxTaskDurationMs = options.maxTaskDurationMs ?? 15 * 60_000;
  const urls = options.urls.map((url) => url.replace(/\/+$/, ""));
  const instances = urls.map((url, index) => makeInstance(url, index, options, maxTaskDurationMs));
  const pool = new InstancePool({ urls, concurrency: 1, retryAfterMs: options.retryDownAfterMs });
  const a: A1111 = {
    pool,
    instances,
    blobs: options.blobs,
    upscaler: options.upscaler ?? "R-ESRGAN 4x+",
    random: options.random ?? Math.random,
    logger,
    models: [],
    defaults: {
      nativeSide: options.nativeSide ?? 1024,
      steps: options.steps ?? 25,
      models: () => (a.models.length > 0 ? a.models : ["the checkpoint loaded at A1111_URL"]),
    },
    tasks: new A1111Tasks({
      pool,
      instances,
      blobs: options.blobs,
      logger,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      maxDurationMs: maxTaskDurationMs,
      keepFinishedMs: 60 * 60_000,
    }),
  };
  return defineProvider({
    name: "a1111",
    capabilities: declaredCapabilities(maxTaskDurationMs),
    check(request) {
      const result = planSet(request.prompt, request, a.defaults);
      return "error" in result ? { warnings: [], error: result.error } : { warnings: result.plan.warnings };
    },
    imagine: async (request) => {
      const plan = planned(planSet(request.prompt, request, a.defaults));
      return startSet(a, plan, { seed: plan.seed ?? newSeed(a), strength: plan.spread });
    },
    followUp: (request) => followUp(a, request),
    fetchTask: async (taskId): Promise<TaskSnapshot> => {
      const snapshot = a.tasks.snapshot(taskId.split("#")[0] ?? taskId);
      if (!snapshot) throw lostTask(a, taskId);
      return snapshot;
    },
    cancel: async (taskId) => {
      if (!(await a.tasks.cancel(taskId))) throw lostTask(a, taskId);
    },
    verify: (signal) => verify(a, signal),
    close: async () => {
      a.tasks.abortAll();
      await Promise.all(instances.flatMap((instance) => [instance.job.close(), instance.read.close()]));
    },
  });
}
