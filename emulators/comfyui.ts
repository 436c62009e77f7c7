// An in-process ComfyUI server for contract tests, end-to-end tests and local runs.
//
// Sources (read 2026): comfyanonymous/ComfyUI
// - server.py: `POST /prompt {prompt, client_id, extra_data, number?, front?}` validates the graph
//   (execution.validate_prompt) and answers `{prompt_id, number, node_errors}`, or 400
//   `{error: {type, message, details, extra_info}, node_errors: {<id>: {errors: [{type, message,
//   details, extra_info: {input_name…}}], dependent_outputs, class_type}}}`; `GET /history/{id}` is
//   `{}` until the prompt has run, then `{<id>: {prompt, outputs: {<node>: {images: [{filename,
//   subfolder, type}]}}, status: {status_str, completed, messages}, meta}}`; `GET /view?filename=
//   &subfolder=&type=`; `GET /object_info`; `GET /queue` → `{queue_running, queue_pending}` (items
//   `[number, prompt_id, prompt, extra_data, outputs_to_execute]`); `POST /queue {delete: [ids]}`
//   or `{clear: true}`; `POST /interrupt`; `GET /system_stats`; `POST /upload/image` (multipart
//   `image`, `overwrite`, `type`, `subfolder`) → `{name, subfolder, type}`; every route also under
//   `/api`. Websocket `/ws?clientId=`: JSON `{type, data}` — `status {status: {exec_info:
//   {queue_remaining}}, sid}` on connect and when the queue changes, then per prompt
//   `execution_start`, `execution_cached`, `executing {node, display_node, prompt_id}`, `progress
//   {value, max, prompt_id, node}`, `executed {node, display_node, output, prompt_id}`, `executing
//   {node: null, prompt_id}`, `execution_success` (or `execution_error` / `execution_interrupted`),
//   sent to the prompt's client_id (to every socket without one); binary frames are a 4-byte
//   big-endian event type (protocol.py BinaryEventTypes: 1 = PREVIEW_IMAGE) then, for previews
//   (send_image), a 4-byte big-endian image type (1 = JPEG, 2 = PNG) and the image bytes.
// - execution.py: one prompt runs at a time, in queue order; an interrupted prompt's history says
//   `status_str: "error"` with an `execution_interrupted` message.
// Emulated, not real: the nodes (emulators/comfyui-nodes.ts) only work out each result's size and
// colour; a stalled prompt reports its sampler at 93 of 100 steps and stays there.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import sharp from "sharp";
import { Response } from "undici";
import { type WebSocket, WebSocketServer } from "ws";
import {
  type ApiPrompt,
  evaluate,
  executionOrder,
  type InputImage,
  objectInfo,
  validatePrompt,
  workingNodes,
} from "./comfyui-nodes.ts";
import {
  closeServer,
  type EmulatorHandle,
  FaultQueue,
  listen,
  notProcessed,
  parseBody,
  type RecordedRequest,
  type Reply,
  sendReply,
} from "./http.ts";
import { makeResultImage, nearestColourIndex } from "./images.ts";

export interface ComfyUiKnobs {
  /** What `CheckpointLoaderSimple.ckpt_name` accepts (the first is a stock install's only one). */
  checkpoints: string[];
  /** What `UpscaleModelLoader.model_name` accepts; empty: no upscale model installed. */
  upscaleModels: string[];
  /** How long one prompt runs once it leaves the queue. */
  taskDurationMs: number;
  /** Prompts started from now on stop with their sampler at 93 of 100 steps and never finish. */
  stall: boolean;
  /** Preview frames while sampling (ComfyUI's `--preview-method`); off: none are sent. */
  previews: boolean;
}

export interface ComfyUiEmulatorOptions extends Partial<ComfyUiKnobs> {}

/** One prompt as the emulator received it. */
export interface ReceivedPrompt {
  promptId: string;
  number: number;
  prompt: ApiPrompt;
  clientId?: string;
}

export interface ComfyUiEmulator extends EmulatorHandle<ComfyUiKnobs> {
  /** Every accepted prompt (API-format graph), oldest first. */
  prompts: ReceivedPrompt[];
  /** Files uploaded to the input folder, by name. */
  inputs: Map<string, Buffer>;
  /** The machine dies: open connections are cut, new ones refused, running work stops. */
  stopAnswering(): Promise<void>;
  /** Prompt ids running and waiting, as `GET /queue` would list them. */
  queue(): { running: string[]; pending: string[] };
}

