// ComfyUI on your own GPU(s). A set of four is one prompt with a batch of four (`POST /prompt`), made
// from the shipped text-to-image workflow or the user's own (comfyui-workflow.ts); progress and live
// preview frames come over the websocket (comfyui-live.ts); the images come from `/history` and
// `/view` and are kept as blobs; several machines form a pool with fail-over (comfyui-tasks.ts).
// What a prompt becomes (and what is refused) is in comfyui-plan.ts.
// V is image-to-image of image n (uploaded, denoise 0.35 subtle / 0.65 strong); U is a real 2×
// upscale (an upscale model the server lists, else a lanczos resize, with a warning); 🔄 a new seed.
import { randomUUID } from "node:crypto";
import sharp from "sharp";
import { Agent } from "undici";
import { silentLogger } from "../log.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import { type Machine, upload, type Work } from "./comfyui-files.ts";
import { type LiveEvents, LiveFeed } from "./comfyui-live.ts";
import {
  capabilities,
  invalid,
  type Plan,
  plannedOrThrow,
  planOf,
  setSize,
  variationDenoise,
} from "./comfyui-plan.ts";
import { TaskBook } from "./comfyui-tasks.ts";
import {
  comboValues,
  mapComfyHttpError,
  type ObjectInfo,
  objectInfoSchema,
  submittedSchema,
} from "./comfyui-wire.ts";
import { type Graph, loadWorkflow, placeValues, upscaleGraph } from "./comfyui-workflow.ts";
import { defineProvider } from "./define.ts";
import {
  type Clock,
  createHttpClient,
  type HttpTimeouts,
  type ProviderLogger,
  type RetryPolicy,
} from "./http.ts";
import { InstancePool } from "./pool.ts";
import { imageOf, withoutSeed } from "./shared.ts";
import { type FollowUpRequest, ProviderError, type ProviderWarning, type SubmitResult } from "./types.ts";

export interface ComfyUiProviderOptions {
  /** COMFYUI_URL: one machine or several (a pool). */
  urls: readonly string[];
  /** COMFYUI_WORKFLOW: path of an API-format workflow; the shipped default without it. */
  workflowPath?: string;
  /** COMFYUI_CHECKPOINT; default: the first checkpoint the machine lists (default workflow only). */
  checkpoint?: string;
  /** COMFYUI_CONCURRENCY: prompts sent to one machine at once. Default 1. */
  concurrency?: number;
  blobs: ResultBlobs;
  logger?: ProviderLogger;
  /** Pixels of one image of a set, in megapixels (SDXL/FLUX: 1; SD 1.5 wants 0.25). Default 1. */
  megapixels?: number;
  /** Default 15 minutes. */
  maxTaskDurationMs?: number;
  /** How long a machine that stopped answering is skipped. Default 30 s. */
  retryDownAfterMs?: number;
  http?: { timeouts?: Partial<HttpTimeouts>; retry?: Partial<RetryPolicy>; clock?: Partial<Clock> };
}

/** One configured set of ComfyUI machines, as every call below needs it. */
interface ComfyUi {
  template: Graph;
  /** COMFYUI_CHECKPOINT, when set. */
  checkpoint: string | undefined;
  /** The workflow names a checkpoint and none is configured: each machine's first one is used. */
  wantsCheckpoint: boolean;
  megapixels: number;
  /** Names this bot to every machine's websocket, so the live events of its prompts come to it. */
  clientId: string;
  pool: InstancePool;
  machines: Machine[];
  tasks: TaskBook;
  blobs: ResultBlobs;
  logger: ProviderLogger;
  /** Each machine's `/object_info`, asked once (and asked again after a failure). */
  infos: Map<number, Promise<ObjectInfo>>;
}

function createMachines(
  options: ComfyUiProviderOptions,
  pool: InstancePool,
  clientId: string,
  events: LiveEvents,
  logger: ProviderLogger,
): Machine[] {
  // With several machines, one that refuses twice is down: the pool moves its work elsewhere.
  const retry = options.urls.length > 1 ? { maxAttempts: 2, ...options.http?.retry } : options.http?.retry;
  return options.urls.map((url, index) => {
    const label = `ComfyUI at ${url}`;
    return {
      instance: pool.instance(index) as Machine["instance"],
      http: createHttpClient({
        ...options.http,
        retry,
        baseUrl: url,
        providerLabel: label,
        logger,
        mapHttpError: (response) => mapComfyHttpError(response, label),
      }),
      live: new LiveFeed(url, clientId, events, logger),
      dispatcher: new Agent({ connections: 4 }),
    };
  });
}

