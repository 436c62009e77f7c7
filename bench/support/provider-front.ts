// A thin front for the EvoLink emulator, standing where a real provider's API and CDN would be.
//
// Why: the emulator draws every result image on first request (four sharp PNG encodes per task,
// ~15 ms CPU each at 1024²). On a 2-core machine running 50 tasks/s that alone would take more CPU
// than the bot and distort every figure. A real provider serves finished files from a CDN, so the
// front serves each distinct image (same aspect, format and position ⇒ same bytes) from memory after
// the emulator drew it once. API calls and callbacks pass through unchanged except for URLs, which are
// rewritten to point at the front. It also timestamps what the benchmark needs: each task poll, and
// when the bot first learned that a task completed (poll answer or callback).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import type { EvolinkEmulator } from "../../emulators/index.ts";

export interface LearnedCompletion {
  at: number;
  via: "poll" | "callback";
}

export interface ProviderFront {
  baseUrl: string;
  /** Arrival time of every task poll (GET /v1/tasks/{id}) and of every create (POST). */
  pollTimes: number[];
  createTimes: number[];
  /** Task id → when the bot first received a `completed` body for it. */
  learned: Map<string, LearnedCompletion>;
  /** Where provider callbacks are relayed (the bot's callback server), once it is known. */
  callbackTarget: string | undefined;
  stop(): Promise<void>;
}

interface Passed {
  status: number;
  contentType: string;
  text: string;
}

export async function startProviderFront(emulator: EvolinkEmulator): Promise<ProviderFront> {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const files = new Map<string, Promise<Passed & { bytes: Buffer }>>();
  const front: ProviderFront = {
    baseUrl: "",
    pollTimes: [],
    createTimes: [],
    learned: new Map(),
    callbackTarget: undefined,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };

  const pass = async (url: string, method: string, headers: Record<string, string>, body?: string) => {
    const response = await request(url, { method: method as "GET", headers, body, dispatcher: agent });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const contentType = String(response.headers["content-type"] ?? "application/octet-stream");
    return { status: response.statusCode, contentType, bytes, text: bytes.toString("utf8") };
  };
  // Same bytes for every task with the same look: draw once, serve from memory.
  const fileKey = (taskId: string, index: string) => {
    const task = emulator.tasks.get(taskId);
    return task ? `${task.aspectRatio ?? "1:1"}|${task.speed}|${task.imageFormat}|${index}` : undefined;
  };
  const toFront = (text: string) => text.replaceAll(emulator.baseUrl, front.baseUrl);
  const noteCompleted = (text: string, via: LearnedCompletion["via"], at: number) => {
    const body = parseJson(text) as { id?: unknown; status?: unknown } | undefined;
    if (body?.status !== "completed" || typeof body.id !== "string" || front.learned.has(body.id)) return;
    front.learned.set(body.id, { at, via });
  };

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = incoming.url ?? "/";
    const body = await readText(incoming);
    const headers = forwardedHeaders(incoming);
    const file = /^\/files\/([^/]+)\/(\d+)\./.exec(path);
    if (file) {
      const key = fileKey(file[1] ?? "", file[2] ?? "");
      const fetchFile = () => pass(`${emulator.baseUrl}${path}`, "GET", headers);
      let served = key === undefined ? undefined : files.get(key);
      if (!served) {
        served = fetchFile();
        if (key !== undefined) files.set(key, served);
      }
      const { status, contentType, bytes } = await served;
      if (status !== 200 && key !== undefined) files.delete(key);
      response.writeHead(status, { "content-type": contentType, "content-length": String(bytes.length) });
      response.end(bytes);
      return;
    }
    if (path.startsWith("/callbacks/")) {
      const relayed = toFront(body);
      const target = front.callbackTarget;
      if (!target) {
        response.writeHead(503).end();
        return;
      }
      const answer = await pass(`${target}${path}`, "POST", { "content-type": "application/json" }, relayed);
      if (answer.status < 300) noteCompleted(relayed, "callback", Date.now());
      response.writeHead(answer.status).end();
      return;
    }
    const arrivedAt = Date.now();
    if (incoming.method === "GET" && path.startsWith("/v1/tasks/")) front.pollTimes.push(arrivedAt);
    if (incoming.method === "POST") front.createTimes.push(arrivedAt);
    const answer = await pass(
      `${emulator.baseUrl}${path}`,
      incoming.method ?? "GET",
      headers,
      body || undefined,
    );
    const text = toFront(answer.text);
    response.writeHead(answer.status, { "content-type": answer.contentType });
    response.end(text);
    if (incoming.method === "GET") noteCompleted(text, "poll", Date.now());
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`provider front: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  front.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

async function readText(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function forwardedHeaders(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ["authorization", "content-type", "accept"]) {
    const value = incoming.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