export function comfyUiDefaultKnobs(taskDurationMs = 300): ComfyUiKnobs {
  return {
    checkpoints: ["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"],
    upscaleModels: ["4x-UltraSharp.pth"],
    taskDurationMs,
    stall: false,
    previews: true,
  };
}

interface Job extends ReceivedPrompt {
  extraData: Record<string, unknown>;
  outputs: string[];
  interrupted: boolean;
  stalled: boolean;
}

type HistoryEntry = Record<string, unknown>;

/** A binary preview frame: event 1 (PREVIEW_IMAGE), image type (1 JPEG, 2 PNG), the image. */
export function previewFrame(image: Buffer, type: 1 | 2 = 1): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(type, 4);
  return Buffer.concat([header, image]);
}

async function describeInput(bytes: Buffer): Promise<InputImage> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const offset = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return {
    width: info.width,
    height: info.height,
    colour: nearestColourIndex([...data.subarray(offset, offset + 3)]),
  };
}

class ComfyUiServer {
  readonly knobs: ComfyUiKnobs;
  readonly requests: RecordedRequest[] = [];
  readonly faults = new FaultQueue();
  readonly prompts: ReceivedPrompt[] = [];
  readonly inputs = new Map<string, Buffer>();
  readonly timers = new Set<NodeJS.Timeout>();
  private readonly described = new Map<string, InputImage>();
  private readonly files = new Map<string, Buffer>();
  private readonly history = new Map<string, HistoryEntry>();
  private readonly sockets = new Map<string, WebSocket>();
  private readonly pending: Job[] = [];
  private running: Job | undefined;
  /** Stalled prompts: still listed as running, but no longer holding up the queue (tests go on). */
  private readonly stalled: Job[] = [];
  private number = 0;
  private saved = 0;
  stopped = false;
  readonly wss = new WebSocketServer({ noServer: true });

  constructor(options: ComfyUiEmulatorOptions) {
    this.knobs = { ...comfyUiDefaultKnobs(), ...options };
  }

  private lists() {
    return {
      checkpoints: this.knobs.checkpoints,
      upscaleModels: this.knobs.upscaleModels,
      inputFiles: () => [...this.inputs.keys()],
    };
  }

  queue() {
    return {
      running: this.runningJobs().map((job) => job.promptId),
      pending: this.pending.map((job) => job.promptId),
    };
  }

  private runningJobs(): Job[] {
    return [...(this.running ? [this.running] : []), ...this.stalled];
  }

