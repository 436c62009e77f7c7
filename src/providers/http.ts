// The resilient JSON-over-HTTP client every provider adapter uses. One pooled keep-alive undici
// Agent per provider (opened on the first request); bounded timeouts; zod-validated responses;
// retries that never cost money twice (the rules are in http-failures.ts, the waits in http-retry.ts).
import { Agent, type Dispatcher } from "undici";
import type { z } from "zod";
import { silentLogger } from "../log.ts";
import {
  bodyReadFailure,
  type Failure,
  type FailureContext,
  type HttpErrorResponse,
  invalidBody,
  networkFailure,
  type ProviderLogger,
  statusFailure,
  unreadableBody,
} from "./http-failures.ts";
import { type Clock, defaultRetryPolicy, nextDelay, type RetryPolicy, systemClock } from "./http-retry.ts";
import type { ProviderError } from "./types.ts";

export { type HttpErrorResponse, type ProviderLogger, redactExcerpt } from "./http-failures.ts";
export {
  backoffDelay,
  type Clock,
  defaultRetryPolicy,
  parseRetryAfter,
  type RetryPolicy,
  systemClock,
} from "./http-retry.ts";

export interface HttpTimeouts {
  connectMs: number;
  /** From the request being sent to the response headers. */
  headersMs: number;
  /** Longest silence while the body streams in. */
  bodyMs: number;
}

export const defaultTimeouts: HttpTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

export interface HttpClientOptions {
  /** Base URL; a path prefix (e.g. `https://host/mj`) is kept in front of every request path. */
  baseUrl: string;
  /** The provider's name as users know it, used in messages ("EvoLink"). */
  providerLabel: string;
  /** Sent with every request (e.g. Authorization). Never logged. */
  headers?: Record<string, string>;
  /** Values to scrub from every excerpt we log or show (the API key). */
  secrets?: string[];
  /** Maps a non-2xx response to an error; falls back to a status-based default when absent. */
  mapHttpError?: (response: HttpErrorResponse) => ProviderError | undefined;
  logger?: ProviderLogger;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  clock?: Partial<Clock>;
  /** Defaults to a keep-alive Agent owned (and closed) by this client. */
  dispatcher?: Dispatcher;
  /** Bodies above this size are refused (a JSON API has no business sending megabytes). */
  maxResponseBytes?: number;
}

export interface JsonRequest<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the base URL, starting with "/". */
  path: string;
  /** Serialised as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Validates the answer; an empty body is read as `null`. */
  schema: z.ZodType<T>;
  /** True when sending it twice is harmless. False for anything that starts (and bills) work. */
  idempotent: boolean;
  signal?: AbortSignal;
}