function createComfyUi(options: ComfyUiProviderOptions, maxTaskDurationMs: number): ComfyUi {
  const logger = options.logger ?? silentLogger;
  const template = loadWorkflow(options.workflowPath);
  const clientId = randomUUID();
  const pool = new InstancePool({
    urls: options.urls,
    concurrency: options.concurrency ?? 1,
    retryAfterMs: options.retryDownAfterMs,
  });
  // The machines' live feeds exist before the task book they report to: events wait for it.
  let book: TaskBook | undefined;
  const events: LiveEvents = {
    started: (id) => book?.events.started(id),
    progress: (id, value, max) => book?.events.progress(id, value, max),
    preview: (id, image) => book?.events.preview(id, image),
  };
  const machines = createMachines(options, pool, clientId, events, logger);
  const tasks = new TaskBook({ pool, machines, blobs: options.blobs, logger, maxTaskDurationMs });
  book = tasks;
  return {
    template,
    checkpoint: options.checkpoint,
    wantsCheckpoint: options.checkpoint === undefined && JSON.stringify(template).includes("%checkpoint%"),
    megapixels: options.megapixels ?? 1,
    clientId,
    pool,
    machines,
    tasks,
    blobs: options.blobs,
    logger,
    infos: new Map(),
  };
}

function infoOf(comfy: ComfyUi, machine: Machine, signal?: AbortSignal): Promise<ObjectInfo> {
  const index = machine.instance.index;
  let info = comfy.infos.get(index);
  if (!info) {
    info = machine.http.read("/object_info", objectInfoSchema, signal);
    info.catch(() => comfy.infos.delete(index));
    comfy.infos.set(index, info);
  }
  return info;
}

async function checkpointFor(
  comfy: ComfyUi,
  machine: Machine,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!comfy.wantsCheckpoint) return comfy.checkpoint;
  const [first] = comboValues(await infoOf(comfy, machine, signal), "CheckpointLoaderSimple", "ckpt_name");
  if (first === undefined)
    throw new ProviderError(
      "internal",
      `ComfyUI at ${machine.instance.url} lists no checkpoint: put a model in its models/checkpoints folder, or set COMFYUI_CHECKPOINT.`,
      { code: "no_checkpoint" },
    );
  return first;
}

async function post(comfy: ComfyUi, machine: Machine, graph: Graph, signal?: AbortSignal): Promise<string> {
  const answer = await machine.http.create(
    "/prompt",
    { prompt: graph, client_id: comfy.clientId },
    submittedSchema,
    signal,
  );
  return answer.prompt_id;
}

function planned(comfy: ComfyUi, prompt: ParsedPrompt): Plan {
  return plannedOrThrow(prompt, comfy.megapixels, comfy.checkpoint);
}

/** A text-to-image set (imagine and 🔄): the plan's values in the workflow. */
async function run(comfy: ComfyUi, plan: Plan, signal?: AbortSignal): Promise<SubmitResult> {
  const work: Work = async (machine, workSignal) => {
    const placement = { ...plan.placement, checkpoint: await checkpointFor(comfy, machine, workSignal) };
    return post(comfy, machine, placeValues(comfy.template, placement), workSignal);
  };
  return { kind: "task", taskId: await comfy.tasks.submit(work, signal), warnings: plan.warnings };
}

/** Image n of the parent set: its bytes (a blob this adapter kept) and size. */
async function sourceImage(comfy: ComfyUi, parent: FollowUpRequest["parent"], index: number) {
  const blob = await comfy.blobs.get(imageOf(parent, index));
  if (!blob)
    throw invalid(
      "This image is no longer kept (ComfyUI images are kept for a week): run /imagine again.",
      "image_expired",
    );
  const bytes = await sharp(blob.bytes).png().toBuffer();
  const meta = await sharp(bytes).metadata();
  return { bytes, width: meta.width ?? 1, height: meta.height ?? 1 };
}

async function variation(
  comfy: ComfyUi,
  request: Extract<FollowUpRequest, { kind: "variation" }>,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const source = await sourceImage(comfy, request.parent, request.index);
  const plan = planned(comfy, withoutSeed(request.prompt ?? request.parent.prompt));
  const work: Work = async (machine, workSignal) => {
    const image = await upload(machine, source.bytes, `atelier-${randomUUID()}.png`, workSignal);
    const checkpoint = await checkpointFor(comfy, machine, workSignal);
    const placement = {
      ...plan.placement,
      width: source.width,
      height: source.height,
      image,
      denoise: variationDenoise[request.strength],
      checkpoint,
    };
    return post(comfy, machine, placeValues(comfy.template, placement), workSignal);
  };
  return {
    kind: "task",
    taskId: await comfy.tasks.submit(work, signal),
    // The size is the image's own, so what --ar did no longer applies.
    warnings: plan.warnings.filter((w) => w.feature !== "--ar"),
  };
}

