// The resilient JSON-over-HTTP client every provider adapter uses. One pooled keep-alive undici
// Agent per provider; bounded timeouts; zod-validated responses; retries that never cost money twice:
// reads retry on any transient failure, creates only when the server says it did not process them.
import { setTimeout as sleepFor } from "node:timers/promises";
import { Agent, type Dispatcher } from "undici";
import type { z } from "zod";
import { type Logger, silentLogger } from "../log.ts";
import { ProviderError, type ProviderErrorKind } from "./types.ts";

/** The part of the app's logger the providers use: any object with `warn` and `debug` will do. */
export type ProviderLogger = Pick<Logger, "warn" | "debug">;

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt ("full jitter": the wait is random below it). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt. */
  maxTotalMs: number;
  /** Longest `Retry-After` we honour; longer values are shortened to this. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxTotalMs: 30_000,
  maxRetryAfterMs: 20_000,
};

export interface HttpTimeouts {
  connectMs: number;
  /** From the request being sent to the response headers. */
  headersMs: number;
  /** Longest silence while the body streams in. */
  bodyMs: number;
}

export const defaultTimeouts: HttpTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

/** Time, waiting and randomness, injectable so backoff is tested without the wall clock. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleepFor(ms, undefined, signal ? { signal } : undefined);
  },
  random: () => Math.random(),
};

/** A non-2xx response, handed to the adapter so it can name the problem in its provider's terms. */
export interface HttpErrorResponse {
  status: number;
  method: string;
  path: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** A short, secret-free excerpt of the raw body. */
  excerpt: string;
  idempotent: boolean;
}

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
  /** Defaults to a new keep-alive Agent owned (and closed) by this client. */
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
  schema: z.ZodType<T>;
  /** True when sending it twice is harmless. False for anything that starts (and bills) work. */
  idempotent: boolean;
  signal?: AbortSignal;
}

