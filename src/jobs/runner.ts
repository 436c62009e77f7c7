// Runs one job at its provider: fetch the images it sends, submit, track to the end, cancel on
// request. It records the transitions on the way (submitting, running) and returns how the job
// ended as an outcome; it never frees a slot or tells listeners a job finished (service.ts does).
import type { Logger } from "../log.ts";
import {
  type ImageInput,
  type ImageProvider,
  mergeWarnings,
  ProviderError,
  type ProviderWarning,
  type TaskSnapshot,
} from "../providers/types.ts";
import { completionProblem, needsParent, submitJob } from "./kinds.ts";
import { JobFailure, type JobText, jobText } from "./messages.ts";
import type { JobError, JobRecord } from "./record.ts";
import type { JobRecords } from "./records.ts";
import { trackTask } from "./track.ts";

/** How a run ended. `stopped`: the service is shutting down; the record stays as it is for the next start. */
export type Outcome =
  | { kind: "completed"; snapshot: TaskSnapshot; warnings: ProviderWarning[] }
  | { kind: "failed"; error: JobError; cause?: unknown }
  | { kind: "stopped" };

/** What a ❌ Cancel click did: the job is (being) cancelled, or why it cannot be. */
export type CancelOutcome = { kind: "cancelled" } | ({ kind: "refused" } & JobText);

export interface RunnerOptions {
  records: JobRecords;
  provider(name: string): ImageProvider | undefined;
  pollIntervalMs: number;
  /** Overrides each provider's own maximum task duration. */
  timeoutMs?: number;
  /** Fetches a /blend or /describe image; its errors' messages are shown to users. */
  fetchSourceImage?: (url: string, signal?: AbortSignal) => Promise<ImageInput>;
  /** Shutdown: waits end, records stay as they are. */
  signal: AbortSignal;
  /** A running job's progress (not persisted: shown only). */
  onProgress(job: JobRecord): void;
  logger: Logger;
  now: () => number;
}

export function cancelledError(userId: string, stage: "waiting" | "running"): JobError {
  const code = stage === "waiting" ? "cancelled-waiting" : "cancelled-running";
  return { kind: "cancelled", advice: "retry", ...jobText(code, { user: `<@${userId}>` }) };
}

/** A link that no longer answers, or a file that is no image: nothing reached the provider. */
function sourceFetchError(text: JobText): JobError {
  return { kind: "internal", advice: "retry", ...text };
}

/** A job's error: an image service's in its own words; Atelier's own with their code, to say in any language. */
export function toJobError(error: unknown): JobError {
  if (error instanceof ProviderError) {
    const words = error instanceof JobFailure ? { code: error.text.code, values: error.text.values } : {};
    return { kind: error.kind, advice: error.advice, message: error.message, ...words, reason: error.reason };
  }
  return { kind: "internal", advice: "admin", ...jobText("internal", {}) };
}

/** Who and where, on every log line about a job: an operator can follow one job from start to end. */
export function jobLogFields(job: JobRecord) {
  return { job: job.id, user: job.requesterId, guild: job.guildId, provider: job.provider };
}

const failedWith = (error: unknown): Outcome => ({ kind: "failed", error: toJobError(error), cause: error });

export class JobRunner {
  /** Running jobs a user asked the provider to cancel, by job id → user id. */
  private readonly cancelRequests = new Map<string, string>();
  private readonly pushWaiters = new Map<string, (snapshot: TaskSnapshot) => void>();

  constructor(private readonly options: RunnerOptions) {}

  /** A queued job from the start: sources, submit, then `track`. */
  async run(queued: JobRecord): Promise<Outcome> {
    const sources = await this.fetchSources(queued);
    if (!Array.isArray(sources)) return sources;
    const job = await this.options.records.transition(queued.id, "submitting");
    if (!job) return { kind: "stopped" };
    this.options.onProgress(job);
    try {
      // No abort signal: a create cut off by shutdown would leave it unknowable whether it started.
      const provider = this.providerOf(job);
      const parent =
        needsParent(job) && job.parentId ? await this.options.records.get(job.parentId) : undefined;
      const submitted = await submitJob(provider, job, sources, parent);
      if (submitted.kind === "done") return this.completed(job, submitted.snapshot, submitted.warnings);
      const running = await this.options.records.transition(job.id, "running", {
        taskId: submitted.taskId,
        submittedAt: this.options.now(),
        deadlineAt: this.options.now() + this.timeLimit(provider),
        queuePosition: submitted.queuePosition,
        credits: submitted.usage?.credits,
        providerWarnings: mergeWarnings(job.providerWarnings, submitted.warnings),
      });
      if (!running) return { kind: "stopped" };
      this.options.logger.info("job submitted", { ...jobLogFields(running), task: running.taskId });
      this.options.onProgress(running);
      return await this.track(running);
    } catch (error) {
      return failedWith(error);
    }
  }

