// When the HTTP client tries again: the retry budget, exponential backoff with full jitter,
// `Retry-After`, and the injectable clock that lets tests check all of it without waiting.
import { setTimeout as sleepFor } from "node:timers/promises";

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

/** How long to wait before attempt `attempt + 1`, or undefined to give up now. */
export function nextDelay(
  attempt: number,
  startedAt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  clock: Clock,
): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const delay = retryAfterMs ?? backoffDelay(attempt, policy, clock.random);
  if (clock.now() - startedAt + delay > policy.maxTotalMs) return undefined;
  return delay;
}
