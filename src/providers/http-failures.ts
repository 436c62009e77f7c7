// What went wrong with one HTTP attempt, in Atelier's terms, and whether trying again is safe: reads
// retry on anything passing (a 5xx, a 429, a cut or garbled answer), creates only when the server
// promises it did not process them; a create that may have started says so and is never re-sent.
import type { Logger } from "../log.ts";
import { parseRetryAfter } from "./http-retry.ts";
import { ProviderError, type ProviderErrorKind } from "./types.ts";

/** The part of the app's logger the providers use: any object with `warn` and `debug` will do. */
export type ProviderLogger = Pick<Logger, "warn" | "debug">;

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

/** The request an attempt was for, as far as judging its failure goes. */
export interface RequestLine {
  method: string;
  path: string;
  /** True when sending it twice is harmless (reads); false for anything that starts (and bills) work. */
  idempotent: boolean;
}

/** A failed attempt: the error, and whether (and after how long) to try again. */
export interface Failure {
  ok: false;
  error: ProviderError;
  retriable: boolean;
  retryAfterMs?: number;
}

/** What the failure rules need to know about the client. */
export interface FailureContext {
  /** The provider's name as users know it ("EvoLink"). */
  label: string;
  logger: ProviderLogger;
  /** Values scrubbed from every excerpt (the API key). */
  secrets: readonly string[];
  maxRetryAfterMs: number;
  now(): number;
  mapHttpError?: (response: HttpErrorResponse) => ProviderError | undefined;
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

/** The request never got an answer: refused, timed out or reset. */
export function networkFailure(context: FailureContext, request: RequestLine, error: unknown): Failure {
  const { label } = context;
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

/** The headers arrived but the body broke off (a cut connection). */
export function bodyReadFailure(
  context: FailureContext,
  request: RequestLine,
  status: number,
  error: unknown,
): Failure {
  const { label } = context;
  const code = errorCode(error) ?? "unknown";
  context.logger.warn(`${label}: response body broke off from ${request.method} ${request.path}`, {
    status,
    code,
  });
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

/** A 2xx whose body is not JSON at all (garbled, or cut short under a matching length). */
export function unreadableBody(context: FailureContext, request: RequestLine, text: string): Failure {
  // A create that got a 2xx was processed even though we cannot read its task id: never re-sent.
  if (!request.idempotent) return invalidBody(context, request, "unreadable JSON", text);
  const { label } = context;
  context.logger.warn(`${label}: unreadable JSON from ${request.method} ${request.path}`, {
    excerpt: redactExcerpt(text, context.secrets),
  });
  // Like a 5xx: the task behind a poll is fine, the answer just did not arrive whole.
  const failure = new ProviderError("transient", `The answer from ${label} was cut off or garbled.`, {
    code: "unreadable_response",
  });
  return { ok: false, error: failure, retriable: true };
}

/**
 * A 2xx Atelier cannot use: JSON that is not what the protocol says, or too large (retrying will not
 * fix either), or, on a create, not JSON at all.
 */
export function invalidBody(
  context: FailureContext,
  request: RequestLine,
  problem: string,
  text: string,
): Failure {
  const { label } = context;
  // One line, short and secret-free: enough to recognise the body, never the request headers.
  context.logger.warn(`${label}: ${problem} from ${request.method} ${request.path}`, {
    excerpt: redactExcerpt(text, context.secrets),
  });
  const failure = new ProviderError("internal", `${label} sent a response Atelier could not understand.`, {
    code: "bad_response",
  });
  if (request.idempotent) return { ok: false, error: failure, retriable: false };
  return {
    ok: false,
    error: asMaybeSubmitted(label, failure, `${label}'s answer was unreadable`),
    retriable: false,
  };
}

/** A non-2xx answer: the adapter names it, the status and the request kind decide on a retry. */
export function statusFailure(
  context: FailureContext,
  request: RequestLine,
  status: number,
  retryAfter: string | string[] | undefined,
  text: string,
  body: unknown,
): Failure {
  const { label } = context;
  const response: HttpErrorResponse = {
    status,
    method: request.method,
    path: request.path,
    body,
    excerpt: redactExcerpt(text, context.secrets),
    idempotent: request.idempotent,
  };
  const mapped = context.mapHttpError?.(response) ?? defaultStatusError(label, response);
  const retryAfterHeader = parseRetryAfter(retryAfter, context.now());
  const retryAfterMs =
    retryAfterHeader === undefined ? undefined : Math.min(retryAfterHeader, context.maxRetryAfterMs);
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