  // --- websocket ---------------------------------------------------------------------------------

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? "/", "http://emulator");
    if (url.pathname.replace(/^\/api/, "") !== "/ws" || this.stopped) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const sid = url.searchParams.get("clientId") || randomUUID().replaceAll("-", "");
      this.sockets.get(sid)?.terminate();
      this.sockets.set(sid, ws);
      ws.on("close", () => {
        if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
      });
      this.send("status", { status: this.queueInfo(), sid }, sid);
    });
  }

  private queueInfo() {
    return { exec_info: { queue_remaining: this.pending.length + (this.running ? 1 : 0) } };
  }

  /** To `sid`'s socket, or to every socket without one (server.py `send_json` / `send_bytes`). */
  private send(type: string, data: unknown, sid?: string): void {
    this.sendRaw(JSON.stringify({ type, data }), sid);
  }

  private sendRaw(message: string | Buffer, sid?: string): void {
    const targets = sid === undefined ? [...this.sockets.values()] : [this.sockets.get(sid)].filter(Boolean);
    for (const ws of targets) if (ws?.readyState === ws?.OPEN) ws?.send(message);
  }

  // --- the queue and execution -------------------------------------------------------------------

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private runNext(): void {
    if (this.running || this.stopped) return;
    const job = this.pending.shift();
    if (!job) return;
    this.running = job;
    void this.execute(job)
      .catch((error: unknown) => this.fail(job, error))
      .finally(() => {
        if (this.running === job) this.running = undefined;
        this.send("status", { status: this.queueInfo() });
        this.runNext();
      });
  }

  private async execute(job: Job): Promise<void> {
    const sid = job.clientId;
    const messages: unknown[][] = [];
    const say = (type: string, data: Record<string, unknown>) => {
      const full = { ...data, prompt_id: job.promptId, timestamp: Date.now() };
      if (type.startsWith("execution_")) messages.push([type, full]);
      this.send(type, full, sid);
    };
    say("execution_start", {});
    say("execution_cached", { nodes: [] });
    const order = executionOrder(job.prompt, job.outputs);
    const working = order.filter((id) => workingNodes.has(job.prompt[id]?.class_type ?? ""));
    const outputs: Record<string, unknown> = {};
    for (const id of order) {
      if (this.stopped) return;
      this.send("executing", { node: id, display_node: id, prompt_id: job.promptId }, sid);
      if (working.includes(id)) await this.work(job, id, this.knobs.taskDurationMs / working.length);
      if (job.interrupted) return this.interrupted(job, id, messages);
      if (this.stopped) return;
      if (job.stalled) {
        this.stalled.push(job);
        return;
      }
      const node = job.prompt[id];
      if (node?.class_type === "SaveImage" || node?.class_type === "PreviewImage") {
        outputs[id] = { images: await this.save(job, id) };
        this.send(
          "executed",
          { node: id, display_node: id, output: outputs[id], prompt_id: job.promptId },
          sid,
        );
      }
    }
    if (this.stopped) return;
    this.send("executing", { node: null, prompt_id: job.promptId }, sid);
    say("execution_success", {});
    this.record(job, outputs, "success", messages);
  }

  /** A sampler (or model upscale) at work: progress per step and, for samplers, preview frames. */
  private async work(job: Job, id: string, durationMs: number): Promise<void> {
    const node = job.prompt[id];
    if (this.knobs.stall) job.stalled = true;
    const max = job.stalled ? 100 : Math.max(1, Number(node?.inputs.steps ?? 4));
    const last = job.stalled ? 93 : max;
    const preview =
      this.knobs.previews && node?.class_type !== "ImageUpscaleWithModel"
        ? await this.previewOf(job, id)
        : undefined;
    for (let value = 1; value <= last; value += 1) {
      await this.wait(durationMs / max);
      if (this.stopped || job.interrupted) return;
      this.send("progress", { value, max, prompt_id: job.promptId, node: id }, job.clientId);
      if (preview) this.sendRaw(previewFrame(preview), job.clientId);
    }
  }

  /** A small JPEG of what the sampler is making: its first batch item's colour. */
  private async previewOf(job: Job, id: string): Promise<Buffer> {
    const made = evaluate(job.prompt, id, (name) => this.describedInput(name));
    const scale = 256 / Math.max(made.width, made.height);
    return makeResultImage({
      width: Math.max(1, made.width * scale),
      height: Math.max(1, made.height * scale),
      index: made.colours[0] ?? 0,
      format: "jpeg",
    });
  }

  private describedInput(name: string): InputImage {
    const input = this.described.get(name);
    if (!input) throw new Error(`no input image ${name}`);
    return input;
  }

  private async save(job: Job, id: string): Promise<Record<string, string>[]> {
    const node = job.prompt[id];
    const made = evaluate(job.prompt, id, (name) => this.describedInput(name));
    const type = node?.class_type === "SaveImage" ? "output" : "temp";
    const prefix = String(node?.inputs.filename_prefix ?? "ComfyUI").replace(/[^\w-]/g, "_");
    const images: Record<string, string>[] = [];
    for (const colour of made.colours) {
      this.saved += 1;
      const filename = `${prefix}_${String(this.saved).padStart(5, "0")}_.png`;
      const bytes = await makeResultImage({ width: made.width, height: made.height, index: colour });
      this.files.set(`${type}//${filename}`, bytes);
      images.push({ filename, subfolder: "", type });
    }
    return images;
  }

  private interrupted(job: Job, nodeId: string, messages: unknown[][]): void {
    const data = {
      prompt_id: job.promptId,
      node_id: nodeId,
      node_type: job.prompt[nodeId]?.class_type,
      executed: [],
      timestamp: Date.now(),
    };
    messages.push(["execution_interrupted", data]);
    this.send("execution_interrupted", data, job.clientId);
    this.record(job, {}, "error", messages);
  }

  private fail(job: Job, error: unknown): void {
    const data = {
      prompt_id: job.promptId,
      exception_message: String(error),
      exception_type: "Exception",
      traceback: [],
    };
    this.send("execution_error", data, job.clientId);
    this.record(job, {}, "error", [["execution_error", data]]);
  }

  private record(
    job: Job,
    outputs: Record<string, unknown>,
    status: "success" | "error",
    messages: unknown[][],
  ) {
    this.history.set(job.promptId, {
      prompt: [job.number, job.promptId, job.prompt, job.extraData, job.outputs],
      outputs,
      status: { status_str: status, completed: status === "success", messages },
      meta: {},
    });
  }

  // --- HTTP routes -------------------------------------------------------------------------------

  submit(body: unknown): Reply {
    const json = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    if (!("prompt" in json)) return { status: 400, body: { error: "no prompt", node_errors: [] } };
    const valid = validatePrompt(json.prompt, this.lists());
    if (!("outputs" in valid)) return { status: 400, body: valid };
    const number = this.number++;
    const extraData = { ...(json.extra_data as Record<string, unknown> | undefined) };
    const clientId = typeof json.client_id === "string" ? json.client_id : undefined;
    if (clientId) extraData.client_id = clientId;
    const job: Job = {
      promptId: randomUUID(),
      number,
      prompt: json.prompt as ApiPrompt,
      clientId,
      extraData,
      outputs: valid.outputs,
      interrupted: false,
      stalled: false,
    };
    this.prompts.push({ promptId: job.promptId, number, prompt: job.prompt, clientId });
    this.pending.push(job);
    this.send("status", { status: this.queueInfo() });
    queueMicrotask(() => this.runNext());
    return { status: 200, body: { prompt_id: job.promptId, number, node_errors: {} } };
  }

  private queueItem(job: Job) {
    return [job.number, job.promptId, job.prompt, job.extraData, job.outputs];
  }

  answer(method: string, path: string, query: URLSearchParams, body: unknown): Reply {
    const route = `${method} ${path}`;
    if (route === "POST /prompt") return this.submit(body);
    if (route === "GET /prompt") return { status: 200, body: this.queueInfo() };
    if (route === "GET /object_info") return { status: 200, body: objectInfo(this.lists()) };
    if (route === "GET /system_stats") return { status: 200, body: systemStats };
    if (route === "GET /queue")
      return {
        status: 200,
        body: {
          queue_running: this.runningJobs().map((job) => this.queueItem(job)),
          queue_pending: this.pending.map((job) => this.queueItem(job)),
        },
      };
    if (route === "POST /queue") return this.editQueue(body);
    if (route === "POST /interrupt") {
      const wanted = (body as { prompt_id?: string } | undefined)?.prompt_id;
      if (this.running && (wanted === undefined || wanted === this.running.promptId))
        this.running.interrupted = true;
      for (const job of this.stalled.filter((stuck) => wanted === undefined || wanted === stuck.promptId)) {
        this.stalled.splice(this.stalled.indexOf(job), 1);
        this.interrupted(job, executionOrder(job.prompt, job.outputs)[0] ?? "", []);
      }
      return { status: 200, body: undefined };
    }
    if (method === "GET" && path.startsWith("/history")) {
      const id = decodeURIComponent(path.slice("/history/".length));
      const entry = this.history.get(id);
      if (path === "/history") return { status: 200, body: Object.fromEntries(this.history) };
      return { status: 200, body: entry ? { [id]: entry } : {} };
    }
    void query;
    return { status: 404, body: undefined };
  }

  private editQueue(body: unknown): Reply {
    const json = (body ?? {}) as { delete?: string[]; clear?: boolean };
    if (json.clear) this.pending.length = 0;
    for (const id of json.delete ?? []) {
      const index = this.pending.findIndex((job) => job.promptId === id);
      if (index >= 0) this.pending.splice(index, 1);
    }
    this.send("status", { status: this.queueInfo() });
    return { status: 200, body: undefined };
  }

  /** `GET /view`: an output, temp or input file; not recorded as API traffic (like result links). */
  view(query: URLSearchParams, response: ServerResponse): void {
    const type = query.get("type") ?? "output";
    const filename = query.get("filename") ?? "";
    const key = `${type}/${query.get("subfolder") ?? ""}/${filename}`;
    const bytes = type === "input" ? this.inputs.get(filename) : this.files.get(key);
    if (!bytes || filename.includes("..") || filename.startsWith("/")) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "image/png", "content-length": bytes.length }).end(bytes);
  }

  /** `POST /upload/image`: multipart `image` (+ `overwrite`, `type`, `subfolder`). */
  async upload(raw: Buffer, contentType: string): Promise<{ reply: Reply; recorded: unknown }> {
    const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
    const image = form.get("image");
    if (!image || typeof image === "string")
      return { reply: { status: 400, body: undefined }, recorded: undefined };
    const bytes = Buffer.from(await image.arrayBuffer());
    let name = image.name || "";
    if (!name) return { reply: { status: 400, body: undefined }, recorded: undefined };
    const overwrite = form.get("overwrite") === "true" || form.get("overwrite") === "1";
    const dot = name.lastIndexOf(".");
    for (let i = 1; !overwrite && this.inputs.has(name) && !this.inputs.get(name)?.equals(bytes); i += 1)
      name = `${image.name.slice(0, dot)} (${i})${image.name.slice(dot)}`;
    this.inputs.set(name, bytes);
    this.described.set(name, await describeInput(bytes));
    const subfolder = String(form.get("subfolder") ?? "");
    return {
      reply: { status: 200, body: { name, subfolder, type: "input" } },
      recorded: {
        image: { filename: image.name, bytes },
        overwrite: form.get("overwrite"),
        type: form.get("type"),
      },
    };
  }
}

