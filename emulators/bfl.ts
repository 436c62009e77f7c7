// An in-process Black Forest Labs (FLUX) API server for contract tests and local runs.
//
// Sources (read 2026):
// - black-forest-labs/blackforest, BFL's Python SDK: `x-key` auth; POST /v1/<model> answers
//   `{id, polling_url, cost}` (cost in credits); GET <polling_url> or /v1/get_result?id= answers
//   `{id, status, result, progress, details}` with status one of Pending, Ready, Error,
//   Task not found, Request Moderated, Content Moderated; result.sample is a signed link valid
//   ~10 minutes; 401/403 bad key, 402 no credits, 429 rate limit, 4xx/422 validation; a webhook's
//   secret comes back verbatim in the `X-Webhook-Secret` header. Input models: width/height
//   256–1440 in steps of 32 (FLUX.1), aspect_ratio 21:9…9:21 (Ultra, Kontext), input_image and
//   input_image_2…4 as base64 or a URL (Kontext), expand's base64 `image` with top/bottom/left/right
//   0–2048 pixels, safety_tolerance 0–6, output_format jpeg|png, seed, prompt_upsampling, raw.
// - black-forest-labs/skills (bfl-api): base URLs, prices per image (FLUX1.1 [pro] 4 credits, Ultra 6,
//   Kontext [pro] 4, [max] 8, Fill 5; 1 credit = $0.01), at most 24 active tasks (6 on Kontext [max]),
//   result links expiring after 10 minutes on a blob-storage host.
// - The get_result schema as published (api-evangelist/black-forest-labs OpenAPI): `progress` is a
//   number (0–1) or null; 422 bodies are FastAPI's `{"detail": [{"loc", "msg", "type"}]}`.
// Unverified, so kept simple and easy to change: the exact `detail` texts of 402/403/429; the
// moderation `details` (real ones name categories; here `{"Moderation Reasons": [matched words]}`);
// the webhook body, which follows what integrators log (`{task_id, status: "SUCCESS"|"FAILED",
// result, error, progress}`), not the `{id, status: "Ready"}` shape a guide shows.
//
// Result images are served on this origin at signed links (`?se=<expiry>&sig=<hmac>`) that stop
// working `signedUrlTtlMs` after the task is ready (403, like the storage host), in the requested
// size, colour `n mod 4` for the n-th task created (a set of four tasks made in a row reads 0–3).
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type EmulatedModel, emulatedModels, readCreate } from "./bfl-models.ts";
import {
  closeServer,
  type EmulatorHandle,
  FaultQueue,
  isLoopbackUrl,
  listen,
  notProcessed,
  parseBody,
  type RecordedRequest,
  type Reply,
  readBody,
  sendReply,
} from "./http.ts";
import { contentTypeForFormat, makeResultImage } from "./images.ts";

export interface BflEmulatorOptions {
  /** The only accepted `x-key`. Default "bfl-test-key". */
  apiKey?: string;
  /** Time from create to Ready. Default 300 ms. */
  taskDurationMs?: number;
  /** Account balance in credits; unlimited when absent. */
  credits?: number;
  /** Tasks that may be Pending at once before a create is refused with 429. Default 24. */
  maxActiveTasks?: number;
  /** How long a result link works after the task is ready. Default 10 minutes. */
  signedUrlTtlMs?: number;
  /** Accept http:// webhook URLs (127.0.0.1 in tests). Off: BFL calls HTTPS endpoints only. */
  allowInsecureWebhooks?: boolean;
}

export type BflStatus =
  | "Pending"
  | "Ready"
  | "Error"
  | "Task not found"
  | "Request Moderated"
  | "Content Moderated";

export interface BflKnobs {
  credits: number | undefined;
  maxActiveTasks: number;
  taskDurationMs: number;
  signedUrlTtlMs: number;
  /** Tasks created from now on stay Pending at progress 0.93. */
  neverFinish: boolean;
  /** Prompts containing one of these words end "Request Moderated" early in their run. */
  refuseWords: string[];
  /** Tasks created from now on end "Content Moderated" (the output filter). */
  moderateResults: boolean;
  /** Tasks created from now on end "Error" with this text. */
  failTasksWith: string | undefined;
}