  /** Follows a running job's task to its end (also after a restart: the deadline stays where it was). */
  async track(job: JobRecord): Promise<Outcome> {
    const taskId = job.taskId as string;
    try {
      const provider = this.providerOf(job);
      const startedAt = job.submittedAt ?? job.createdAt;
      let shown = JSON.stringify([job.progress, job.queuePosition, job.previewUrl, job.progressNote]);
      const snapshot = await trackTask(provider, taskId, {
        pollIntervalMs: this.options.pollIntervalMs,
        startedAt,
        timeoutMs: (job.deadlineAt ?? startedAt + this.timeLimit(provider)) - startedAt,
        signal: this.options.signal,
        now: this.options.now,
        nextPush: () => new Promise((resolve) => this.pushWaiters.set(taskId, resolve)),
        onUpdate: (update) => {
          if (update.status === "completed" || update.status === "failed") return;
          const next = {
            progress: update.progress,
            queuePosition: update.queuePosition,
            previewUrl: update.previewUrl,
            progressNote: update.note,
          };
          const signature = JSON.stringify(Object.values(next));
          if (signature === shown) return;
          shown = signature;
          this.options.onProgress({ ...job, ...next, updatedAt: this.options.now() });
        },
      });
      return this.completed(job, snapshot, []);
    } catch (error) {
      if (this.options.signal.aborted) return { kind: "stopped" };
      // The cancel may have been asked in another process sharing the queue: the record says so.
      const cancelledBy =
        this.cancelRequests.get(job.id) ?? (await this.options.records.get(job.id))?.cancelledBy;
      if (cancelledBy !== undefined) return { kind: "failed", error: cancelledError(cancelledBy, "running") };
      return failedWith(error);
    } finally {
      this.pushWaiters.delete(taskId);
      this.cancelRequests.delete(job.id);
    }
  }

  /** Asks the provider to stop a running job; the tracker then sees it end and reports it cancelled. */
  async cancel(job: JobRecord, userId: string): Promise<CancelOutcome> {
    const provider = this.options.provider(job.provider);
    if (!provider?.cancel || !job.taskId) return { kind: "refused", ...jobText("cannot-stop", {}) };
    this.cancelRequests.set(job.id, userId);
    await this.options.records.update(job.id, { cancelledBy: userId });
    try {
      await provider.cancel(job.taskId, this.options.signal);
      return { kind: "cancelled" };
    } catch (error) {
      this.cancelRequests.delete(job.id);
      await this.options.records.update(job.id, { cancelledBy: undefined });
      this.options.logger.warn("cancel refused by the provider", { job: job.id, error });
      return { kind: "refused", ...jobText("not-stopped", { problem: (error as Error).message }) };
    }
  }

  /** A provider callback: wakes the tracker of the task it names. Unknown tasks are ignored. */
  pushSnapshot(snapshot: TaskSnapshot): boolean {
    const waiter = this.pushWaiters.get(snapshot.taskId);
    if (!waiter) return false;
    waiter(snapshot);
    return true;
  }

  private completed(job: JobRecord, snapshot: TaskSnapshot, warnings: ProviderWarning[]): Outcome {
    const problem = completionProblem(job, snapshot);
    return problem ? { kind: "failed", error: problem } : { kind: "completed", snapshot, warnings };
  }

  /**
   * The images a /blend or /describe sends, fetched while the job still counts as queued: a stop or
   * a broken link here has sent nothing.
   */
  private async fetchSources(job: JobRecord): Promise<ImageInput[] | Outcome> {
    const urls = job.sourceUrls ?? [];
    if (urls.length === 0) return [];
    const fetch = this.options.fetchSourceImage;
    if (!fetch) return { kind: "failed", error: sourceFetchError(jobText("source-fetch-unset", {})) };
    try {
      return await Promise.all(urls.map((url) => fetch(url, this.options.signal)));
    } catch (error) {
      if (this.options.signal.aborted) return { kind: "stopped" };
      const problem = (error as Error).message;
      return { kind: "failed", error: sourceFetchError(jobText("source-fetch", { problem })), cause: error };
    }
  }

  /** How long `job`'s task may run: TASK_TIMEOUT, else its provider's own limit (0 if the provider is gone). */
  timeLimitOf(job: JobRecord): number {
    return this.timeLimit(this.options.provider(job.provider));
  }

  private timeLimit(provider: ImageProvider | undefined): number {
    return this.options.timeoutMs ?? provider?.capabilities.maxTaskDurationMs ?? 0;
  }

  private providerOf(job: JobRecord): ImageProvider {
    const provider = this.options.provider(job.provider);
    if (provider) return provider;
    throw new JobFailure("internal", jobText("provider-gone", { provider: job.provider }));
  }
}