const systemStats = {
  system: {
    os: "posix",
    ram_total: 68_719_476_736,
    ram_free: 34_359_738_368,
    comfyui_version: "0.3.40-emulated",
    python_version: "3.12",
    pytorch_version: "2.7.0",
    embedded_python: false,
    argv: ["main.py", "--listen"],
  },
  devices: [
    {
      name: "cuda:0 Emulated GPU",
      type: "cuda",
      index: 0,
      vram_total: 25_769_803_776,
      vram_free: 20_000_000_000,
      torch_vram_total: 0,
      torch_vram_free: 0,
    },
  ],
};

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function respond(
  comfy: ComfyUiServer,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://emulator");
  const path = url.pathname.replace(/^\/api(?=\/)/, "");
  const method = request.method ?? "GET";
  const raw = await readRaw(request);
  if (method === "GET" && path === "/view") return comfy.view(url.searchParams, response);
  const contentType = request.headers["content-type"] ?? "";
  const upload = method === "POST" && path === "/upload/image";
  const record: RecordedRequest = {
    method,
    path,
    body: upload ? undefined : parseBody(raw.toString("utf8")),
    // ComfyUI asks for no key: every request passes as authorized.
    hasAuthHeader: true,
    authorized: true,
  };
  comfy.requests.push(record);
  const fault = comfy.faults.take(method, path);
  if (fault?.kind === "fail" && !fault.afterProcessing)
    return sendReply(response, record, notProcessed, fault);
  let reply: Reply;
  if (upload) {
    const uploaded = await comfy.upload(raw, contentType);
    record.body = uploaded.recorded;
    reply = uploaded.reply;
  } else if (method === "POST" && raw.length > 0 && typeof record.body === "string") {
    // aiohttp's `request.json()` raising: a 500 with its text.
    reply = { status: 500, body: { error: "invalid JSON" } };
  } else reply = comfy.answer(method, path, url.searchParams, record.body);
  sendReply(response, record, reply, fault);
}

