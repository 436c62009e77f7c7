// An in-process EvoLink "mj-v8.1" server for contract tests and local runs, following the documented
// protocol: Bearer auth, request validation, billing (402), tasks that progress over time, result
// images served by the emulator itself, callbacks, and runtime fault knobs (429/5xx bursts, slow,
// truncated and malformed responses, tasks that never finish, refused prompts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  closeServer,
  type EmulatorHandle,
  type Fault,
  type FaultOptions,
  FaultQueue,
  listen,
  parseBody,
  type RecordedRequest,
  type Reply,
  readBody,
} from "./http.ts";
import { contentTypeForFormat, type ImageFormat, makeResultImage, sizeForAspect } from "./images.ts";
import { hashText, type PictureSpec, seedOf } from "./pictures.ts";

export interface EvolinkEmulatorOptions {
  /** The only accepted Bearer key. Default "evolink-test-key". */
  apiKey?: string;
  /** Account balance in credits; unlimited when absent. */
  balance?: number;
  /** Base price of one standard fast call. Default 1.8 (the documented example). */
  creditsPerCall?: number;
  /** Price multipliers per speed; unverified in the docs, so configurable. */
  speedMultipliers?: Partial<Record<EvolinkSpeed, number>>;
  /** How long a task takes from creation to completion. Default 300 ms. */
  taskDurationMs?: number;
  /** The emulator's clock (ms). Default Date.now; call `sweep()` after moving a fake clock. */
  now?: () => number;
  /** Longer side of a result image (16:9 → 256×144 by default; the real service gives 1456×816). */
  tileLongSide?: number;
  /** Longer side of draft sketches (24 per set). Default 64. */
  draftLongSide?: number;
  imageFormat?: ImageFormat;
  /**
   * `numbered` (default): one solid colour per image index with its number, which tests decode.
   * `procedural`: pictures that follow the prompt, the seed and variations (the playground's).
   */
  pictures?: "numbered" | "procedural";
  /** Accept http:// and private-address callback URLs (127.0.0.1 in tests). Off like the real service. */
  allowInsecureCallbacks?: boolean;
  /** Waits before callback retries; the service documents 1 s / 2 s / 4 s. */
  callbackRetryDelaysMs?: number[];
  refusePrompts?: RegExp;
  /** The generation model. Default "mj-v8.1". */
  model?: string;
  /** Follow-up models working on a finished task. Default ["mj-v7-variation"]. */
  variationModels?: string[];
}

export type EvolinkSpeed = "draft" | "fast" | "turbo";
export type EvolinkQuality = "standard" | "hd";

export interface RecordedCallback {
  taskId: string;
  url: string;
  attempt: number;
  /** HTTP status of the receiver, or an error description. */
  outcome: number | string;
}

export interface TaskFailureSpec {
  code: string;
  message?: string;
}

export interface EmulatedTask {
  id: string;
  model: string;
  prompt: string;
  quality: EvolinkQuality;
  speed: EvolinkSpeed;
  createdAt: number;
  durationMs: number;
  credits: number;
  aspectRatio?: string;
  imageCount: number;
  imageFormat: ImageFormat;
  callbackUrl?: string;
  callbackDone: boolean;
  /** A failure decided at creation (refused prompt, injected task failure). */
  failure?: { code: string; message: string; atFraction: number };
  /** For follow-up models: the task and image they continue. */
  parent?: { taskId: string; imageNumber: number; type: string };
  /**
   * When the client first learned that the task ended (a query showing it completed or failed, or a
   * delivered callback). From `createdAt` until then the client holds a running slot for it, so
   * these spans measure the client's concurrency, not just the service's.
   */
  endSeenAt?: number;
}

export interface EmulatorKnobs {
  balance: number | undefined;
  taskDurationMs: number;
  imageFormat: ImageFormat;
  /** Running tasks stop at 93% and never complete. */
  neverFinish: boolean;
  refusePrompts: RegExp | undefined;
  /** Tasks created while set fail with this code at the end of their run. */
  taskFailure: TaskFailureSpec | undefined;
  /**
   * Result images of tasks whose prompt matches are never answered: the connection is accepted and
   * left hanging (a stalled image host). Not EvoLink's own fault, but one every CDN can have.
   */
  stallImages: RegExp | undefined;
}

/**
 * `requests` also holds the result-image downloads (`apiRequests` leaves them out). A truncated
 * answer sends half of its JSON body under the full content-length, then destroys the socket.
 */
