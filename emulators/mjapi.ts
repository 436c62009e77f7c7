// Emulator of the simple hosted "Midjourney API" shape (seed 000, reference/image-apis.md §2):
//   POST {BASE}/imagine {prompt, webhook_url?} → {task_id}
//   GET  {BASE}/tasks/{id} → {task_id, status, progress, images, error?}
//   POST {BASE}/upscale {task_id, index 1–4} → {task_id}
// Bearer auth, tasks that progress over time, result images served by the emulator itself, webhooks
// on every change (to 127.0.0.1 only) and fault knobs for the contract tests.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { makeResultImage, sizeForAspect } from "./images.ts";

export type MjapiStatus = "pending" | "processing" | "completed" | "failed";

/** Where a task stops when `neverFinish` is set: "93%" running, or never leaving the queue. */
export type StuckAt = false | "in-progress" | "submitted";

export interface MjapiEmulatorOptions {
  apiKey?: string;
  /** Time from create to completion; keep it short in tests. */
  durationMs?: number;
  /** Longer side of each result image in pixels (upscales are twice this). */
  imageLongSide?: number;
  maxPromptLength?: number;
}

export interface MjapiKnobs {
  /** Words that make /imagine answer 400 "rejected by moderation". */
  refuseWords: string[];
  /** Creates (imagine + upscale) allowed before 402; Infinity = unlimited. */
  credits: number;
  /** Tasks created while set stop progressing (at 93% processing, or pending). */
  neverFinish: StuckAt;
  /** Tasks created while set end `failed` with this error text (e.g. a mid-run moderation stop). */
  failTasksWith: string | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON body, the raw text when it was not JSON, undefined without a body. */
  body: unknown;
  /** Whether the auth header was present (its value is never recorded). */
  hasAuthHeader: boolean;
  authorized: boolean;
  /** The fault applied to this request, if any. */
  fault?: string;
  /** The status sent. */
  status?: number;
}

export interface WebhookDelivery {
  url: string;
  body: unknown;
  /** False when the URL was not on 127.0.0.1/localhost and nothing was sent. */
  sent: boolean;
  /** The receiver's HTTP status once it answered; 0 when the delivery failed. */
  status?: number;
}

export interface FaultOptions {
  /** Only requests with this method take the fault (e.g. "GET" for polls, "POST" for creates). */
  method?: "GET" | "POST";
  /** Only requests whose path below the base starts with this, e.g. "/tasks" or "/submit/imagine". */
  path?: string;
}

export interface FailOptions extends FaultOptions {
  body?: unknown;
  /** Sent as the Retry-After header (seconds or an HTTP date). */
  retryAfter?: string;
  /** Process the request (create the task) and only then answer with the failure. */
  afterProcessing?: boolean;
}

export interface MjapiEmulator {
  /** Base URL including the `/v1` prefix, as a user would configure it. */
  baseUrl: string;
  requests: RecordedRequest[];
  webhooks: WebhookDelivery[];
  knobs: MjapiKnobs;
  /** The next `count` matching API requests answer `status` (429/5xx bursts). */
  failNext(count: number, status: number, options?: FailOptions): void;
  /** The next matching API request is processed, then answered 200 with text that is not JSON. */
  malformedNext(options?: FaultOptions): void;
  /** The next matching API request is processed, then answered 200 with half of its JSON. */
  truncateNext(options?: FaultOptions): void;
  /** API requests seen so far (not result images), optionally by method. */
  apiRequests(method?: string): RecordedRequest[];
  /** Ids of every task created so far, oldest first. */
  taskIds(): string[];
  stop(): Promise<void>;
}

interface EmulatedTask {
  id: string;
  kind: "imagine" | "upscale";
  prompt: string;
  aspect: string | undefined;
  /** For upscales: the 1-based image of the parent that was upscaled. */
  upscaleIndex?: number;
  status: MjapiStatus;
  progress: number;
  error?: string;
  webhookUrl?: string;
  stuckAt: StuckAt;
  failWith: string | undefined;
  step: number;
}

export type Fault =
  | ({ kind: "fail"; status: number } & FailOptions)
  | ({ kind: "malformed" } & FaultOptions)
  | ({ kind: "truncate" } & FaultOptions);