export interface BflTask {
  id: string;
  model: string;
  body: Record<string, unknown>;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  format: "jpeg" | "png";
  colour: number;
  createdAt: number;
  durationMs: number;
  cost: number;
  stuck: boolean;
  ending: { status: BflStatus; details?: Record<string, unknown>; atFraction: number };
  webhookUrl?: string;
  webhookSecret?: string;
  webhookSent: boolean;
}

export interface BflRecordedRequest extends RecordedRequest {
  /** The query string (get_result's `?id=`), when there was one. */
  search?: string;
  /** The task a create made. */
  taskId?: string;
}

export interface BflWebhook {
  url: string;
  body: Record<string, unknown>;
  secretHeader?: string;
  /** False when the URL was not on 127.0.0.1/localhost and nothing was sent. */
  sent: boolean;
  status?: number;
}

export interface BflEmulator extends EmulatorHandle<BflKnobs> {
  apiKey: string;
  requests: BflRecordedRequest[];
  apiRequests(method?: string): BflRecordedRequest[];
  tasks: Map<string, BflTask>;
  webhooks: BflWebhook[];
  /** The task as get_result shows it now. */
  resultBody(taskId: string): Record<string, unknown>;
}

const pendingFraction = 0.1;
const stuckProgress = 0.93;

const detail = (status: number, text: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { detail: text },
  ...(headers ? { headers } : {}),
});