export interface HttpClient {
  requestJson<T>(request: JsonRequest<T>): Promise<T>;
  /** GET `path`: a read, retried on anything passing. */
  read<T>(path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T>;
  /** POST `body` to `path`: it starts (and bills) work, so it is re-sent only when surely not processed. */
  create<T>(path: string, body: unknown, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T>;
  /** Closes the pooled connections (only when the client created its own Agent). */
  close(): Promise<void>;
}

/** One attempt's outcome: a value, or a failure that says whether to try again. */
type Attempt<T> = { ok: true; value: T } | Failure;

class ResponseTooLargeError extends Error {}

async function readBody(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLargeError(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A body as JSON; an empty body is a complete answer meaning "nothing" (null). */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Everything one attempt needs, fixed when the client is made. */
interface Transport {
  origin: string;
  pathPrefix: string;
  headers: Record<string, string>;
  timeouts: HttpTimeouts;
  maxResponseBytes: number;
  dispatcher(): Dispatcher;
  failures: FailureContext;
}

/** A 2xx body checked against the request's schema. */
function validated<T>(transport: Transport, request: JsonRequest<T>, text: string): Attempt<T> {
  const parsed = parseJson(text);
  if (!parsed.ok) return unreadableBody(transport.failures, request, text);
  const result = request.schema.safeParse(parsed.value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "schema mismatch";
  return invalidBody(transport.failures, request, `unexpected response shape (${where})`, text);
}

async function attemptOnce<T>(transport: Transport, request: JsonRequest<T>): Promise<Attempt<T>> {
  const headers: Record<string, string> = { ...transport.headers, ...request.headers };
  const payload = request.body === undefined ? null : JSON.stringify(request.body);
  if (payload !== null) headers["content-type"] = "application/json";
  let response: Dispatcher.ResponseData;
  try {
    response = await transport.dispatcher().request({
      origin: transport.origin,
      path: transport.pathPrefix + request.path,
      method: request.method,
      headers,
      body: payload,
      signal: request.signal ?? null,
      idempotent: request.idempotent,
      headersTimeout: transport.timeouts.headersMs,
      bodyTimeout: transport.timeouts.bodyMs,
    });
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    return networkFailure(transport.failures, request, error);
  }
  let text: string;
  try {
    text = await readBody(response.body, transport.maxResponseBytes);
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (error instanceof ResponseTooLargeError)
      return invalidBody(transport.failures, request, error.message, "");
    return bodyReadFailure(transport.failures, request, response.statusCode, error);
  }
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode < 300) return validated(transport, request, text);
  const body = parseJson(text);
  return statusFailure(
    transport.failures,
    request,
    statusCode,
    response.headers["retry-after"],
    text,
    body.ok && body.value !== null ? body.value : undefined,
  );
}

/** The options' dispatcher, or a keep-alive Agent of our own, opened on first use. */
function pooledDispatcher(given: Dispatcher | undefined, timeouts: HttpTimeouts) {
  let owned: Agent | undefined;
  return {
    get: (): Dispatcher => {
      if (given) return given;
      owned ??= new Agent({
        connectTimeout: timeouts.connectMs,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        keepAliveTimeout: 30_000,
        connections: 16,
      });
      return owned;
    },
    /** Closes only an Agent this client opened. */
    close: async (): Promise<void> => {
      await owned?.close();
      owned = undefined;
    },
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const logger = options.logger ?? silentLogger;
  const timeouts: HttpTimeouts = { ...defaultTimeouts, ...options.timeouts };
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const clock: Clock = { ...systemClock, ...options.clock };
  const base = new URL(options.baseUrl);
  const pool = pooledDispatcher(options.dispatcher, timeouts);
  const transport: Transport = {
    origin: base.origin,
    pathPrefix: base.pathname.replace(/\/+$/, ""),
    headers: { accept: "application/json", ...options.headers },
    timeouts,
    maxResponseBytes: options.maxResponseBytes ?? 4 * 1024 * 1024,
    dispatcher: pool.get,
    failures: {
      label: options.providerLabel,
      logger,
      secrets: options.secrets ?? [],
      maxRetryAfterMs: policy.maxRetryAfterMs,
      now: () => clock.now(),
      mapHttpError: options.mapHttpError,
    },
  };

  async function requestJson<T>(request: JsonRequest<T>): Promise<T> {
    const startedAt = clock.now();
    for (let attempt = 1; ; attempt += 1) {
      request.signal?.throwIfAborted();
      const outcome = await attemptOnce(transport, request);
      if (outcome.ok) return outcome.value;
      const delay = outcome.retriable
        ? nextDelay(attempt, startedAt, outcome.retryAfterMs, policy, clock)
        : undefined;
      if (delay === undefined) throw outcome.error;
      logger.debug(`${options.providerLabel}: retrying ${request.method} ${request.path}`, {
        attempt,
        delayMs: delay,
        reason: outcome.error.code ?? outcome.error.kind,
      });
      await clock.sleep(delay, request.signal);
    }
  }

  return {
    requestJson,
    read: (path, schema, signal) => requestJson({ method: "GET", path, schema, idempotent: true, signal }),
    create: (path, body, schema, signal) =>
      requestJson({ method: "POST", path, body, schema, idempotent: false, signal }),
    close: pool.close,
  };
}
