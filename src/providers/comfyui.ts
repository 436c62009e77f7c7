// ComfyUI on your own GPU(s). A set of four is one prompt with a batch of four (`POST /prompt`), made
// from the shipped text-to-image workflow or the user's own (comfyui-workflow.ts); progress and live
// preview frames come over the websocket (comfyui-live.ts); the images come from `/history` and
// `/view` and are kept as blobs; several machines form a pool with fail-over (comfyui-tasks.ts).
// V is image-to-image of image n (uploaded, denoise 0.35 subtle / 0.65 strong); U is a real 2×
// upscale (an upscale model the server lists, else a lanczos resize, with a warning); 🔄 a new seed.
import { randomInt, randomUUID } from "node:crypto";
import sharp from "sharp";
import { Agent } from "undici";
import { silentLogger } from "../log.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import { type Machine, upload, type Work } from "./comfyui-files.ts";
import { type LiveEvents, LiveFeed } from "./comfyui-live.ts";
import { TaskBook } from "./comfyui-tasks.ts";
import {
  comboValues,
  mapComfyHttpError,
  type ObjectInfo,
  objectInfoSchema,
  submittedSchema,
} from "./comfyui-wire.ts";
import { type Graph, loadWorkflow, type Placement, placeValues, upscaleGraph } from "./comfyui-workflow.ts";
import { defineProvider } from "./define.ts";
import {
  type Clock,
  createHttpClient,
  type HttpTimeouts,
  type ProviderLogger,
  type RetryPolicy,
} from "./http.ts";
import { InstancePool } from "./pool.ts";
import { translateForSd } from "./sd-translate.ts";
import { imageOf, withoutSeed } from "./shared.ts";
import { modelVersionProblem } from "./translate.ts";
import {
  type DeclaredCapabilities,
  type FollowUpRequest,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type VariationStrength,
} from "./types.ts";

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

/** How far V moves away from the chosen image: KSampler `denoise`. */
export const variationDenoise: Record<VariationStrength, number> = { subtle: 0.35, strong: 0.65 };
const setSize = 4;
const maxPromptLength = 6000;

function capabilities(maxTaskDurationMs: number): DeclaredCapabilities {
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
    maxPromptLength,
    passThroughParams: [],
    maxTaskDurationMs,
    imagesPerSet: setSize,
  };
}

const invalid = (message: string, code: string) => new ProviderError("invalid", message, { code });

interface Plan {
  placement: Omit<Placement, "checkpoint">;
  warnings: ProviderWarning[];
}

function planOf(
  prompt: ParsedPrompt,
  megapixels: number,
  checkpoint: string | undefined,
): { plan: Plan } | { error: ProviderError } {
  if (prompt.text.length > maxPromptLength)
    return {
      error: invalid(
        `The prompt is ${prompt.text.length} characters; ComfyUI jobs take at most ${maxPromptLength}.`,
        "prompt_length",
      ),
    };
  const version = modelVersionProblem(prompt.params, "ComfyUI", [checkpoint ?? "the workflow's checkpoint"]);
  if (version) return { error: invalid(version, "model_version") };
  const sd = translateForSd(prompt, { label: "ComfyUI", pixels: megapixels * 1024 * 1024 });
  const placement = {
    prompt: sd.prompt,
    negative: sd.negativePrompt,
    seed: sd.seed ?? randomInt(0, 2 ** 32),
    batch: setSize,
    width: sd.width,
    height: sd.height,
    ...(sd.cfg === undefined ? {} : { cfg: sd.cfg }),
    ...(sd.steps === undefined ? {} : { steps: sd.steps }),
  };
  return { plan: { placement, warnings: sd.warnings } };
}

