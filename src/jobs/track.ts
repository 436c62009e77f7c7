// Follows one provider task to its end. Every wait is bounded: a task that never finishes
// becomes a `timeout` error instead of a message stuck at "93%".
import { type ImageProvider, ProviderError, type TaskSnapshot } from "../providers/types.ts";
import { duration, JobFailure, jobText } from "./messages.ts";

export interface TrackOptions {
  pollIntervalMs: number;
  /** When the task started (ms since epoch); the deadline counts from here, so a resumed job keeps its budget. */
  startedAt: number;
  timeoutMs: number;
  onUpdate?: (snapshot: TaskSnapshot) => void | Promise<void>;
  /** A pushed snapshot (callback) resolves the wait early. */
  nextPush?: () => Promise<TaskSnapshot>;
  signal?: AbortSignal;
  now?: () => number;
}

/** Read errors worth waiting out: the task itself may be fine. */
function isPassingReadError(error: unknown): boolean {
  return error instanceof ProviderError && (error.kind === "transient" || error.kind === "timeout");
}

function timeoutError(timeoutMs: number, last: TaskSnapshot | undefined): ProviderError {
  const limit = duration(timeoutMs);
  const text =
    last?.progress !== undefined
      ? jobText("timed-out-at", { duration: limit, progress: last.progress })
      : jobText("timed-out", { duration: limit });
  return new JobFailure("timeout", text);
}

function isFinal(snapshot: TaskSnapshot): boolean {
  return snapshot.status === "completed" || snapshot.status === "failed" || snapshot.status === "cancelled";
}

/** Resolves with the completed snapshot; rejects with a ProviderError when the task fails or times out. */
export async function trackTask(
  provider: ImageProvider,
  taskId: string,
  options: TrackOptions,
): Promise<TaskSnapshot> {
  const now = options.now ?? Date.now;
  const deadline = options.startedAt + options.timeoutMs;
  let last: TaskSnapshot | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    let snapshot: TaskSnapshot | undefined;
    try {
      snapshot = await provider.fetchTask(taskId, options.signal);
    } catch (error) {
      if (!isPassingReadError(error)) throw error;
    }
    if (snapshot) {
      last = snapshot;
      await options.onUpdate?.(snapshot);
      if (isFinal(snapshot)) return finish(snapshot);
    }
    const remaining = deadline - now();
    if (remaining <= 0) throw timeoutError(options.timeoutMs, last);
    const pushed = await waitForPushOrInterval(Math.min(options.pollIntervalMs, remaining), options);
    if (pushed) {
      last = pushed;
      await options.onUpdate?.(pushed);
      if (isFinal(pushed)) return finish(pushed);
    }
  }
}

function finish(snapshot: TaskSnapshot): TaskSnapshot {
  if (snapshot.status === "completed") return snapshot;
  if (snapshot.status === "cancelled") {
    throw new JobFailure("invalid", jobText("cancelled-at-service", {}), { code: "cancelled" });
  }
  throw snapshot.error ?? new JobFailure("internal", jobText("failed-without-reason", {}));
}

/**
 * Waits `ms`, or less when a snapshot is pushed or the caller's signal aborts. One timer and one
 * promise: every job in flight waits here once per poll, and the AbortController each wait used to
 * make (its abort builds an error with a stack) was a large part of what 1,000 jobs allocated
 * between polls — garbage that lives a poll interval, so V8 promotes it before it dies.
 */
function waitForPushOrInterval(ms: number, options: TrackOptions): Promise<TaskSnapshot | undefined> {
  const { signal, nextPush } = options;
  if (signal?.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const end = (pushed?: TaskSnapshot) => {
      settle();
      resolve(pushed);
    };
    const onAbort = () => end();
    const timer = setTimeout(end, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    // A failed push fails the wait, as it did when the wait was a race (never unhandled).
    nextPush?.().then(end, (error: unknown) => {
      settle();
      reject(error);
    });
  });
}
