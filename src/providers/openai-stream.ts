// Sending one image request to OpenAI and reading its answer as server-sent events. The shared HTTP
// client (http.ts) speaks JSON only; this sends JSON or multipart and hands back the open stream,
// under the same rules: failures judged by http-failures.ts (a create is sent again only when OpenAI
// cannot have processed it), waits from http-retry.ts, and no key in any excerpt.
import { Agent, type Dispatcher, FormData } from "undici";
import type { HttpTimeouts } from "./http.ts";
import {
  type Failure,
  type FailureContext,
  type HttpErrorResponse,
  networkFailure,
  type ProviderLogger,
  type RequestLine,
  statusFailure,
} from "./http-failures.ts";
import { type Clock, defaultRetryPolicy, nextDelay, type RetryPolicy, systemClock } from "./http-retry.ts";
import type { ProviderError } from "./types.ts";

export { FormData };

/** One server-sent event: its name (when given) and its data lines joined. */
export interface SseMessage {
  event?: string;
  data: string;
}

/** A request OpenAI has taken: its id (`x-request-id`) and the events to come. */
export interface OpenedStream {
  requestId?: string;
  messages: AsyncIterable<SseMessage>;
}

export interface StreamTransportOptions {
  /** Base URL with its path prefix, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  label: string;
  /** Sent with every request (Authorization). Never logged. */
  headers: Record<string, string>;
  secrets: readonly string[];
  logger: ProviderLogger;
  mapHttpError: (response: HttpErrorResponse) => ProviderError;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  clock?: Partial<Clock>;
  dispatcher?: Dispatcher;
}

export interface StreamTransport {
  /** POSTs `body` (JSON, or multipart as FormData); resolves once OpenAI answers 2xx with its stream. */
  open(path: string, body: Record<string, unknown> | FormData, signal?: AbortSignal): Promise<OpenedStream>;
  close(): Promise<void>;
}

/**
 * Streams can be silent for a long time (OpenAI: complex prompts take up to two minutes, and with
 * few partial images there is nothing to send meanwhile), so the idle limit is far above http.ts's.
 */
export const streamTimeouts: HttpTimeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 300_000 };

/** One event may carry a base64 image of up to 3840×2160; more than this is not an image event. */
const maxEventChars = 96 * 1024 * 1024;
/** An error answer is short; more is not read. */
const maxErrorBytes = 256 * 1024;

export class StreamCutError extends Error {}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a short (error) body; a body that breaks off is whatever arrived. */
async function readShort(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      size += (chunk as Uint8Array).length;
      if (size > maxErrorBytes) break;
    }
  } catch {
    // The status already says what happened.
  }
  body.destroy();
  return Buffer.concat(chunks).toString("utf8");
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One block between blank lines, as the EventSource rules read it (comments and ids ignored). */
function parseBlock(block: string): SseMessage | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event, data: data.join("\n") } : undefined;
}