export async function startBflEmulator(options: BflEmulatorOptions = {}): Promise<BflEmulator> {
  const apiKey = options.apiKey ?? "bfl-test-key";
  const allowInsecureWebhooks = options.allowInsecureWebhooks ?? false;
  const knobs: BflKnobs = {
    credits: options.credits,
    maxActiveTasks: options.maxActiveTasks ?? 24,
    taskDurationMs: options.taskDurationMs ?? 300,
    signedUrlTtlMs: options.signedUrlTtlMs ?? 10 * 60_000,
    neverFinish: false,
    refuseWords: [],
    moderateResults: false,
    failTasksWith: undefined,
  };
  const requests: BflRecordedRequest[] = [];
  const tasks = new Map<string, BflTask>();
  const webhooks: BflWebhook[] = [];
  const faults = new FaultQueue();
  const timers = new Set<NodeJS.Timeout>();
  const images = new Map<string, Promise<Buffer>>();
  const signingKey = randomBytes(16);
  let created = 0;
  let origin = "";

  function schedule(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  // --- a task's life, read off the clock ---

  function stateOf(task: BflTask): { status: BflStatus; progress: number | null } {
    const fraction = (Date.now() - task.createdAt) / Math.max(1, task.durationMs);
    if (task.ending.status !== "Ready" && fraction >= task.ending.atFraction)
      return { status: task.ending.status, progress: null };
    if (task.stuck) return { status: "Pending", progress: Math.min(stuckProgress, floor2(fraction)) };
    if (fraction < 1)
      return { status: "Pending", progress: fraction < pendingFraction ? 0 : floor2(fraction) };
    return { status: "Ready", progress: 1 };
  }

  function readyAt(task: BflTask): number {
    return task.createdAt + task.durationMs;
  }

  function signature(id: string, expiry: string): string {
    return createHmac("sha256", signingKey).update(`${id}:${expiry}`).digest("base64url");
  }

  function sampleUrl(task: BflTask): string {
    const expiry = new Date(readyAt(task) + knobs.signedUrlTtlMs).toISOString();
    const extension = task.format === "png" ? "png" : "jpeg";
    const query = new URLSearchParams({ se: expiry, sp: "r", sig: signature(task.id, expiry) });
    return `${origin}/results/${task.id}/sample.${extension}?${query}`;
  }

  function resultBody(id: string): Record<string, unknown> {
    const task = tasks.get(id);
    if (!task) return { id, status: "Task not found" };
    const { status, progress } = stateOf(task);
    const body: Record<string, unknown> = {
      id,
      status,
      result: null,
      progress,
      details: null,
      preview: null,
    };
    if (status === "Ready") {
      const start = task.createdAt / 1000;
      const end = readyAt(task) / 1000;
      body.result = {
        sample: sampleUrl(task),
        prompt: task.prompt,
        seed: task.seed,
        start_time: start,
        end_time: end,
        duration: end - start,
      };
    } else if (status !== "Pending") {
      body.details = task.ending.details ?? null;
    }
    return body;
  }

  // --- webhooks: one POST when the task ends (loopback only) ---

  function webhookBody(task: BflTask): Record<string, unknown> {
    const result = resultBody(task.id);
    const ready = result.status === "Ready";
    return {
      task_id: task.id,
      status: ready ? "SUCCESS" : "FAILED",
      result: result.result,
      progress: ready ? 100 : null,
      ...(ready ? {} : { error: result.status, details: result.details }),
    };
  }

  function sendWebhook(task: BflTask): void {
    if (!task.webhookUrl || task.webhookSent || stateOf(task).status === "Pending") return;
    task.webhookSent = true;
    const delivery: BflWebhook = {
      url: task.webhookUrl,
      body: webhookBody(task),
      ...(task.webhookSecret ? { secretHeader: task.webhookSecret } : {}),
      sent: isLoopbackUrl(task.webhookUrl),
    };
    webhooks.push(delivery);
    if (!delivery.sent) return;
    fetch(task.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(task.webhookSecret ? { "x-webhook-secret": task.webhookSecret } : {}),
      },
      body: JSON.stringify(delivery.body),
      signal: AbortSignal.timeout(2000),
    })
      .then((response) => {
        delivery.status = response.status;
        return response.body?.cancel();
      })
      .catch(() => {
        delivery.status = 0;
      });
  }

  // --- creating tasks ---

  function endingFor(prompt: string): BflTask["ending"] {
    const words = knobs.refuseWords.filter((word) => new RegExp(`\\b${word}\\b`, "i").test(prompt));
    if (words.length > 0)
      return {
        status: "Request Moderated",
        details: { "Moderation Reasons": words },
        atFraction: pendingFraction,
      };
    if (knobs.moderateResults)
      return { status: "Content Moderated", details: { "Moderation Reasons": ["output"] }, atFraction: 1 };
    if (knobs.failTasksWith !== undefined)
      return { status: "Error", details: { error: knobs.failTasksWith }, atFraction: 1 };
    return { status: "Ready", atFraction: 1 };
  }

  function activeTasks(): number {
    return [...tasks.values()].filter((task) => stateOf(task).status === "Pending").length;
  }

  async function create(modelName: string, model: EmulatedModel, raw: unknown): Promise<Reply> {
    const read = await readCreate(model, raw, {
      allowInsecureWebhooks,
      randomSeed: () => Math.floor(Math.random() * 2 ** 31),
    });
    if (Array.isArray(read)) return { status: 422, body: { detail: read } };
    if (activeTasks() >= knobs.maxActiveTasks)
      return detail(429, `You have reached the maximum of ${knobs.maxActiveTasks} active tasks.`);
    if (knobs.credits !== undefined) {
      if (knobs.credits < model.credits)
        return detail(402, `Insufficient credits: ${model.credits} needed, ${knobs.credits} left.`);
      knobs.credits = Math.round((knobs.credits - model.credits) * 1000) / 1000;
    }
    const task: BflTask = {
      id: randomUUID(),
      model: modelName,
      body: raw as Record<string, unknown>,
      prompt: read.prompt,
      seed: read.seed,
      width: read.width,
      height: read.height,
      format: read.format,
      colour: created % 4,
      createdAt: Date.now(),
      durationMs: knobs.taskDurationMs,
      cost: model.credits,
      stuck: knobs.neverFinish,
      ending: endingFor(read.prompt),
      ...(read.webhookUrl ? { webhookUrl: read.webhookUrl } : {}),
      ...(read.webhookSecret ? { webhookSecret: read.webhookSecret } : {}),
      webhookSent: false,
    };
    created += 1;
    tasks.set(task.id, task);
    if (task.webhookUrl) {
      schedule(task.durationMs * task.ending.atFraction + 5, () => sendWebhook(task));
      schedule(task.durationMs + 5, () => sendWebhook(task));
    }
    return {
      status: 200,
      body: { id: task.id, polling_url: `${origin}/v1/get_result?id=${task.id}`, cost: task.cost },
    };
  }

  async function answer(method: string, path: string, search: URLSearchParams, body: unknown) {
    if (method === "GET" && path === "/v1/get_result") {
      const id = search.get("id");
      if (!id)
        return {
          status: 422,
          body: { detail: [{ loc: ["query", "id"], msg: "Field required", type: "missing" }] },
        };
      return { status: 200, body: resultBody(id) };
    }
    if (method === "GET" && path === "/v1/credits")
      return { status: 200, body: { credits: knobs.credits ?? 1e6 } };
    const model = /^\/v1\/([\w.-]+)$/.exec(path)?.[1];
    const known = model === undefined ? undefined : emulatedModels[model];
    if (method === "POST" && model && known) return create(model, known, body);
    return detail(404, "Not Found");
  }

  // --- HTTP ---

  function authorize(request: IncomingMessage) {
    const key = request.headers["x-key"];
    return { hasAuthHeader: key !== undefined, authorized: key === apiKey };
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    const body = parseBody(raw);
    const record: BflRecordedRequest = { method, path: url.pathname, body, ...authorize(request) };
    if (url.search) record.search = url.search;
    requests.push(record);
    const fault = faults.take(method, url.pathname);
    if (fault?.kind === "fail" && !fault.afterProcessing)
      return sendReply(response, record, notProcessed, fault);
    let reply: Reply;
    if (!record.hasAuthHeader) reply = detail(403, "Not authenticated");
    else if (!record.authorized) reply = detail(403, "Invalid API key");
    else if (method === "POST" && raw !== "" && body === raw)
      reply = {
        status: 422,
        body: { detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] },
      };
    else reply = await answer(method, url.pathname, url.searchParams, body);
    const made = (reply.body as { id?: unknown } | null)?.id;
    if (method === "POST" && reply.status === 200 && typeof made === "string") record.taskId = made;
    sendReply(response, record, reply, fault);
  }

  async function handleResult(response: ServerResponse, url: URL, id: string): Promise<void> {
    requests.push({
      method: "GET",
      path: url.pathname,
      body: undefined,
      hasAuthHeader: false,
      authorized: true,
    });
    const task = tasks.get(id);
    const expiry = url.searchParams.get("se") ?? "";
    if (!task || stateOf(task).status !== "Ready") {
      response.writeHead(404, { "content-type": "application/xml" }).end(storageError("BlobNotFound"));
      return;
    }
    const valid = url.searchParams.get("sig") === signature(id, expiry);
    if (!valid || !(Date.parse(expiry) > Date.now())) {
      response
        .writeHead(403, { "content-type": "application/xml" })
        .end(storageError("AuthenticationFailed"));
      return;
    }
    let image = images.get(id);
    if (!image) {
      image = makeResultImage({
        width: task.width,
        height: task.height,
        index: task.colour,
        format: task.format,
      });
      images.set(id, image);
    }
    const bytes = await image;
    response.writeHead(200, {
      "content-type": contentTypeForFormat[task.format],
      "content-length": bytes.length,
    });
    response.end(bytes);
  }

  const server = createServer((request, response) => {
    response.on("error", () => {});
    const url = new URL(request.url ?? "/", "http://emulator");
    const result = /^\/results\/([^/]+)\/sample\.(jpeg|png)$/.exec(url.pathname);
    const work = result ? handleResult(response, url, result[1] ?? "") : handleApi(request, response, url);
    work.catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else
        response
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ detail: String(error) }));
    });
  });
  origin = await listen(server);

  return {
    baseUrl: origin,
    apiKey,
    requests,
    knobs,
    tasks,
    webhooks,
    resultBody,
    failNext: faults.failNext,
    malformedNext: faults.malformedNext,
    truncateNext: faults.truncateNext,
    truncatePolls: faults.truncatePolls,
    clearFaults: faults.clearFaults,
    apiRequests: (method) =>
      requests.filter(
        (request) => request.path.startsWith("/v1/") && (method === undefined || request.method === method),
      ),
    taskIds: () => [...tasks.keys()],
    stop: () => closeServer(server, timers),
  };
}

function floor2(fraction: number): number {
  return Math.floor(Math.max(0, Math.min(1, fraction)) * 100) / 100;
}

function storageError(code: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
}
