// Black Forest Labs' FLUX API: POST /v1/<model> (header x-key) starts one image, GET its polling_url
// reports it. A set is four tasks with seeds s, s+1, s+2, s+3 (the prompt's --seed, else a random s),
// tracked under one task id naming all four (bfl-wire.ts), so a restarted bot polls them again.
// U picks an image (no call); V, image prompts and /blend use the Kontext editing model; Run as HD
// and --hd use FLUX1.1 [pro] Ultra; Zoom Out, Pan and Make Square use the expand model. Finished
// images are copied into the blobs at once (bfl-results.ts): BFL's links expire after ~10 minutes.
// The prompt's side is in bfl-plan.ts, the JSON in bfl-wire.ts, the set mechanics in bfl-sets.ts,
// following a set (polls and webhooks) in bfl-status.ts.
import { silentLogger } from "../log.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import {
  type BflModels,
  bflMaxPromptLength,
  defaultBflModels,
  expandPixels,
  invalid,
  type Outpaint,
  planBlend,
  planImagine,
  planOutpaint,
  planVariation,
  type SetPlan,
} from "./bfl-plan.ts";
import { createResultImages, imageSize } from "./bfl-results.ts";
import { imagesPerSet, Pollers, partialSetError, SetBook, type Started, setIdOf, setOf } from "./bfl-sets.ts";
import { fetchSet, parseSetWebhook, type SetTracking } from "./bfl-status.ts";
import { bflCreateSchema, bflResultSchema, mapBflHttpError } from "./bfl-wire.ts";
import { defineProvider } from "./define.ts";
import { createHttpClient, type HttpClient, type HttpClientOptions, type ProviderLogger } from "./http.ts";
import { imageOf, separateImage, withoutSeed } from "./shared.ts";
import {
  type BlendRequest,
  type DeclaredCapabilities,
  type FollowUpRequest,
  type ImageInput,
  type ImageProvider,
  type ImagineRequest,
  type ParentTask,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
} from "./types.ts";
import { probeTaskId, verifyByProbe } from "./verify.ts";

export { decodeSetId } from "./bfl-wire.ts";

export interface BflProviderOptions {
  apiKey: string;
  baseUrl: string;
  /** BFL_MODEL: the model of new sets. Default "flux-pro-1.1". */
  model?: string;
  /** The editing, HD and expand models (defaults: flux-kontext-pro, flux-pro-1.1-ultra, flux-pro-1.0-expand). */
  models?: Partial<Omit<BflModels, "model">>;
  /** Default webhook URL (public HTTPS) when a request carries none. */
  webhookUrl?: string;
  /** Where finished images are copied (the bot's store). Without it, results stay BFL's ~10-minute links. */
  blobs?: ResultBlobs;
  /** Largest result image accepted. Default 30 MB. */
  maxImageBytes?: number;
  logger?: ProviderLogger;
  /** Transport tuning (tests inject short timeouts, a fake clock, a dispatcher). */
  http?: Pick<HttpClientOptions, "timeouts" | "retry" | "clock" | "dispatcher" | "maxResponseBytes">;
  /** Picks a set's seed when the prompt has none. Default Math.random. */
  random?: () => number;
}

export interface BflProvider extends ImageProvider {
  close(): Promise<void>;
}

const declaredCapabilities: DeclaredCapabilities = {
  upscale: "separate",
  upscaleStyles: [],
  variation: ["subtle", "strong"],
  reroll: true,
  hd: true,
  outpaint: true,
  remix: true,
  progressPreview: false,
  speeds: ["fast"],
  draft: false,
  maxPromptLength: bflMaxPromptLength,
  passThroughParams: [],
  // BFL's tasks take seconds; a set of four waiting behind the account's other tasks, a few minutes.
  maxTaskDurationMs: 10 * 60_000,
  imagesPerSet,
};