export interface EvolinkEmulator extends EmulatorHandle<EmulatorKnobs> {
  apiKey: string;
  tasks: Map<string, EmulatedTask>;
  callbacks: RecordedCallback[];
  /** The next API request is processed but its headers are held back for `ms`. */
  slowNext(ms: number, options?: FaultOptions): void;
  /** The task as GET /v1/tasks/{id} shows it now. */
  taskBody(taskId: string): Record<string, unknown> | undefined;
  /** Re-checks task clocks: sends due callbacks. Called on every request and by timers. */
  sweep(): void;
}

/** EvoLink's own fault: the answer's headers are held back. */
type SlowFault = { kind: "slow"; ms: number } & FaultOptions;

const maxPromptLength = 8192;
const maxCallbackUrlLength = 2048;
const speeds: readonly EvolinkSpeed[] = ["draft", "fast", "turbo"];
const defaultSpeedMultipliers: Record<EvolinkSpeed, number> = { draft: 0.5, fast: 1, turbo: 2 };
const pendingFraction = 0.1;
const stuckProgress = 93;

/** EvoLink's HTTP error format. */
export function evolinkErrorBody(code: string, message: string, type: string, param?: string) {
  return { error: { code, message, type, ...(param ? { param } : {}) } };
}

const invalid = (message: string, param?: string): Reply => ({
  status: 400,
  body: evolinkErrorBody("invalid_parameters", message, "invalid_request_error", param),
});

// --- prompt inspection, as the service does it (independent of src/prompt on purpose) -----------

const urlToken = /^<?https?:\/\/\S+>?$/i;

function splitImagePrompt(prompt: string): { imageCount: number; text: string } {
  const tokens = prompt.trim().split(/\s+/).filter(Boolean);
  let imageCount = 0;
  while (imageCount < tokens.length && urlToken.test(tokens[imageCount] ?? "")) imageCount += 1;
  const rest = tokens.slice(imageCount);
  const firstParam = rest.findIndex((token) => /^--[a-z]/i.test(token));
  const textTokens = firstParam === -1 ? rest : rest.slice(0, firstParam);
  return { imageCount, text: textTokens.join(" ") };
}

function aspectOf(prompt: string): string | undefined {
  return /(?:^|\s)--(?:ar|aspect)\s+(\d+(?:\.\d+)?:\d+(?:\.\d+)?)/i.exec(prompt)?.[1];
}

function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1" || host.endsWith(".localhost")) return true;
  const octets = host.split(".").map(Number);
  if (octets.length !== 4 || octets.some((n) => !Number.isInteger(n))) return false;
  const [a, b] = octets as [number, number, number, number];
  return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function callbackUrlProblem(value: unknown, allowInsecure: boolean): string | undefined {
  if (typeof value !== "string" || !URL.canParse(value)) return "callback_url must be a valid URL";
  if (value.length > maxCallbackUrlLength)
    return `callback_url must not exceed ${maxCallbackUrlLength} characters`;
  if (allowInsecure) return undefined;
  const url = new URL(value);
  if (url.protocol !== "https:") return "callback_url must use HTTPS";
  if (isPrivateHost(url.hostname)) return "callback_url must not point to a private IP address";
  return undefined;
}

// --- the server ---------------------------------------------------------------------------------