/** Injected faults waiting for the next matching request (shared with the proxy emulator). */
export class FaultQueue {
  private readonly pending: Fault[] = [];

  failNext(count: number, status: number, options: FailOptions = {}): void {
    for (let i = 0; i < count; i += 1) this.pending.push({ kind: "fail", status, ...options });
  }

  malformedNext(options: FaultOptions = {}): void {
    this.pending.push({ kind: "malformed", ...options });
  }

  truncateNext(options: FaultOptions = {}): void {
    this.pending.push({ kind: "truncate", ...options });
  }

  /** Removes and returns the first fault matching this request. */
  take(method: string, path: string): Fault | undefined {
    const index = this.pending.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.path === undefined || path.startsWith(fault.path)),
    );
    return index < 0 ? undefined : this.pending.splice(index, 1)[0];
  }
}

/** Progress reported at each tick while processing; the task completes after the last one. */
const progressSteps = [0, 15, 30, 45, 60, 75, 93];
const stuckProgress = 93;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startMjapiEmulator(options: MjapiEmulatorOptions = {}): Promise<MjapiEmulator> {
  const apiKey = options.apiKey ?? "test-mjapi-key";
  const durationMs = options.durationMs ?? 400;
  const longSide = options.imageLongSide ?? 256;
  const maxPromptLength = options.maxPromptLength ?? 6000;
  const tickMs = Math.max(1, Math.round(durationMs / (progressSteps.length + 1)));

  const tasks = new Map<string, EmulatedTask>();
  const timers = new Set<NodeJS.Timeout>();
  const imageCache = new Map<string, Buffer>();
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const webhooks: WebhookDelivery[] = [];
  const knobs: MjapiKnobs = {
    refuseWords: [],
    credits: Number.POSITIVE_INFINITY,
    neverFinish: false,
    failTasksWith: undefined,
  };
  let origin = "";

  const imageUrlsOf = (task: EmulatedTask): string[] => {
    const count = task.kind === "upscale" ? 1 : 4;
    return Array.from({ length: count }, (_, n) => `${origin}/v1/files/${task.id}/${n + 1}.png`);
  };

  const taskView = (task: EmulatedTask) => ({
    task_id: task.id,
    status: task.status,
    progress: task.progress,
    images: task.status === "completed" ? imageUrlsOf(task) : [],
    ...(task.error === undefined ? {} : { error: task.error }),
  });

  function notify(task: EmulatedTask): void {
    const url = task.webhookUrl;
    if (url === undefined) return;
    webhooks.push(deliverWebhook(url, taskView(task)));
  }

  /** Moves a task one step on; reschedules itself until the task ends or gets stuck. */
  function advance(task: EmulatedTask): void {
    if (task.status === "pending") {
      if (task.stuckAt === "submitted") return;
      task.status = "processing";
      task.progress = 0;
    } else if (task.failWith !== undefined && task.step >= 2) {
      task.status = "failed";
      task.error = task.failWith;
    } else if (task.step < progressSteps.length - 1) {
      task.step += 1;
      task.progress = progressSteps[task.step] ?? 0;
    } else if (task.stuckAt === "in-progress") {
      task.progress = stuckProgress;
      return;
    } else {
      task.status = "completed";
      task.progress = 100;
    }
    notify(task);
    if (task.status === "processing") schedule(task);
  }

  function schedule(task: EmulatedTask): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      advance(task);
    }, tickMs);
    timers.add(timer);
  }

  function createTask(
    fields: Pick<EmulatedTask, "kind" | "prompt" | "aspect" | "upscaleIndex" | "webhookUrl">,
  ) {
    if (knobs.credits <= 0) throw new HttpProblem(402, "insufficient credits: top up your balance");
    knobs.credits -= 1;
    const task: EmulatedTask = {
      ...fields,
      id: randomUUID(),
      status: "pending",
      progress: 0,
      stuckAt: knobs.neverFinish,
      failWith: knobs.failTasksWith,
      step: 0,
    };
    tasks.set(task.id, task);
    schedule(task);
    return task;
  }

  function handleImagine(body: unknown) {
    const record = asRecord(body);
    const prompt = record.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") throw new HttpProblem(400, "prompt is required");
    if (prompt.length > maxPromptLength) {
      throw new HttpProblem(400, `prompt is too long (at most ${maxPromptLength} characters)`);
    }
    const webhookUrl = record.webhook_url;
    if (webhookUrl !== undefined && (typeof webhookUrl !== "string" || !URL.canParse(webhookUrl))) {
      throw new HttpProblem(400, "webhook_url must be a URL");
    }
    const aspect = aspectOf(prompt);
    if (aspect === null) throw new HttpProblem(422, "invalid --ar value: use width:height, e.g. 16:9");
    const banned = knobs.refuseWords.find((word) => prompt.toLowerCase().includes(word.toLowerCase()));
    if (banned !== undefined) {
      throw new HttpProblem(400, `prompt rejected by moderation: banned word "${banned}"`);
    }
    const task = createTask({ kind: "imagine", prompt, aspect, webhookUrl });
    return { task_id: task.id };
  }

  function handleUpscale(body: unknown) {
    const record = asRecord(body);
    const parent = typeof record.task_id === "string" ? tasks.get(record.task_id) : undefined;
    if (parent === undefined) throw new HttpProblem(404, "task not found");
    const index = record.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > 4) {
      throw new HttpProblem(400, "index must be 1, 2, 3 or 4");
    }
    if (parent.kind !== "imagine") throw new HttpProblem(400, "only an image set can be upscaled");
    if (parent.status !== "completed") throw new HttpProblem(400, "task is not completed yet");
    const task = createTask({
      kind: "upscale",
      prompt: parent.prompt,
      aspect: parent.aspect,
      upscaleIndex: index,
      webhookUrl: parent.webhookUrl,
    });
    return { task_id: task.id };
  }

  function handleFetch(id: string) {
    const task = tasks.get(id);
    if (task === undefined) throw new HttpProblem(404, "task not found");
    return taskView(task);
  }

  async function serveImage(response: ServerResponse, taskId: string, file: string): Promise<void> {
    const task = tasks.get(taskId);
    const n = Number(/^(\d)\.png$/.exec(file)?.[1]);
    if (task === undefined || task.status !== "completed" || !(n >= 1 && n <= imageUrlsOf(task).length)) {
      sendText(response, 404, "not found");
      return;
    }
    const key = `${taskId}/${n}`;
    let image = imageCache.get(key);
    if (image === undefined) {
      const upscale = task.kind === "upscale";
      const size = sizeForAspect(task.aspect, upscale ? longSide * 2 : longSide);
      image = await makeResultImage({ ...size, index: (upscale ? (task.upscaleIndex ?? 1) : n) - 1 });
      imageCache.set(key, image);
    }
    response.writeHead(200, { "content-type": "image/png", "content-length": image.length });
    response.end(image);
  }

  function route(method: string, path: string, body: unknown): unknown {
    if (method === "POST" && path === "/imagine") return handleImagine(body);
    if (method === "POST" && path === "/upscale") return handleUpscale(body);
    const fetchMatch = /^\/tasks\/([^/]+)$/.exec(path);
    if (method === "GET" && fetchMatch) return handleFetch(decodeURIComponent(fetchMatch[1] ?? ""));
    throw new HttpProblem(404, `no route for ${method} ${path}`);
  }

  /** The API's answer to an authorized request. */
  function answer(method: string, path: string, raw: string, body: unknown): Reply {
    if (method === "POST" && raw !== "" && body === raw) {
      return { status: 400, body: { error: "body must be JSON" } };
    }
    try {
      return { status: 200, body: route(method, path, body) };
    } catch (problem) {
      if (!(problem instanceof HttpProblem)) throw problem;
      return { status: problem.status, body: { error: problem.message } };
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", origin);
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    const body = parseBody(raw);
    // Result images stand in for a CDN: public, and not part of the recorded API traffic.
    if (url.pathname.startsWith("/v1/files/")) {
      const [, , , taskId = "", file = ""] = url.pathname.split("/");
      await serveImage(response, taskId, file);
      return;
    }
    const authHeader = request.headers.authorization;
    const authorized = authHeader === `Bearer ${apiKey}`;
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      body,
      hasAuthHeader: authHeader !== undefined,
      authorized,
    };
    requests.push(record);
    const path = url.pathname.replace(/^\/v1(?=\/)/, "");
    const fault = faults.take(method, path);
    if (fault?.kind === "fail" && !fault.afterProcessing) {
      sendReply(response, record, notProcessed, fault);
      return;
    }
    const reply: Reply = !url.pathname.startsWith("/v1/")
      ? { status: 404, body: { error: "not found" } }
      : authorized
        ? answer(method, path, raw, body)
        : { status: 401, body: { error: "invalid or missing API key" } };
    sendReply(response, record, reply, fault);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: String(error) });
      else response.destroy();
    });
  });
  origin = await listen(server);

  return {
    baseUrl: `${origin}/v1`,
    requests,
    webhooks,
    knobs,
    failNext: (count, status, failOptions) => faults.failNext(count, status, failOptions),
    malformedNext: (faultOptions) => faults.malformedNext(faultOptions),
    truncateNext: (faultOptions) => faults.truncateNext(faultOptions),
    apiRequests: (method) => requests.filter((request) => method === undefined || request.method === method),
    taskIds: () => [...tasks.keys()],
    stop: () => closeServer(server, timers),
  };
}