/** One configured BFL account, as every call below needs it. */
interface Bfl extends SetTracking {
  http: HttpClient;
  baseUrl: string;
  models: BflModels;
  webhookUrl?: string;
  random: () => number;
}

/** input_image, input_image_2 … for Kontext: links as they are, bytes as base64. */
function imageFields(inputs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    inputs.map((input, index) => [index === 0 ? "input_image" : `input_image_${index + 1}`, input]),
  );
}

/** Four creates of `plan`, seeds s…s+3; the first failure ends the set (nothing is re-sent blindly). */
async function submitSet(
  bfl: Bfl,
  plan: SetPlan,
  extra: Record<string, unknown>,
  callbackUrl: string | undefined,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const seed = plan.seed ?? Math.floor(bfl.random() * (2 ** 31 - imagesPerSet));
  const webhook = callbackUrl ?? bfl.webhookUrl;
  const fields = {
    ...plan.fields,
    ...extra,
    output_format: "jpeg",
    ...(webhook ? { webhook_url: webhook } : {}),
  };
  const started: Started[] = [];
  for (let index = 0; index < imagesPerSet; index += 1) {
    try {
      const task = await bfl.http.create(
        `/v1/${plan.model}`,
        { ...fields, seed: seed + index },
        bflCreateSchema,
        signal,
      );
      started.push({ id: task.id, pollingUrl: task.polling_url ?? undefined, cost: task.cost ?? undefined });
    } catch (error) {
      throw partialSetError(error, started.length);
    }
  }
  const taskId = setIdOf(seed, started, bfl.baseUrl);
  bfl.book.register(taskId, setOf(taskId));
  const costs = started.map((task) => task.cost).filter((cost): cost is number => cost !== undefined);
  const result: SubmitResult = { kind: "task", taskId, warnings: plan.warnings };
  if (costs.length > 0) result.usage = { credits: costs.reduce((sum, cost) => sum + cost, 0) };
  return result;
}