/** Starts a ComfyUI emulator on a random loopback port. */
export async function startComfyUiEmulator(options: ComfyUiEmulatorOptions = {}): Promise<ComfyUiEmulator> {
  const comfy = new ComfyUiServer(options);
  const server: Server = createServer((request, response) => {
    respond(comfy, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      else response.destroy();
    });
  });
  server.on("upgrade", (request, socket, head) => comfy.upgrade(request, socket as Duplex, head));
  const baseUrl = await listen(server);
  const stop = async () => {
    if (comfy.stopped) return;
    comfy.stopped = true;
    for (const ws of comfy.wss.clients) ws.terminate();
    comfy.wss.close();
    await closeServer(server, comfy.timers);
  };
  return {
    baseUrl,
    knobs: comfy.knobs,
    requests: comfy.requests,
    prompts: comfy.prompts,
    inputs: comfy.inputs,
    failNext: comfy.faults.failNext,
    malformedNext: comfy.faults.malformedNext,
    truncateNext: comfy.faults.truncateNext,
    truncatePolls: comfy.faults.truncatePolls,
    clearFaults: comfy.faults.clearFaults,
    apiRequests: (method) =>
      comfy.requests.filter((request) => method === undefined || request.method === method),
    taskIds: () => comfy.prompts.map((prompt) => prompt.promptId),
    queue: () => comfy.queue(),
    stopAnswering: stop,
    stop,
  };
}