async function upscale(
  comfy: ComfyUi,
  request: Extract<FollowUpRequest, { kind: "upscale" }>,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const source = await sourceImage(comfy, request.parent, request.index);
  const warnings: ProviderWarning[] = [];
  const work: Work = async (machine, workSignal) => {
    const image = await upload(machine, source.bytes, `atelier-${randomUUID()}.png`, workSignal);
    const [model] = comboValues(await infoOf(comfy, machine, workSignal), "UpscaleModelLoader", "model_name");
    // A retry on another machine starts over: only the machine that ran it decides the warning.
    warnings.length = 0;
    if (model === undefined)
      warnings.push({
        type: "changed",
        feature: `U${request.index}`,
        details: "the ComfyUI server lists no upscale model, so this is a plain 2× resize",
      });
    return post(comfy, machine, upscaleGraph(image, source, model), workSignal);
  };
  if (request.style)
    warnings.push({
      type: "unsupported",
      feature: `Upscale (${request.style})`,
      details: "ComfyUI upscales one way",
    });
  const taskId = await comfy.tasks.submit(work, signal);
  return { kind: "task", taskId, warnings };
}

function followUp(comfy: ComfyUi, request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult> {
  switch (request.kind) {
    case "upscale":
      return upscale(comfy, request, signal);
    case "variation":
      return variation(comfy, request, signal);
    case "reroll":
      return run(comfy, planned(comfy, withoutSeed(request.prompt ?? request.parent.prompt)), signal);
    default:
      return Promise.reject(invalid(`ComfyUI jobs have no ${request.kind} button.`, "unsupported_action"));
  }
}

/** A reachable machine must have the configured checkpoint, or at least one when the workflow needs one. */
function checkCheckpoints(comfy: ComfyUi, machine: Machine, info: ObjectInfo): void {
  const checkpoints = comboValues(info, "CheckpointLoaderSimple", "ckpt_name");
  if (comfy.checkpoint !== undefined && !checkpoints.includes(comfy.checkpoint))
    throw new ProviderError(
      "internal",
      `COMFYUI_CHECKPOINT is ${comfy.checkpoint}, which ComfyUI at ${machine.instance.url} does not have; it has: ${checkpoints.join(", ") || "none"}.`,
      { code: "checkpoint" },
    );
  if (comfy.wantsCheckpoint && checkpoints.length === 0)
    throw new ProviderError(
      "internal",
      `ComfyUI at ${machine.instance.url} lists no checkpoint: put a model in models/checkpoints.`,
      { code: "no_checkpoint" },
    );
}

/** At start: every machine answers `/object_info`, has the checkpoint, and the workflow takes the values. */
async function verify(comfy: ComfyUi, signal?: AbortSignal): Promise<void> {
  placeValues(comfy.template, {
    prompt: "check",
    negative: "",
    seed: 1,
    width: 1024,
    height: 1024,
    batch: setSize,
    checkpoint: "check",
  });
  const problems: string[] = [];
  let reachable = 0;
  for (const machine of comfy.machines) {
    let info: ObjectInfo;
    try {
      info = await infoOf(comfy, machine, signal);
    } catch (error) {
      comfy.pool.markDown(machine.instance);
      problems.push(
        `${machine.instance.url} did not answer GET /object_info (${(error as Error).message}); start ComfyUI with --listen and check COMFYUI_URL`,
      );
      continue;
    }
    reachable += 1;
    checkCheckpoints(comfy, machine, info);
  }
  if (reachable === 0)
    throw new ProviderError("internal", `ComfyUI: ${problems.join("; ")}.`, { code: "unreachable" });
  for (const problem of problems) comfy.logger.warn(`ComfyUI: ${problem}`);
}

async function close(comfy: ComfyUi): Promise<void> {
  comfy.tasks.closeAll();
  for (const machine of comfy.machines) machine.live.close();
  await Promise.all(comfy.machines.flatMap((machine) => [machine.http.close(), machine.dispatcher.close()]));
}

export function createComfyUiProvider(options: ComfyUiProviderOptions) {
  const maxTaskDurationMs = options.maxTaskDurationMs ?? 15 * 60_000;
  const comfy = createComfyUi(options, maxTaskDurationMs);
  return defineProvider({
    name: "comfyui",
    capabilities: capabilities(maxTaskDurationMs),
    check(request) {
      const result = planOf(request.prompt, comfy.megapixels, comfy.checkpoint);
      return "error" in result ? { warnings: [], error: result.error } : { warnings: result.plan.warnings };
    },
    imagine: async (request, signal) => run(comfy, planned(comfy, request.prompt), signal),
    followUp: (request, signal) => followUp(comfy, request, signal),
    fetchTask: (taskId, signal) => comfy.tasks.fetch(taskId, signal),
    cancel: (taskId, signal) => comfy.tasks.cancel(taskId, signal),
    verify: (signal) => verify(comfy, signal),
    close: () => close(comfy),
  });
}