/** What Kontext is given for a result image: its bytes once copied (blob link), else BFL's own link. */
async function inputOf(bfl: Bfl, url: string, signal?: AbortSignal): Promise<string> {
  if (/^https?:\/\//i.test(url)) return url;
  return (await bfl.results.bytesOf(url, signal)).bytes.toString("base64");
}

const base64 = (image: ImageInput) => image.bytes.toString("base64");

/**
 * Run as HD: the parent's prompt again on the HD model (its --seed kept when it had one; a picked
 * image keeps no seed of its own). Another model, so new pictures rather than larger copies.
 */
async function runAsHd(bfl: Bfl, parent: ParentTask, signal?: AbortSignal): Promise<SubmitResult> {
  const plan = planImagine(parent.prompt, { quality: "hd" }, bfl.models);
  const warning: ProviderWarning = {
    type: "changed",
    feature: "Run as HD",
    details: `a new set on ${plan.model} (about 4 megapixels) from the same prompt: another model, so new pictures rather than larger copies`,
  };
  return submitSet(bfl, { ...plan, warnings: [...plan.warnings, warning] }, {}, undefined, signal);
}

/** Zoom Out, Pan, Make Square: the expand model around the single image, four times. */
async function outpaint(
  bfl: Bfl,
  parent: ParentTask,
  shape: Outpaint,
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const image = await bfl.results.bytesOf(imageOf(parent, 1), signal);
  const size = imageSize(image.bytes);
  if (!size) throw invalid("Atelier could not read the size of this image to extend it.", "image_size");
  const pixels = expandPixels(shape, size);
  return submitSet(
    bfl,
    planOutpaint(parent.prompt, bfl.models),
    { image: base64(image), ...pixels },
    undefined,
    signal,
  );
}

async function followUp(bfl: Bfl, request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult> {
  const { parent } = request;
  switch (request.kind) {
    case "upscale":
      return separateImage(
        parent,
        request.index,
        request.style,
        () => "BFL has no upscaler here, so this is the image as made",
      );
    case "variation": {
      const input = await inputOf(bfl, imageOf(parent, request.index), signal);
      const plan = planVariation(parent.prompt, request.prompt, request.strength, bfl.models);
      return submitSet(bfl, plan, imageFields([input]), undefined, signal);
    }
    case "reroll": {
      // New seeds: an explicit one would make the very same images again.
      const plan = planImagine(
        withoutSeed(request.prompt ?? parent.prompt),
        { quality: parent.quality },
        bfl.models,
      );
      return submitSet(bfl, plan, imageFields(plan.images ?? []), undefined, signal);
    }
    case "hd":
      return runAsHd(bfl, parent, signal);
    case "zoom":
    case "pan":
    case "square":
      return outpaint(bfl, parent, request, signal);
    default:
      throw invalid("BFL has no provider buttons to press.", "unsupported_action");
  }
}

async function blend(bfl: Bfl, request: BlendRequest, signal?: AbortSignal): Promise<SubmitResult> {
  const plan = planBlend(request.images.length, request.dimensions, bfl.models);
  return submitSet(bfl, plan, imageFields(request.images.map(base64)), request.callbackUrl, signal);
}

/** The account's settings and state; its HTTP clients share the key (polling URLs may name another host). */
function createBfl(options: BflProviderOptions): Bfl {
  const secrets = [options.apiKey];
  const logger = options.logger ?? silentLogger;
  const client = (baseUrl: string) =>
    createHttpClient({
      ...options.http,
      baseUrl,
      providerLabel: "BFL",
      headers: { "x-key": options.apiKey },
      secrets,
      logger,
      mapHttpError: (response) => mapBflHttpError(response, secrets),
    });
  const http = client(options.baseUrl);
  return {
    http,
    pollers: new Pollers(http, options.baseUrl, client, logger),
    book: new SetBook(),
    results: createResultImages({
      blobs: options.blobs,
      maxBytes: options.maxImageBytes ?? 30 * 1024 * 1024,
      logger,
    }),
    baseUrl: options.baseUrl,
    models: { ...defaultBflModels, ...options.models, model: options.model ?? defaultBflModels.model },
    webhookUrl: options.webhookUrl,
    copies: options.blobs !== undefined,
    secrets,
    logger,
    random: options.random ?? Math.random,
  };
}

async function imagine(bfl: Bfl, request: ImagineRequest, signal?: AbortSignal): Promise<SubmitResult> {
  const plan = planImagine(request.prompt, request, bfl.models);
  return submitSet(bfl, plan, imageFields(plan.images ?? []), request.callbackUrl, signal);
}

export function createBflProvider(options: BflProviderOptions): BflProvider {
  const bfl = createBfl(options);
  return defineProvider({
    name: "bfl",
    capabilities: declaredCapabilities,
    check(request) {
      try {
        return { warnings: planImagine(request.prompt, request, bfl.models).warnings };
      } catch (error) {
        if (error instanceof ProviderError) return { warnings: [], error };
        throw error;
      }
    },
    imagine: (request, signal) => imagine(bfl, request, signal),
    followUp: (request, signal) => followUp(bfl, request, signal),
    blend: (request, signal) => blend(bfl, request, signal),
    fetchTask: (taskId, signal) => fetchSet(bfl, taskId, signal),
    parseCallback: (body) => parseSetWebhook(bfl, body),
    // get_result of a task that does not exist: "Task not found" proves the key and the URL.
    verify: (signal) =>
      verifyByProbe({ label: "BFL", keySetting: "BFL_API_KEY", urlSetting: "BFL_BASE_URL" }, () =>
        bfl.http.read(`/v1/get_result?id=${probeTaskId}`, bflResultSchema, signal),
      ),
    close: async () => {
      await Promise.all([bfl.http.close(), bfl.pollers.close(), bfl.results.close()]);
    },
  });
}