export interface HttpClient {
  requestJson<T>(request: JsonRequest<T>): Promise<T>;
  /** Closes the pooled connections (only when the client created its own Agent). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests)

/** `Retry-After` as milliseconds from `nowMs`: delay-seconds or an HTTP date; undefined if unusable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Exponential backoff with full jitter: uniformly random below min(max, base·2^(attempt-1)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

const bearerPattern = /(bearer\s+)[^\s"',;]+/gi;
const authFieldPattern =
  /((?:authorization|api[-_]?key|mj-api-secret|token|secret)"?\s*[:=]\s*"?)[^\s"',;}]+/gi;
const keyLikePattern = /\b(sk|key|tok)[-_][A-Za-z0-9_-]{12,}\b/g;

/** A one-line, ≤ `max` characters excerpt with secrets and anything key-like removed. */
export function redactExcerpt(text: string, secrets: readonly string[] = [], max = 200): string {
  let cleaned = text;
  for (const secret of secrets) {
    if (secret.length >= 4) cleaned = cleaned.replaceAll(secret, "[redacted]");
  }
  cleaned = cleaned
    .replace(bearerPattern, "$1[redacted]")
    .replace(authFieldPattern, "$1[redacted]")
    .replace(keyLikePattern, "[redacted]")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: log lines must stay on one line
    .replace(/[\u0000-\u001f\u007f]+/g, " ");
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** Statuses after which a read is worth another try. */
const retriableReadStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Statuses that promise the request was NOT processed, so even a create may be sent again. */
const notProcessedStatuses = new Set([429, 503]);

/** Errors raised before any byte of the request left this machine. */
const connectPhaseCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const timeoutCodes = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Connection errors to several addresses (happy eyeballs) arrive as an AggregateError.
  const inner = (error as { errors?: unknown[] }).errors?.[0];
  return inner === undefined ? undefined : errorCode(inner);
}

function defaultStatusError(label: string, response: HttpErrorResponse): ProviderError {
  const { status } = response;
  const kind: ProviderErrorKind =
    status === 401 || status === 403
      ? "auth"
      : status === 402
        ? "quota"
        : status === 429 || status >= 500 || status === 408
          ? "transient"
          : status >= 400 && status < 500
            ? "invalid"
            : "internal";
  return new ProviderError(kind, `${label} answered HTTP ${status} to ${response.method} ${response.path}.`, {
    code: String(status),
  });
}

/** Re-issues an error for a create that may have been processed, with advice not to re-run it. */
function asMaybeSubmitted(label: string, error: ProviderError, what: string): ProviderError {
  return new ProviderError(
    error.kind,
    `${what} after the request reached ${label}, so the image may have started anyway (and may be billed). ` +
      "Don't re-run it blindly: wait a few minutes for the result or tell an admin.",
    { code: error.code, reason: error.reason, maybeSubmitted: true, cause: error },
  );
}

// ---------------------------------------------------------------------------------------------

/** One attempt's outcome: a value, or an error plus whether (and after how long) to try again. */
type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; error: ProviderError; retriable: boolean; retryAfterMs?: number };

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

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const label = options.providerLabel;
  const logger = options.logger ?? silentLogger;
  const secrets = options.secrets ?? [];
  const timeouts: HttpTimeouts = { ...defaultTimeouts, ...options.timeouts };
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const clock: Clock = { ...systemClock, ...options.clock };
  const maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  const pathPrefix = base.pathname.replace(/\/+$/, "");
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Agent({
      connectTimeout: timeouts.connectMs,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      keepAliveTimeout: 30_000,
      connections: 16,
    });

  const excerptOf = (text: string) => redactExcerpt(text, secrets);

  function networkFailure<T>(request: JsonRequest<T>, error: unknown): Attempt<T> {
    const code = errorCode(error) ?? "unknown";
    const where = `${request.method} ${request.path}`;
    if (connectPhaseCodes.has(code)) {
      // Nothing was sent: safe to try again for creates too.
      const failure = new ProviderError("transient", `Could not connect to ${label} (${code}).`, {
        code,
        cause: error,
      });
      return { ok: false, error: failure, retriable: true };
    }
    const isTimeout = timeoutCodes.has(code);
    const failure = new ProviderError(
      isTimeout ? "timeout" : "transient",
      isTimeout
        ? `${label} did not answer ${where} in time (${code}).`
        : `The connection to ${label} failed during ${where} (${code}).`,
      { code, cause: error },
    );
    if (request.idempotent) return { ok: false, error: failure, retriable: true };
    const what = isTimeout ? `${label} did not answer in time` : `The connection to ${label} broke`;
    return { ok: false, error: asMaybeSubmitted(label, failure, what), retriable: false };
  }

  function invalidBody<T>(request: JsonRequest<T>, problem: string, text: string): Attempt<T> {
    // One line, short and secret-free: enough to recognise the body, never the request headers.
    logger.warn(`${label}: ${problem} from ${request.method} ${request.path}`, { excerpt: excerptOf(text) });
    const failure = new ProviderError("internal", `${label} sent a response Atelier could not understand.`, {
      code: "bad_response",
    });
    // A create that got a 2xx was processed even though we cannot read its task id.
    if (request.idempotent) return { ok: false, error: failure, retriable: false };
    return {
      ok: false,
      error: asMaybeSubmitted(label, failure, `${label}'s answer was unreadable`),
      retriable: false,
    };
  }

  function statusFailure<T>(
    request: JsonRequest<T>,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
  ): Attempt<T> {
    const parsed = parseJson(text);
    const response: HttpErrorResponse = {
      status,
      method: request.method,
      path: request.path,
      body: parsed.ok ? parsed.value : undefined,
      excerpt: excerptOf(text),
      idempotent: request.idempotent,
    };
    const mapped = options.mapHttpError?.(response) ?? defaultStatusError(label, response);
    const retryAfterHeader = parseRetryAfter(headers["retry-after"], clock.now());
    const retryAfterMs =
      retryAfterHeader === undefined ? undefined : Math.min(retryAfterHeader, policy.maxRetryAfterMs);
    if (request.idempotent) {
      return { ok: false, error: mapped, retriable: retriableReadStatuses.has(status), retryAfterMs };
    }
    if (notProcessedStatuses.has(status)) return { ok: false, error: mapped, retriable: true, retryAfterMs };
    if (status >= 500) {
      return {
        ok: false,
        error: asMaybeSubmitted(label, mapped, `${label} failed (HTTP ${status})`),
        retriable: false,
      };
    }
    return { ok: false, error: mapped, retriable: false };
  }

  async function attemptOnce<T>(request: JsonRequest<T>): Promise<Attempt<T>> {
    const headers: Record<string, string> = {
      accept: "application/json",
      ...options.headers,
      ...request.headers,
    };
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers["content-type"] = "application/json";
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin,
        path: pathPrefix + request.path,
        method: request.method,
        headers,
        body: payload ?? null,
        signal: request.signal ?? null,
        idempotent: request.idempotent,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      return networkFailure(request, error);
    }

    let text: string;
    try {
      text = await readBody(response.body, maxResponseBytes);
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      if (error instanceof ResponseTooLargeError) return invalidBody(request, error.message, "");
      return bodyReadFailure(request, response.statusCode, error);
    }

    if (response.statusCode < 200 || response.statusCode >= 300) {
      return statusFailure(request, response.statusCode, response.headers, text);
    }
    const parsed = parseJson(text);
    if (!parsed.ok) return invalidBody(request, "malformed JSON", text);
    const validated = request.schema.safeParse(parsed.value);
    if (!validated.success) {
      const issue = validated.error.issues[0];
      const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "schema mismatch";
      return invalidBody(request, `unexpected response shape (${where})`, text);
    }
    return { ok: true, value: validated.data };
  }

  /** The headers arrived but the body broke off (a cut connection, a truncated reply). */
  function bodyReadFailure<T>(request: JsonRequest<T>, status: number, error: unknown): Attempt<T> {
    const code = errorCode(error) ?? "unknown";
    logger.warn(`${label}: response body broke off from ${request.method} ${request.path}`, { status, code });
    if (request.idempotent) {
      const failure = new ProviderError("transient", `The answer from ${label} was cut off (${code}).`, {
        code,
        cause: error,
      });
      return { ok: false, error: failure, retriable: true };
    }
    const failure = new ProviderError("internal", `${label} sent an incomplete response (${code}).`, {
      code,
      cause: error,
    });
    if (status < 200 || status >= 300) return { ok: false, error: failure, retriable: false };
    return {
      ok: false,
      error: asMaybeSubmitted(label, failure, `${label}'s answer was cut off`),
      retriable: false,
    };
  }

  /** How long to wait before the next attempt, or undefined to give up now. */
  function nextDelay(
    attempt: number,
    startedAt: number,
    retryAfterMs: number | undefined,
  ): number | undefined {
    if (attempt >= policy.maxAttempts) return undefined;
    const delay = retryAfterMs ?? backoffDelay(attempt, policy, clock.random);
    if (clock.now() - startedAt + delay > policy.maxTotalMs) return undefined;
    return delay;
  }

  async function requestJson<T>(request: JsonRequest<T>): Promise<T> {
    const startedAt = clock.now();
    for (let attempt = 1; ; attempt += 1) {
      request.signal?.throwIfAborted();
      const outcome = await attemptOnce(request);
      if (outcome.ok) return outcome.value;
      const delay = outcome.retriable ? nextDelay(attempt, startedAt, outcome.retryAfterMs) : undefined;
      if (delay === undefined) throw outcome.error;
      logger.debug(`${label}: retrying ${request.method} ${request.path}`, {
        attempt,
        delayMs: delay,
        reason: outcome.error.code ?? outcome.error.kind,
      });
      await clock.sleep(delay, request.signal);
    }
  }

  return {
    requestJson,
    close: async () => {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