/** The events of a text/event-stream body; throws StreamCutError when it ends inside an event. */
export async function* sseMessages(body: AsyncIterable<unknown> & { destroy(): unknown }) {
  const decoder = new TextDecoder();
  const boundary = /\r?\n\r?\n/g;
  let buffer = "";
  for await (const chunk of body) {
    const scanFrom = Math.max(0, buffer.length - 3);
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    if (buffer.length > maxEventChars) {
      body.destroy();
      throw new StreamCutError(`an event larger than ${maxEventChars} characters`);
    }
    boundary.lastIndex = scanFrom;
    let start = 0;
    for (let match = boundary.exec(buffer); match; match = boundary.exec(buffer)) {
      const message = parseBlock(buffer.slice(start, match.index));
      start = match.index + match[0].length;
      if (message) yield message;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.decode();
  const last = parseBlock(buffer);
  if (last) throw new StreamCutError("the stream ended inside an event");
}

/** A plain JSON answer (a proxy that does not stream): its images as `completed` events. */
async function* jsonMessages(body: Dispatcher.ResponseData["body"]): AsyncGenerator<SseMessage> {
  const parsed = (await body.json()) as {
    data?: { b64_json?: string }[];
    output_format?: string;
    usage?: unknown;
  };
  for (const [index, image] of (parsed.data ?? []).entries()) {
    const data = {
      type: "image_generation.completed",
      b64_json: image.b64_json,
      output_format: parsed.output_format,
      ...(index === 0 ? { usage: parsed.usage } : {}),
    };
    yield { event: data.type, data: JSON.stringify(data) };
  }
}

/** What one attempt needs, fixed when the transport is made. */
interface Connection {
  base: URL;
  pathPrefix: string;
  headers: Record<string, string>;
  timeouts: HttpTimeouts;
  dispatcher(): Dispatcher;
  failures: FailureContext;
}

type Body = Record<string, unknown> | FormData;

/** The 2xx answer as events: a stream, or a proxy's plain JSON read as `completed` events. */
function opened(response: Dispatcher.ResponseData): OpenedStream {
  const { headers, body } = response;
  const isJson = headerValue(headers["content-type"])?.includes("application/json") ?? false;
  return {
    requestId: headerValue(headers["x-request-id"]),
    messages: isJson ? jsonMessages(body) : sseMessages(body),
  };
}

/** One POST: the opened stream, or a failure judged by the shared rules. */
async function attempt(
  connection: Connection,
  line: RequestLine,
  body: Body,
  signal?: AbortSignal,
): Promise<{ ok: true; value: OpenedStream } | Failure> {
  const multipart = body instanceof FormData;
  const headers: Record<string, string> = { ...connection.headers, accept: "text/event-stream" };
  if (!multipart) headers["content-type"] = "application/json";
  let response: Dispatcher.ResponseData;
  try {
    response = await connection.dispatcher().request({
      origin: connection.base.origin,
      path: connection.pathPrefix + line.path,
      method: "POST",
      headers,
      body: multipart ? body : JSON.stringify(body),
      signal: signal ?? null,
      idempotent: false,
      headersTimeout: connection.timeouts.headersMs,
      bodyTimeout: connection.timeouts.bodyMs,
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    return networkFailure(connection.failures, line, error);
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true, value: opened(response) };
  const text = await readShort(response.body);
  const retryAfter = response.headers["retry-after"];
  const failure = statusFailure(
    connection.failures,
    line,
    response.statusCode,
    retryAfter,
    text,
    jsonOrUndefined(text),
  );
  // A 429 is re-sent (OpenAI did not process it), but an account out of credit stays out of credit.
  return failure.error.kind === "quota" ? { ...failure, retriable: false } : failure;
}

export function createStreamTransport(options: StreamTransportOptions): StreamTransport {
  const timeouts: HttpTimeouts = { ...streamTimeouts, ...options.timeouts };
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const clock: Clock = { ...systemClock, ...options.clock };
  const base = new URL(options.baseUrl);
  let owned: Agent | undefined;
  const connection: Connection = {
    base,
    pathPrefix: base.pathname.replace(/\/+$/, ""),
    headers: options.headers,
    timeouts,
    dispatcher: () => {
      if (options.dispatcher) return options.dispatcher;
      owned ??= new Agent({
        connectTimeout: timeouts.connectMs,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        keepAliveTimeout: 30_000,
        connections: 16,
      });
      return owned;
    },
    failures: {
      label: options.label,
      logger: options.logger,
      secrets: options.secrets,
      maxRetryAfterMs: policy.maxRetryAfterMs,
      now: () => clock.now(),
      mapHttpError: options.mapHttpError,
    },
  };
  return {
    async open(path, body, signal) {
      const line: RequestLine = { method: "POST", path, idempotent: false };
      const startedAt = clock.now();
      for (let tries = 1; ; tries += 1) {
        signal?.throwIfAborted();
        const outcome = await attempt(connection, line, body, signal);
        if (outcome.ok) return outcome.value;
        const wait = outcome.retriable
          ? nextDelay(tries, startedAt, outcome.retryAfterMs, policy, clock)
          : undefined;
        if (wait === undefined) throw outcome.error;
        options.logger.debug(`${options.label}: sending ${path} again`, {
          attempt: tries,
          delayMs: wait,
          reason: outcome.error.code ?? outcome.error.kind,
        });
        await clock.sleep(wait, signal);
      }
    },
    close: async () => {
      await owned?.close();
      owned = undefined;
    },
  };
}