export async function startEvolinkEmulator(options: EvolinkEmulatorOptions = {}): Promise<EvolinkEmulator> {
  const apiKey = options.apiKey ?? "evolink-test-key";
  const now = options.now ?? Date.now;
  const generationModel = options.model ?? "mj-v8.1";
  const variationModels = new Set(options.variationModels ?? ["mj-v7-variation"]);
  const creditsPerCall = options.creditsPerCall ?? 1.8;
  const speedMultipliers = { ...defaultSpeedMultipliers, ...options.speedMultipliers };
  const tileLongSide = options.tileLongSide ?? 256;
  const draftLongSide = options.draftLongSide ?? 64;
  const allowInsecureCallbacks = options.allowInsecureCallbacks ?? false;
  const callbackRetryDelaysMs = options.callbackRetryDelaysMs ?? [1000, 2000, 4000];

  const knobs: EmulatorKnobs = {
    balance: options.balance,
    taskDurationMs: options.taskDurationMs ?? 300,
    imageFormat: options.imageFormat ?? "png",
    neverFinish: false,
    refusePrompts: options.refusePrompts,
    taskFailure: undefined,
    stallImages: undefined,
  };
  const requests: RecordedRequest[] = [];
  const tasks = new Map<string, EmulatedTask>();
  const callbacks: RecordedCallback[] = [];
  const faults = new FaultQueue<SlowFault>();
  const imageCache = new Map<string, Promise<Buffer>>();
  const timers = new Set<NodeJS.Timeout>();
  let taskCounter = 0;
  let baseUrl = "";
  let stopped = false;

  function schedule(ms: number, run: () => void): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  // --- task state, derived from the clock ---

  function fileUrl(task: EmulatedTask, index: number): string {
    const extension = task.imageFormat === "jpeg" ? "jpg" : task.imageFormat;
    return `${baseUrl}/files/${task.id}/${index}.${extension}`;
  }

  function taskState(task: EmulatedTask): { status: string; progress: number } {
    const fraction = (now() - task.createdAt) / Math.max(1, task.durationMs);
    if (task.failure && fraction >= task.failure.atFraction) return { status: "failed", progress: 0 };
    if (fraction < pendingFraction) return { status: "pending", progress: 0 };
    if (knobs.neverFinish) return { status: "processing", progress: stuckProgress };
    if (fraction < 1) {
      return { status: "processing", progress: Math.min(99, Math.max(1, Math.floor(fraction * 100))) };
    }
    return { status: "completed", progress: 100 };
  }

  function taskBody(task: EmulatedTask): Record<string, unknown> {
    const { status, progress } = taskState(task);
    const running = status === "pending" || status === "processing";
    const body: Record<string, unknown> = {
      created: Math.floor(task.createdAt / 1000),
      id: task.id,
      model: task.model,
      object: "image.generation.task",
      progress,
      status,
      task_info: {
        can_cancel: running,
        ...(running ? { estimated_time: Math.ceil(task.durationMs / 1000) } : {}),
      },
      type: "image",
      usage: { billing_rule: "per_call", credits_reserved: task.credits, user_group: "default" },
    };
    if (status === "completed") {
      body.results = Array.from({ length: task.imageCount }, (_, index) => fileUrl(task, index));
    }
    if (status === "failed" && task.failure) {
      body.error = { code: task.failure.code, message: task.failure.message };
    }
    return body;
  }

  function isTerminal(task: EmulatedTask): boolean {
    const { status } = taskState(task);
    return status === "completed" || status === "failed";
  }

  // --- callbacks ---

  async function deliverCallback(task: EmulatedTask, url: string, attempt: number): Promise<void> {
    let outcome: number | string;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(taskBody(task)),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      outcome = response.status;
    } catch (error) {
      outcome = error instanceof Error ? error.message : String(error);
    }
    callbacks.push({ taskId: task.id, url, attempt, outcome });
    const delivered = typeof outcome === "number" && outcome >= 200 && outcome < 300;
    if (delivered) task.endSeenAt ??= now();
    const retryDelay = callbackRetryDelaysMs[attempt - 1];
    if (!delivered && retryDelay !== undefined) {
      schedule(retryDelay, () => void deliverCallback(task, url, attempt + 1));
    }
  }

  function sweep(): void {
    for (const task of tasks.values()) {
      if (task.callbackUrl && !task.callbackDone && isTerminal(task)) {
        task.callbackDone = true;
        void deliverCallback(task, task.callbackUrl, 1);
      }
    }
  }

  // --- creating tasks ---

  function failureFor(prompt: string): EmulatedTask["failure"] {
    const refused = knobs.refusePrompts?.exec(prompt);
    if (refused) {
      return {
        code: "content_policy_violation",
        message: `The prompt was blocked by the content policy: it contains the banned word "${refused[0]}".`,
        atFraction: pendingFraction,
      };
    }
    if (knobs.taskFailure) {
      const { code, message } = knobs.taskFailure;
      return { code, message: message ?? `Task failed: ${code}`, atFraction: 1 };
    }
    return undefined;
  }

  function addTask(
    fields: Omit<EmulatedTask, "id" | "createdAt" | "durationMs" | "callbackDone">,
  ): EmulatedTask {
    taskCounter += 1;
    const createdAt = now();
    const task: EmulatedTask = {
      ...fields,
      id: `task-unified-${Math.floor(createdAt / 1000)}-emu${taskCounter}`,
      createdAt,
      durationMs: knobs.taskDurationMs,
      callbackDone: false,
    };
    tasks.set(task.id, task);
    // Real timers drive callbacks; a fake clock needs an explicit sweep().
    if (task.callbackUrl) schedule(task.durationMs + 5, sweep);
    return task;
  }

  function charge(quality: EvolinkQuality, speed: EvolinkSpeed): { credits: number } | Reply {
    const credits =
      Math.round(creditsPerCall * (quality === "hd" ? 1.5 : 1) * speedMultipliers[speed] * 1000) / 1000;
    if (knobs.balance !== undefined) {
      if (knobs.balance < credits) {
        return {
          status: 402,
          body: evolinkErrorBody(
            "insufficient_quota",
            `Insufficient account balance: ${credits} credits needed, ${knobs.balance} available`,
            "insufficient_quota",
          ),
        };
      }
      knobs.balance = Math.round((knobs.balance - credits) * 1000) / 1000;
    }
    return { credits };
  }

  function optionalCallback(body: Record<string, unknown>): { url?: string } | Reply {
    if (body.callback_url === undefined) return {};
    const problem = callbackUrlProblem(body.callback_url, allowInsecureCallbacks);
    return problem ? invalid(problem, "callback_url") : { url: body.callback_url as string };
  }

  function createGeneration(body: Record<string, unknown>): Reply {
    const prompt = body.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") return invalid("prompt is required", "prompt");
    if (prompt.length > maxPromptLength) {
      return invalid(`prompt must not exceed ${maxPromptLength} characters`, "prompt");
    }
    const quality = body.quality ?? "standard";
    if (quality !== "standard" && quality !== "hd")
      return invalid("quality must be standard or hd", "quality");
    const modelParams = (body.model_params ?? {}) as Record<string, unknown>;
    if (typeof modelParams !== "object" || modelParams === null)
      return invalid("model_params must be an object");
    const speed = modelParams.speed ?? "fast";
    if (!speeds.includes(speed as EvolinkSpeed)) {
      return invalid("model_params.speed must be one of draft, fast, turbo", "model_params.speed");
    }
    if (quality === "hd" && speed === "draft") {
      return invalid("quality hd cannot be combined with speed draft", "quality");
    }
    if (/(?:^|\s)--niji\b/i.test(prompt)) {
      return invalid("--niji is not supported on this model: it runs Midjourney V8.1", "prompt");
    }
    const { imageCount, text } = splitImagePrompt(prompt);
    if (imageCount === 1 && text === "") {
      return invalid("Image-to-image with a single image needs a text description", "prompt");
    }
    const callback = optionalCallback(body);
    if ("status" in callback) return callback;
    const charged = charge(quality, speed as EvolinkSpeed);
    if ("status" in charged) return charged;
    const task = addTask({
      model: generationModel,
      prompt,
      quality,
      speed: speed as EvolinkSpeed,
      credits: charged.credits,
      aspectRatio: aspectOf(prompt),
      imageCount: speed === "draft" ? 24 : 4,
      imageFormat: knobs.imageFormat,
      callbackUrl: callback.url,
      failure: failureFor(prompt),
    });
    return { status: 200, body: taskBody(task) };
  }

  function createVariation(model: string, body: Record<string, unknown>): Reply {
    const params = body.model_params as Record<string, unknown> | undefined;
    if (typeof params !== "object" || params === null)
      return invalid("model_params is required", "model_params");
    const parent = typeof params.task_id === "string" ? tasks.get(params.task_id) : undefined;
    if (!parent)
      return invalid("model_params.task_id does not name a task of this account", "model_params.task_id");
    if (taskState(parent).status !== "completed") {
      return invalid("model_params.task_id must name a completed task", "model_params.task_id");
    }
    const imageNumber = params.image_number;
    // The docs' examples use 0 (enhance) and 2 (variation): the emulator accepts 0-based numbers.
    if (typeof imageNumber !== "number" || !Number.isInteger(imageNumber) || imageNumber < 0) {
      return invalid("model_params.image_number must be a whole number from 0", "model_params.image_number");
    }
    if (imageNumber >= parent.imageCount) {
      return invalid(
        `model_params.image_number must be below ${parent.imageCount}`,
        "model_params.image_number",
      );
    }
    const type = params.type ?? "subtle";
    if (type !== "subtle" && type !== "strong") return invalid("model_params.type must be subtle or strong");
    const prompt = typeof body.prompt === "string" ? body.prompt : "";
    if (/(?:^|\s)--niji\b/i.test(prompt)) return invalid("--niji is not supported on this model", "prompt");
    const callback = optionalCallback(body);
    if ("status" in callback) return callback;
    const charged = charge("standard", "fast");
    if ("status" in charged) return charged;
    const task = addTask({
      model,
      prompt: prompt || parent.prompt,
      quality: "standard",
      speed: "fast",
      credits: charged.credits,
      aspectRatio: parent.aspectRatio,
      imageCount: 4,
      imageFormat: knobs.imageFormat,
      callbackUrl: callback.url,
      failure: failureFor(prompt || parent.prompt),
      parent: { taskId: parent.id, imageNumber, type },
    });
    return { status: 200, body: taskBody(task) };
  }

  function handleCreate(body: unknown): Reply {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return {
        status: 400,
        body: evolinkErrorBody("invalid_request", "Body must be a JSON object", "invalid_request_error"),
      };
    }
    const fields = body as Record<string, unknown>;
    if (typeof fields.model !== "string") return invalid("model is required", "model");
    if (fields.model === generationModel) return createGeneration(fields);
    if (variationModels.has(fields.model)) return createVariation(fields.model, fields);
    return invalid(`model ${fields.model} is not supported`, "model");
  }

  function handleQuery(taskId: string): Reply {
    if (!taskId.startsWith("task-unified-")) {
      return {
        status: 400,
        body: evolinkErrorBody(
          "invalid_task_id",
          "Invalid task ID format, must start with 'task-unified-'",
          "invalid_request_error",
          "task_id",
        ),
      };
    }
    const task = tasks.get(taskId);
    if (!task) {
      return {
        status: 404,
        body: evolinkErrorBody("task_not_found", `Task ${taskId} not found`, "not_found_error"),
      };
    }
    // The answer itself decides whether the end was seen: checking the clock twice (once for this,
    // once for the answer) let a query in the task's last millisecond answer "completed" and leave
    // the task running forever in the client's concurrency.
    const body = taskBody(task);
    if (body.status === "completed" || body.status === "failed") task.endSeenAt ??= now();
    return { status: 200, body };
  }

  function routeApi(method: string, path: string, body: unknown): Reply {
    if (method === "POST" && path === "/v1/images/generations") return handleCreate(body);
    const query = /^\/v1\/tasks\/([^/]+)$/.exec(path);
    if (method === "GET" && query) return handleQuery(decodeURIComponent(query[1] ?? ""));
    return {
      status: 404,
      body: evolinkErrorBody("not_found", `No route for ${method} ${path}`, "not_found_error"),
    };
  }

  // --- HTTP plumbing ---

  function sendJson(response: ServerResponse, record: RecordedRequest, reply: Reply): void {
    if (response.destroyed) return;
    record.status = reply.status;
    response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    response.end(JSON.stringify(reply.body));
  }

  async function applyFaultAndSend(
    response: ServerResponse,
    record: RecordedRequest,
    fault: Fault | SlowFault | undefined,
    reply: Reply,
  ): Promise<void> {
    if (fault?.kind === "fail") {
      const headers = fault.retryAfter === undefined ? undefined : { "retry-after": fault.retryAfter };
      const body =
        fault.body ??
        evolinkErrorBody(`http_${fault.status}`, `Injected HTTP ${fault.status}`, "server_error");
      sendJson(response, record, { status: fault.status, body, headers });
      return;
    }
    if (fault?.kind === "slow") {
      await new Promise<void>((resolve) => schedule(fault.ms, resolve));
      sendJson(response, record, reply);
      return;
    }
    if (fault?.kind === "truncate") {
      const text = JSON.stringify(reply.body);
      record.status = reply.status;
      response.writeHead(reply.status, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(text)),
      });
      response.write(text.slice(0, Math.floor(text.length / 2)));
      // Let the half body leave before the socket dies, as a real cut connection does.
      await new Promise<void>((resolve) => schedule(20, resolve));
      response.destroy();
      return;
    }
    if (fault?.kind === "malformed") {
      record.status = 200;
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"id": "task-unified-1757165031-mjv81", "status": pend');
      return;
    }
    sendJson(response, record, reply);
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? "GET";
    const body = parseBody(await readBody(request));
    const authHeader = request.headers.authorization;
    const authorized = authHeader === `Bearer ${apiKey}`;
    const record: RecordedRequest = {
      method,
      path,
      body,
      hasAuthHeader: authHeader !== undefined,
      authorized,
    };
    requests.push(record);
    sweep();
    const fault = faults.take(method, path);
    if (fault) record.fault = fault.kind === "fail" ? `fail ${fault.status}` : fault.kind;
    // Faults in front of the service (rate limiter, load balancer) answer before anything runs.
    if (fault?.kind === "fail" && !fault.afterProcessing)
      return applyFaultAndSend(response, record, fault, { status: 0, body: null });
    const reply: Reply = authorized
      ? routeApi(method, path, body)
      : {
          status: 401,
          body: evolinkErrorBody("unauthorized", "Invalid or missing API key", "authentication_error"),
        };
    await applyFaultAndSend(response, record, fault, reply);
  }

  /**
   * A set's picture follows its prompt and seed. A variation's follows its parent image, moved a
   * little (subtle) or a lot (strong): from the variation model, or image-to-image on one of this
   * emulator's own results (what EvoLink's V buttons send; `--iw 2` or more reads as subtle).
   */
  function pictureOf(task: EmulatedTask, index: number): PictureSpec {
    const own = /^(\S+)\/files\/([^/\s]+)\/(\d+)\.\w+\s/.exec(task.prompt);
    const source = task.parent
      ? {
          task: tasks.get(task.parent.taskId),
          image: task.parent.imageNumber,
          strong: task.parent.type === "strong",
        }
      : own && own[1] === baseUrl
        ? {
            task: tasks.get(own[2] ?? ""),
            image: Number(own[3]),
            strong: Number(/--iw\s+([\d.]+)/.exec(task.prompt)?.[1] ?? 1) < 2,
          }
        : undefined;
    if (!source?.task) return { prompt: task.prompt, seed: seedOf(task.prompt) ?? hashText(task.id), index };
    const base = pictureOf(source.task, source.image);
    const step = { seed: hashText(`${task.id}:${index}`), strength: source.strong ? 0.25 : 0.08 };
    return { ...base, prompt: task.prompt, variations: [...(base.variations ?? []), step] };
  }

  async function handleFile(response: ServerResponse, taskId: string, index: number): Promise<void> {
    const task = tasks.get(taskId);
    if (!task || taskState(task).status !== "completed" || index < 0 || index >= task.imageCount) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    if (knobs.stallImages?.test(task.prompt)) return; // the socket stays open until close()
    const key = `${taskId}/${index}`;
    let image = imageCache.get(key);
    if (!image) {
      const longSide = task.speed === "draft" ? draftLongSide : tileLongSide;
      image = makeResultImage({
        ...sizeForAspect(task.aspectRatio, longSide),
        index,
        format: task.imageFormat,
        picture: options.pictures === "procedural" ? pictureOf(task, index) : undefined,
      });
      imageCache.set(key, image);
    }
    const bytes = await image;
    response.writeHead(200, {
      "content-type": contentTypeForFormat[task.imageFormat],
      "content-length": String(bytes.length),
    });
    response.end(bytes);
  }

  const server = createServer((request, response) => {
    response.on("error", () => {});
    const path = new URL(request.url ?? "/", "http://emulator").pathname;
    const file = /^\/files\/([^/]+)\/(\d+)\.(png|jpg|webp)$/.exec(path);
    if (file) {
      const authHeader = request.headers.authorization;
      requests.push({
        method: request.method ?? "GET",
        path,
        body: undefined,
        hasAuthHeader: authHeader !== undefined,
        authorized: authHeader === `Bearer ${apiKey}`,
      });
    }
    const work = file
      ? handleFile(response, file[1] ?? "", Number(file[2]))
      : handleApi(request, response, path);
    work.catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify(evolinkErrorBody("service_error", String(error), "server_error")));
      } else {
        response.destroy();
      }
    });
  });

  baseUrl = await listen(server);

  return {
    baseUrl,
    apiKey,
    requests,
    tasks,
    callbacks,
    knobs,
    failNext: faults.failNext,
    slowNext(ms, faultOptions = {}) {
      faults.add({ kind: "slow", ms, ...faultOptions });
    },
    truncateNext: faults.truncateNext,
    truncatePolls: faults.truncatePolls,
    clearFaults: faults.clearFaults,
    malformedNext: faults.malformedNext,
    apiRequests(method) {
      return requests.filter(
        (request) => request.path.startsWith("/v1/") && (method === undefined || request.method === method),
      );
    },
    taskIds: () => [...tasks.keys()],
    taskBody(taskId) {
      const task = tasks.get(taskId);
      return task ? taskBody(task) : undefined;
    },
    sweep,
    stop() {
      stopped = true;
      return closeServer(server, timers);
    },
  };
}