export function createComfyUiProvider(options: ComfyUiProviderOptions) {
  const logger = options.logger ?? silentLogger;
  const maxTaskDurationMs = options.maxTaskDurationMs ?? 15 * 60_000;
  const megapixels = options.megapixels ?? 1;
  const template = loadWorkflow(options.workflowPath);
  const wantsCheckpoint =
    options.checkpoint === undefined && JSON.stringify(template).includes("%checkpoint%");
  const clientId = randomUUID();
  const pool = new InstancePool({
    urls: options.urls,
    concurrency: options.concurrency ?? 1,
    retryAfterMs: options.retryDownAfterMs,
  });
  let book: TaskBook | undefined;
  const events: LiveEvents = {
    started: (id) => book?.events.started(id),
    progress: (id, value, max) => book?.events.progress(id, value, max),
    preview: (id, image) => book?.events.preview(id, image),
  };
  // With several machines, one that refuses twice is down: the pool moves its work elsewhere.
  const retry = options.urls.length > 1 ? { maxAttempts: 2, ...options.http?.retry } : options.http?.retry;
  const machines: Machine[] = options.urls.map((url, index) => {
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
  const tasks = new TaskBook({ pool, machines, blobs: options.blobs, logger, maxTaskDurationMs });
  book = tasks;

  const infos = new Map<number, Promise<ObjectInfo>>();
  function infoOf(machine: Machine, signal?: AbortSignal): Promise<ObjectInfo> {
    const index = machine.instance.index;
    let info = infos.get(index);
    if (!info) {
      info = machine.http.read("/object_info", objectInfoSchema, signal);
      info.catch(() => infos.delete(index));
      infos.set(index, info);
    }
    return info;
  }

  async function checkpointFor(machine: Machine, signal?: AbortSignal): Promise<string | undefined> {
    if (!wantsCheckpoint) return options.checkpoint;
    const [first] = comboValues(await infoOf(machine, signal), "CheckpointLoaderSimple", "ckpt_name");
    if (first === undefined)
      throw new ProviderError(
        "internal",
        `ComfyUI at ${machine.instance.url} lists no checkpoint: put a model in its models/checkpoints folder, or set COMFYUI_CHECKPOINT.`,
        { code: "no_checkpoint" },
      );
    return first;
  }

  async function post(machine: Machine, graph: Graph, signal?: AbortSignal): Promise<string> {
    const answer = await machine.http.create(
      "/prompt",
      { prompt: graph, client_id: clientId },
      submittedSchema,
      signal,
    );
    return answer.prompt_id;
  }

  async function run(
    placement: Plan["placement"],
    warnings: ProviderWarning[],
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const work: Work = async (machine, workSignal) =>
      post(
        machine,
        placeValues(template, { ...placement, checkpoint: await checkpointFor(machine, workSignal) }),
        workSignal,
      );
    return { kind: "task", taskId: await tasks.submit(work, signal), warnings };
  }

  function planned(prompt: ParsedPrompt): Plan {
    const result = planOf(prompt, megapixels, options.checkpoint);
    if ("error" in result) throw result.error;
    return result.plan;
  }

  /** Image n of the parent set: its bytes (a blob this adapter kept) and size. */
  async function sourceImage(parent: FollowUpRequest["parent"], index: number) {
    const blob = await options.blobs.get(imageOf(parent, index));
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
    request: Extract<FollowUpRequest, { kind: "variation" }>,
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const source = await sourceImage(request.parent, request.index);
    const plan = planned(withoutSeed(request.prompt ?? request.parent.prompt));
    const work: Work = async (machine, workSignal) => {
      const image = await upload(machine, source.bytes, `atelier-${randomUUID()}.png`, workSignal);
      const checkpoint = await checkpointFor(machine, workSignal);
      const placement = {
        ...plan.placement,
        width: source.width,
        height: source.height,
        image,
        denoise: variationDenoise[request.strength],
        checkpoint,
      };
      return post(machine, placeValues(template, placement), workSignal);
    };
    return {
      kind: "task",
      taskId: await tasks.submit(work, signal),
      warnings: plan.warnings.filter((w) => w.feature !== "--ar"),
    };
  }

  async function upscale(
    request: Extract<FollowUpRequest, { kind: "upscale" }>,
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const source = await sourceImage(request.parent, request.index);
    const warnings: ProviderWarning[] = [];
    const work: Work = async (machine, workSignal) => {
      const image = await upload(machine, source.bytes, `atelier-${randomUUID()}.png`, workSignal);
      const [model] = comboValues(await infoOf(machine, workSignal), "UpscaleModelLoader", "model_name");
      warnings.length = 0;
      if (model === undefined)
        warnings.push({
          type: "changed",
          feature: `U${request.index}`,
          details: "the ComfyUI server lists no upscale model, so this is a plain 2× resize",
        });
      return post(machine, upscaleGraph(image, source, model), workSignal);
    };
    if (request.style)
      warnings.push({
        type: "unsupported",
        feature: `Upscale (${request.style})`,
        details: "ComfyUI upscales one way",
      });
    const taskId = await tasks.submit(work, signal);
    return { kind: "task", taskId, warnings };
  }

  function followUp(request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult> {
    switch (request.kind) {
      case "upscale":
        return upscale(request, signal);
      case "variation":
        return variation(request, signal);
      case "reroll": {
        const plan = planned(withoutSeed(request.prompt ?? request.parent.prompt));
        return run(plan.placement, plan.warnings, signal);
      }
      default:
        return Promise.reject(invalid(`ComfyUI jobs have no ${request.kind} button.`, "unsupported_action"));
    }
  }

  /** At start: every machine answers `/object_info`, has the checkpoint, and the workflow takes the values. */
  async function verify(signal?: AbortSignal): Promise<void> {
    placeValues(template, {
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
    for (const machine of machines) {
      let info: ObjectInfo;
      try {
        info = await infoOf(machine, signal);
      } catch (error) {
        pool.markDown(machine.instance);
        problems.push(
          `${machine.instance.url} did not answer GET /object_info (${(error as Error).message}); start ComfyUI with --listen and check COMFYUI_URL`,
        );
        continue;
      }
      reachable += 1;
      const checkpoints = comboValues(info, "CheckpointLoaderSimple", "ckpt_name");
      if (options.checkpoint !== undefined && !checkpoints.includes(options.checkpoint))
        throw new ProviderError(
          "internal",
          `COMFYUI_CHECKPOINT is ${options.checkpoint}, which ComfyUI at ${machine.instance.url} does not have; it has: ${checkpoints.join(", ") || "none"}.`,
          { code: "checkpoint" },
        );
      if (wantsCheckpoint && checkpoints.length === 0)
        throw new ProviderError(
          "internal",
          `ComfyUI at ${machine.instance.url} lists no checkpoint: put a model in models/checkpoints.`,
          { code: "no_checkpoint" },
        );
    }
    if (reachable === 0)
      throw new ProviderError("internal", `ComfyUI: ${problems.join("; ")}.`, { code: "unreachable" });
    for (const problem of problems) logger.warn(`ComfyUI: ${problem}`);
  }

  return defineProvider({
    name: "comfyui",
    capabilities: capabilities(maxTaskDurationMs),
    check(request) {
      const result = planOf(request.prompt, megapixels, options.checkpoint);
      return "error" in result ? { warnings: [], error: result.error } : { warnings: result.plan.warnings };
    },
    imagine: async (request, signal) => {
      const plan = planned(request.prompt);
      return run(plan.placement, plan.warnings, signal);
    },
    followUp,
    fetchTask: (taskId, signal) => tasks.fetch(taskId, signal),
    cancel: (taskId, signal) => tasks.cancel(taskId, signal),
    verify,
    close: async () => {
      tasks.closeAll();
      for (const machine of machines) machine.live.close();
      await Promise.all(machines.flatMap((machine) => [machine.http.close(), machine.dispatcher.close()]));
    },
  });
}