// ---------------------------------------------------------------------------------------------
// Plumbing shared with emulators/midjourney-proxy.ts

/** POSTs `body` to a loopback URL (fire and forget); anything else is recorded but never sent. */
export function deliverWebhook(url: string, body: unknown): WebhookDelivery {
  if (!isLoopbackUrl(url)) return { url, body, sent: false };
  const delivery: WebhookDelivery = { url, body, sent: true };
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  })
    .then((response) => {
      delivery.status = response.status;
      return response.body?.cancel();
    })
    .catch(() => {
      delivery.status = 0;
    });
  return delivery;
}

/** The prompt's `--ar`/`--aspect` value; undefined when absent, null when unparsable. */
export function aspectOf(prompt: string): string | undefined | null {
  const match = /(?:^|\s)--(?:ar|aspect)\s+(\S+)/.exec(prompt);
  if (!match) return undefined;
  const value = match[1] ?? "";
  return /^\d+(?:\.\d+)?:\d+(?:\.\d+)?$/.test(value) ? value : null;
}

export function isLoopbackUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && (hostname === "127.0.0.1" || hostname === "localhost");
}

export function asRecord(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendRaw(response, status, JSON.stringify(body), headers);
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(text);
}

/** An emulator's answer before any fault is applied; an undefined body is sent as an empty one. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Placeholder reply for requests failed before processing (the fault replaces it). */
export const notProcessed: Reply = { status: 0, body: null };

