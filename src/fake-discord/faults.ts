/** Which requests a fault applies to; omitted fields match everything. */
export interface RequestMatcher {
  /** Tested against the decoded API path without `/api/v10`, e.g. `/webhooks/1/tok/messages/@original`. */
  route?: RegExp;
  method?: string;
}

export interface RateLimitOptions extends RequestMatcher {
  retryAfterMs?: number;
  /** Global limits block every request of the client, not only this bucket. */
  global?: boolean;
}

export interface FailureOptions extends RequestMatcher {
  status: number;
  body?: unknown;
}

export interface FaultResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface FaultRule {
  matcher: RequestMatcher;
  remaining: number;
  respond: () => FaultResponse;
}

const DEFAULT_RETRY_AFTER_MS = 100;

interface Outage {
  matcher: RequestMatcher;
  until: number;
  status: number;
}

/** Injected failures for the next N matching REST requests (rate limits, server errors, anything). */
export class FaultInjector {
  #rules: FaultRule[] = [];
  #outages: Outage[] = [];
  #holds: RequestMatcher[] = [];

  /** Every matching request answers `status` for the next `ms` milliseconds (an outage). */
  failFor(ms: number, options: FailureOptions): void {
    const { status, body: _body, ...matcher } = options;
    this.#outages.push({ matcher, until: Date.now() + ms, status });
  }

  /**
   * The next matching request is carried out (a message is created, say) but its answer never
   * leaves: what the client sees when the process dies right after Discord acted.
   */
  holdNextAnswer(options: RequestMatcher): void {
    this.#holds.push(options);
  }

  /** Whether this request's answer is to be held back (consumes the rule). */
  takeHold(method: string, path: string): boolean {
    const index = this.#holds.findIndex((matcher) => matches(matcher, method, path));
    if (index < 0) return false;
    this.#holds.splice(index, 1);
    return true;
  }

  rateLimitNext(count: number, options: RateLimitOptions = {}): void {
    const { retryAfterMs = DEFAULT_RETRY_AFTER_MS, global = false, ...matcher } = options;
    this.#add(count, matcher, () => rateLimitResponse(retryAfterMs, global));
  }

  failNext(count: number, options: FailureOptions): void {
    const { status, body, ...matcher } = options;
    this.#add(count, matcher, () => ({
      status,
      headers: {},
      body: body ?? { code: 0, message: `${status}: injected failure` },
    }));
  }

  /** The fault to answer with, consuming one use of the first matching rule. */
  take(method: string, path: string): FaultResponse | undefined {
    const now = Date.now();
    this.#outages = this.#outages.filter((outage) => outage.until > now);
    const outage = this.#outages.find((candidate) => matches(candidate.matcher, method, path));
    if (outage)
      return {
        status: outage.status,
        headers: {},
        body: { code: 0, message: `${outage.status}: injected outage` },
      };
    const rule = this.#rules.find(
      (candidate) => candidate.remaining > 0 && matches(candidate.matcher, method, path),
    );
    if (!rule) return undefined;
    rule.remaining--;
    this.#rules = this.#rules.filter((candidate) => candidate.remaining > 0);
    return rule.respond();
  }

  get pending(): number {
    return this.#rules.reduce((sum, rule) => sum + rule.remaining, 0);
  }

  clear(): void {
    this.#rules = [];
    this.#outages = [];
    this.#holds = [];
  }

  #add(count: number, matcher: RequestMatcher, respond: () => FaultResponse): void {
    if (count > 0) this.#rules.push({ matcher, remaining: count, respond });
  }
}

function matches(matcher: RequestMatcher, method: string, path: string): boolean {
  if (matcher.method !== undefined && matcher.method.toUpperCase() !== method.toUpperCase()) return false;
  if (matcher.route === undefined) return true;
  matcher.route.lastIndex = 0; // a /g or /y regex would otherwise carry state between requests
  return matcher.route.test(path);
}

/**
 * A 429 shaped like Discord's: `Retry-After` in seconds (fractional, so @discordjs/rest waits only
 * `retryAfterMs`), the X-RateLimit-* headers, and `{ message, retry_after, global }`. No
 * `X-RateLimit-Bucket`: a made-up bucket hash would make @discordjs/rest regroup unrelated routes.
 */
function rateLimitResponse(retryAfterMs: number, global: boolean): FaultResponse {
  const seconds = retryAfterMs / 1000;
  const headers: Record<string, string> = {
    "retry-after": String(seconds),
    "x-ratelimit-limit": "5",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset": String((Date.now() + retryAfterMs) / 1000),
    "x-ratelimit-reset-after": String(seconds),
    "x-ratelimit-scope": global ? "global" : "user",
  };
  if (global) headers["x-ratelimit-global"] = "true";
  return {
    status: 429,
    headers,
    body: { message: "You are being rate limited.", retry_after: seconds, global },
  };
}
