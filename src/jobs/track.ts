// Follows one provider task to its end. Every wait is bounded: a task that never finishes
// becomes a `timeout` error instead of a message stuck at "93%".
import { setTimeout as sleep } from "node:timers/promises";
import { type ImageProvider, ProviderError, type TaskSnapshot } from "../providers/types.ts";

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

/** "45 seconds", "1 minute", "20 minutes": a limit as people say it. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function timeoutError(timeoutMs: number, last: TaskSnapshot | undefined): ProviderError {
  const where = last?.progress !== undefined ? ` (last seen at ${last.progress}%)` : "";
  return new ProviderError(
    "timeout",
    `The image service did not finish within ${formatDuration(timeoutMs)}${where}. Try again; if it keeps happening, tell an admin.`,
  );
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
    throw new ProviderError("invalid", "The job was cancelled before it finished.", { code: "cancelled" });
  }
  throw (
    snapshot.error ?? new ProviderError("internal", "The image service reported a failure without a reason.")
  );
}

async function waitForPushOrInterval(ms: number, options: TrackOptions): Promise<TaskSnapshot | undefined> {
  const interval = new AbortController();
  const onAbort = () => interval.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // An aborted sleep just ends the wait; the loop then checks the caller's signal.
    const tick = sleep(ms, undefined, { signal: interval.signal }).then(
      () => undefined,
      () => undefined,
    );
    if (!options.nextPush) return await tick;
    return await Promise.race([tick, options.nextPush()]);
  } finally {
    interval.abort();
    options.signal?.removeEventListener("abort", onAbort);
  }
}
