// OpenAI's GPT Image models on the Images API. A set of four is one streamed request
// (`POST /images/generations`, `n: 4`, `stream: true`, `partial_images`); the adapter keeps the task
// while the images stream in (openai-tasks.ts), shows the newest partial image as the preview, and
// keeps the finished images as blobs (OpenAI answers in base64, not links). V, Zoom Out, Pan, Make
// Square and /blend are edits (`POST /images/edits`, multipart); image prompts and --sref/--cref/--oref
// links are a JSON edit naming them (OpenAI fetches them); U picks an image (it is full size);
// 🔄 sends the prompt again (no seed in this API). The prompt's side is in openai-plan.ts, the JSON in
// openai-wire.ts, the stream in openai-stream.ts and the tasks in openai-tasks.ts, the requests in
// openai-send.ts, the follow-ups in openai-followups.ts, the canvas for outpainting in openai-canvas.ts.
import { z } from "zod";
import { silentLogger } from "../log.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import { defineProvider } from "./define.ts";
import { createHttpClient, type HttpClient, type HttpErrorResponse, type ProviderLogger } from "./http.ts";
import { blend, followUp } from "./openai-followups.ts";
import { openaiMaxPromptLength, planGeneration } from "./openai-plan.ts";
import { generate, type OpenAi, setSize } from "./openai-send.ts";
import { createStreamTransport, type StreamTransportOptions } from "./openai-stream.ts";
import { TaskBook } from "./openai-tasks.ts";
import { mapOpenAiHttpError } from "./openai-wire.ts";
import { type DeclaredCapabilities, ProviderError } from "./types.ts";

/** The newest GPT Image model in OpenAI's reference (2026-08): the default of OPENAI_IMAGE_MODEL. */
export const defaultOpenAiModel = "gpt-image-2";

export interface OpenAiProviderOptions {
  apiKey: string;
  /** e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Default `gpt-image-2`. */
  model?: string;
  /** Where the images (given as base64) are kept; their `atelier-blob:` links are the results. */
  blobs: ResultBlobs;
  logger?: ProviderLogger;
  /** Partial images per image, 0–3 (each costs 100 output tokens). Default 2. */
  partialImages?: number;
  /** A set not finished by then ends as a timeout. Default 10 minutes. */
  maxTaskDurationMs?: number;
  /** Transport tuning (tests inject short timeouts, a fake clock, a dispatcher). */
  http?: Pick<StreamTransportOptions, "timeouts" | "retry" | "clock" | "dispatcher">;
}

const defaultMaxTaskDurationMs = 10 * 60_000;
/** A finished task stays readable this long (the job layer reads it within a poll or two). */
const retainMs = 30 * 60_000;
function capabilities(maxTaskDurationMs: number): DeclaredCapabilities {
  return {
    upscale: "separate",
    upscaleStyles: [],
    variation: ["subtle", "strong"],
    reroll: true,
    hd: true,
    outpaint: true,
    remix: true,
    progressPreview: true,
    speeds: [],
    draft: false,
    maxPromptLength: openaiMaxPromptLength,
    passThroughParams: [],
    maxTaskDurationMs,
    imagesPerSet: setSize,
  };
}

const modelSchema = z.object({ id: z.string() });

/**
 * At start: `GET /models/{model}` proves the key, the base URL and the model in one cheap read (the
 * Images API itself has nothing to read).
 */
async function verify(http: HttpClient, model: string, signal?: AbortSignal): Promise<void> {
  try {
    await http.read(`/models/${encodeURIComponent(model)}`, modelSchema, signal);
  } catch (error) {
    if (!(error instanceof ProviderError) || error.kind === "auth" || error.code === "model_not_found")
      throw error;
    throw new ProviderError(
      "internal",
      `OpenAI did not answer like its API at OPENAI_BASE_URL: ${error.message} Check the URL (it ends in /v1).`,
      { code: error.code, cause: error },
    );
  }
}

export function createOpenAiProvider(options: OpenAiProviderOptions) {
  const secrets = [options.apiKey];
  const logger = options.logger ?? silentLogger;
  const model = options.model ?? defaultOpenAiModel;
  const maxTaskDurationMs = options.maxTaskDurationMs ?? defaultMaxTaskDurationMs;
  const connection = {
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    secrets,
    logger,
    mapHttpError: (response: HttpErrorResponse) => mapOpenAiHttpError(response, model, secrets),
  };
  const transport = createStreamTransport({ ...options.http, ...connection, label: "OpenAI" });
  // JSON reads (the start-up check) go through the shared client, with its own (short) timeouts.
  const { timeouts: _streamTimeouts, ...jsonTuning } = options.http ?? {};
  const http = createHttpClient({ ...jsonTuning, ...connection, providerLabel: "OpenAI" });
  const tasks = new TaskBook({
    blobs: options.blobs,
    logger,
    secrets,
    model,
    maxDurationMs: maxTaskDurationMs,
    retainMs,
  });
  const partials = Math.max(0, Math.min(3, Math.round(options.partialImages ?? 2)));
  const openai: OpenAi = { transport, tasks, model, blobs: options.blobs, partials };
  return defineProvider({
    name: "openai",
    capabilities: capabilities(maxTaskDurationMs),
    check(request) {
      const planned = planGeneration(request.prompt, request, model);
      if ("error" in planned) return { warnings: [], error: planned.error };
      return { warnings: planned.plan.warnings };
    },
    imagine: (request, signal) => generate(openai, request.prompt, request.quality, [], signal),
    followUp: (request, signal) => followUp(openai, request, signal),
    blend: (request, signal) => blend(openai, request, signal),
    fetchTask: async (taskId) => tasks.get(taskId),
    cancel: async (taskId) => tasks.cancel(taskId),
    verify: (signal) => verify(http, model, signal),
    close: async () => {
      tasks.closeAll();
      await Promise.all([transport.close(), http.close()]);
    },
  });
}
