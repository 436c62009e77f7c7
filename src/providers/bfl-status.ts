// Where a BFL set stands, polled (fetchSet) or told by a webhook (parseSetWebhook). A set is four
// tasks tracked under one id (bfl-sets.ts); its finished images are copied by bfl-results.ts.
import type { ResultImages } from "./bfl-results.ts";
import { type Pollers, type SetBook, setOf } from "./bfl-sets.ts";
import { bflResultSchema, bflWebhookSchema, percentOf, stateOf, taskFailure } from "./bfl-wire.ts";
import { type ProviderLogger, redactExcerpt } from "./http.ts";
import { ProviderError, type TaskSnapshot } from "./types.ts";

/** What following a set needs of a BFL account. */
export interface SetTracking {
  pollers: Pollers;
  book: SetBook;
  results: ResultImages;
  /** Finished images are copied into the blobs (so a webhook alone cannot complete a set). */
  copies: boolean;
  secrets: string[];
  logger: ProviderLogger;
}

/**
 * The set now. Polled from its last task back, stopping at the first still running (the others were
 * created before it): progress is that task's, counting the ones after it as done. Once all four are
 * Ready their images are copied, and the set is complete.
 */
export async function fetchSet(
  bfl: SetTracking,
  taskId: string,
  signal?: AbortSignal,
): Promise<TaskSnapshot> {
  const set = setOf(taskId);
  const heard = bfl.book.register(taskId, set);
  const samples: string[] = [];
  for (let index = set.tasks.length - 1; index >= 0; index -= 1) {
    const task = set.tasks[index] as (typeof set.tasks)[number];
    const { client, path } = bfl.pollers.target(task);
    const result = await client.read(path, bflResultSchema, signal);
    const state = stateOf(result.status);
    if (state === "failed") {
      const error = taskFailure(result.status, task.id, index + 1, result.details, bfl.secrets);
      // A task BFL cannot find is no outcome of the set: the poll itself failed.
      if (error.code === "task_not_found") throw error;
      return { taskId, status: "failed", imageUrls: [], error };
    }
    if (state === "pending") {
      const done = set.tasks.length - 1 - index;
      const percent = percentOf(result.progress) ?? 0;
      const progress = Math.min(
        99,
        Math.round((100 * done + percent * (set.tasks.length - done)) / set.tasks.length),
      );
      heard.progress = Math.max(heard.progress, progress);
      return { taskId, status: progress > 0 ? "running" : "queued", progress, imageUrls: [] };
    }
    const sample = result.result?.sample;
    if (!sample) {
      const error = new ProviderError("internal", `BFL finished image ${index + 1} without a link to it.`, {
        code: "no_sample",
      });
      return { taskId, status: "failed", imageUrls: [], error };
    }
    samples[index] = sample;
  }
  return { taskId, status: "completed", progress: 100, imageUrls: await bfl.results.keep(samples, signal) };
}

/**
 * A webhook names one task of a set. It wakes the set's tracker: a failure ends the set at once; a
 * Ready task counts toward progress, and when all four are Ready without blobs to copy into, the set
 * is complete; with blobs, the poll that follows copies the images (a webhook handler must not
 * download). Tasks this process has not submitted or polled yet are ignored (the poll finds them).
 */
export function parseSetWebhook(bfl: SetTracking, body: unknown): TaskSnapshot {
  const parsed = bflWebhookSchema.safeParse(body);
  if (!parsed.success) {
    bfl.logger.warn("BFL: webhook body has an unexpected shape", {
      // Result links carry a signature in their query: never logged.
      excerpt: redactExcerpt((JSON.stringify(body) ?? String(body)).replace(/\?[^"\s]*/g, "?…"), bfl.secrets),
    });
    throw new ProviderError("internal", "BFL sent a webhook Atelier could not understand.", {
      code: "bad_callback",
    });
  }
  const hook = parsed.data;
  const subId = (hook.id ?? hook.task_id) as string;
  const member = bfl.book.member(subId);
  if (!member) return { taskId: `bfl-task:${subId}`, status: "running", imageUrls: [] };
  const { heard, index } = member;
  const state = stateOf(hook.status);
  if (state === "failed") {
    const named = typeof hook.error === "string" && hook.error !== "" ? hook.error : hook.status;
    const error = taskFailure(named, subId, index + 1, hook.details ?? hook.error, bfl.secrets);
    return { taskId: heard.taskId, status: "failed", imageUrls: [], error };
  }
  if (state === "ready" && hook.result?.sample) heard.samples[index] = hook.result.sample;
  const ready = heard.samples.filter((sample) => sample !== undefined).length;
  if (ready === heard.samples.length && !bfl.copies)
    return { taskId: heard.taskId, status: "completed", progress: 100, imageUrls: heard.samples as string[] };
  heard.progress = Math.min(99, Math.max(heard.progress, Math.round((100 * ready) / heard.samples.length)));
  return { taskId: heard.taskId, status: "running", progress: heard.progress, imageUrls: [] };
}