/** Sends `reply`, or what an injected `fault` turns it into, and records what was sent. */
export function sendReply(
  response: ServerResponse,
  record: RecordedRequest,
  reply: Reply,
  fault?: Fault,
): void {
  if (fault !== undefined) record.fault = fault.kind === "fail" ? `fail ${fault.status}` : fault.kind;
  if (fault?.kind === "fail") {
    const headers: Record<string, string> =
      fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter };
    record.status = fault.status;
    sendJson(response, fault.status, fault.body ?? { error: `injected HTTP ${fault.status}` }, headers);
    return;
  }
  record.status = fault === undefined ? reply.status : 200;
  if (fault?.kind === "malformed") {
    sendRaw(response, 200, '{"status": completed, images: [}');
  } else if (fault?.kind === "truncate") {
    // Valid HTTP, but the JSON stops half-way: what a proxy cutting a response short looks like.
    const text = JSON.stringify(reply.body ?? {});
    sendRaw(response, 200, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
  } else if (reply.body === undefined) {
    sendRaw(response, reply.status, "", reply.headers);
  } else {
    sendJson(response, reply.status, reply.body, reply.headers);
  }
}

function sendRaw(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Listens on a random 127.0.0.1 port and returns the origin, e.g. `http://127.0.0.1:40123`. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

export function closeServer(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
