// HTTP plumbing shared by the provider emulators: the recorded traffic, injected faults (and how the
// mjapi and midjourney-proxy emulators send them), loopback webhooks, JSON bodies and the server's
// life cycle. Protocol details (routes, error bodies, task life) stay in each emulator.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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
  /** The status sent (undefined when the connection was cut before the headers). */
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

/** Where a task stops when `neverFinish` is set: "93%" running, or never leaving the queue. */
export type StuckAt = false | "in-progress" | "submitted";

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
  /** Process the request (create the task, charge it) and only then answer with the failure. */
  afterProcessing?: boolean;
}

/** What every emulator's handle offers, whatever the protocol. */
export interface EmulatorHandle<Knobs> {
  /** Base URL as a user would configure it. */
  baseUrl: string;
  requests: RecordedRequest[];
  knobs: Knobs;
  /** The next `count` matching API requests answer `status` (429/5xx bursts). */
  failNext(count: number, status: number, options?: FailOptions): void;
  /** The next matching API request is processed, then answered 200 with text that is not JSON. */
  malformedNext(options?: FaultOptions): void;
  /** The next matching API request is processed, then only half of its JSON is sent. */
  truncateNext(options?: FaultOptions): void;
  /**
   * The next `count` task polls (GET) are processed, then answered with only half of their JSON:
   * what a proxy or a flaky link cutting answers short looks like while a task runs.
   */
  truncatePolls(count: number): void;
  /** Drops injected faults no request has taken yet (so none leaks into the next test). */
  clearFaults(): void;
  /** API requests seen so far (not result images), optionally by method. */
  apiRequests(method?: string): RecordedRequest[];
  /** Ids of every task created so far, oldest first. */
  taskIds(): string[];
  stop(): Promise<void>;
}

export type Fault =
  | ({ kind: "fail"; status: number } & FailOptions)
  | ({ kind: "malformed" } & FaultOptions)
  | ({ kind: "truncate" } & FaultOptions);

/** Injected faults waiting for the next matching request; `Extra` adds an emulator's own kinds. */
export class FaultQueue<Extra extends FaultOptions = never> {
  private readonly pending: (Fault | Extra)[] = [];

  // Bound, so an emulator's handle can hand them out as they are.
  readonly failNext = (count: number, status: number, options: FailOptions = {}): void => {
    for (let i = 0; i < count; i += 1) this.pending.push({ kind: "fail", status, ...options });
  };

  readonly malformedNext = (options: FaultOptions = {}): void => {
    this.pending.push({ kind: "malformed", ...options });
  };

  readonly truncateNext = (options: FaultOptions = {}, count = 1): void => {
    for (let i = 0; i < count; i += 1) this.pending.push({ kind: "truncate", ...options });
  };

  readonly truncatePolls = (count: number): void => {
    this.truncateNext({ method: "GET" }, count);
  };

  readonly clearFaults = (): void => {
    this.pending.length = 0;
  };

  /** Queues a fault of the emulator's own kind. */
  add(fault: Extra): void {
    this.pending.push(fault);
  }

  /** Removes and returns the first fault matching this request. */
  take(method: string, path: string): Fault | Extra | undefined {
    const index = this.pending.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.path === undefined || path.startsWith(fault.path)),
    );
    return index < 0 ? undefined : this.pending.splice(index, 1)[0];
  }
}

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

/** A request body as JSON; the raw text when it is not JSON, undefined when empty. */
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

/** One emulated API as the shared request flow of `serveApi` sees it. */
export interface EmulatedApi {
  /** Where the API sits below the origin, e.g. "/v1": routes and faults see the path without it. */
  prefix: string;
  /** Whether the request carries the auth header, and whether it is accepted. */
  authorize(request: IncomingMessage): { hasAuthHeader: boolean; authorized: boolean };
  /** The answer to an authorized API request (its POST body, if any, is JSON). */
  answer(method: string, path: string, body: unknown): Reply;
  /** Serves what is not recorded API traffic (result images); false when `pathname` is not one. */
  serveFile(pathname: string, response: ServerResponse): Promise<boolean>;
  /** The protocol's answers to a path outside `prefix`, a missing or wrong key, a body that is not JSON. */
  notFound: Reply;
  unauthorized: Reply;
  notJson: Reply;
  /** The body of the 500 sent when handling a request threw. */
  crashBody(error: unknown): unknown;
}

/** What `serveApi` hands back: the origin and the handle fields every emulator built on it shares. */
export interface ServedApi {
  origin: string;
  handle: Omit<EmulatorHandle<unknown>, "baseUrl" | "knobs" | "taskIds">;
}

/**
 * Serves `api` on a random loopback port: records each API request, applies injected faults (a
 * failure before processing never reaches `answer`) and sends the result with `sendReply`.
 * `stop` also clears the emulator's `timers`.
 */
export async function serveApi(api: EmulatedApi, timers: Set<NodeJS.Timeout>): Promise<ServedApi> {
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue();
  const apiRoot = `${api.prefix}/`;

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { pathname } = new URL(request.url ?? "/", "http://emulator");
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    const body = parseBody(raw);
    if (await api.serveFile(pathname, response)) return;
    const { hasAuthHeader, authorized } = api.authorize(request);
    const record: RecordedRequest = { method, path: pathname, body, hasAuthHeader, authorized };
    requests.push(record);
    const inApi = pathname.startsWith(apiRoot);
    const path = inApi ? pathname.slice(api.prefix.length) : pathname;
    const fault = faults.take(method, path);
    if (fault?.kind === "fail" && !fault.afterProcessing) {
      sendReply(response, record, notProcessed, fault);
      return;
    }
    let reply: Reply;
    if (!inApi) reply = api.notFound;
    else if (!authorized) reply = api.unauthorized;
    else if (method === "POST" && raw !== "" && body === raw) reply = api.notJson;
    else reply = api.answer(method, path, body);
    sendReply(response, record, reply, fault);
  }

  const server = createServer((request, response) => {
    respond(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, api.crashBody(error));
      else response.destroy();
    });
  });
  return {
    origin: await listen(server),
    handle: {
      requests,
      failNext: faults.failNext,
      malformedNext: faults.malformedNext,
      truncateNext: faults.truncateNext,
      truncatePolls: faults.truncatePolls,
      clearFaults: faults.clearFaults,
      apiRequests: (method) =>
        requests.filter((request) => method === undefined || request.method === method),
      stop: () => closeServer(server, timers),
    },
  };
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

/** Clears the emulator's pending timers, cuts open connections and closes the server. */
export function closeServer(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
