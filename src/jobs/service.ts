// Jobs: the orchestrator. A job is created (written, with its place in line), shown, started by
// the scheduler, run by the runner, and ended by `finish` — the one place that saves the end,
// frees the slot and tells listeners, exactly once. Records are written at every step, so a
// restart resumes instead of losing work and never submits anything twice without the user knowing.
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log.ts";
import {
  type ImageInput,
  type ImageProvider,
  mergeWarnings,
  type ProviderLookup,
  type TaskSnapshot,
} from "../providers/types.ts";
import type { Store } from "../store/index.ts";
import { fieldsFor, type JobOrigin, type JobRequest } from "./kinds.ts";
import { type JobText, jobText } from "./messages.ts";
import type { QueueAdmission } from "./queue.ts";
import { isFinished, type JobError, type JobRecord } from "./record.ts";
import { JobRecords } from "./records.ts";
import { type CancelOutcome, cancelledError, JobRunner, jobLogFields, type Outcome } from "./runner.ts";
import { InProcessScheduler, type RunEnd, type Scheduler, type SchedulerEvents } from "./scheduler.ts";
import { BullMqScheduler, redisUnavailable } from "./shared-scheduler.ts";

export type { JobOrigin, JobRequest } from "./kinds.ts";
export type { CancelOutcome } from "./runner.ts";

export interface JobListener {
  /** State, queue position or progress changed while the job is not finished. */
  onProgress(job: JobRecord): void;
  /** The job completed or failed and is not yet delivered; call `markDelivered` once the user has it. */
  onFinished(job: JobRecord): void;
}

export interface JobServiceOptions {
  store: Store;
  providers: ProviderLookup;
  defaultProvider: string;
  pollIntervalMs: number;
  /** Overrides each provider's own maximum task duration. */
  timeoutMs?: number;
  /** Most provider tasks running at once per provider account; more wait in `queued`. Default: no limit. */
  maxRunning?: number;
  /** Most jobs one user has running at once; their further jobs let other users' go first. Default: no limit. */
  maxRunningPerUser?: number;
  /** Most jobs one user may have waiting (`canQueue`). Default: no limit. */
  maxQueuedPerUser?: number;
  /**
   * Fetches a /blend or /describe image (safely: src/images/download.ts) when its job starts. Its
   * errors' messages are shown to users. Without it, such jobs fail with a clear error.
   */
  fetchSourceImage?: (url: string, signal?: AbortSignal) => Promise<ImageInput>;
  /**
   * With a Redis store, jobs are shared with every process on it (BullMQ): the provider accounts this
   * process runs jobs for (default: the default provider), and how long a worker's claim on a job
   * lasts without renewal — a dead process's jobs move to a live one after about this long.
   */
  shared?: { lanes?: readonly string[]; lockMs?: number; positionsIntervalMs?: number };
  logger: Logger;
  now?: () => number;
}

export class JobNotFoundError extends Error {
  override readonly name = "JobNotFoundError";
}

const ambiguousSubmitError: JobError = { kind: "transient", advice: "retry", ...jobText("maybe-sent", {}) };

export class JobService {
  private readonly records: JobRecords;
  private readonly scheduler: Scheduler;
  private readonly runner: JobRunner;
  private readonly listeners: JobListener[] = [];
  /** Finished jobs handed to the listeners and not yet delivered. */
  private readonly delivering = new Set<string>();
  /** Runs in progress, so `stop` can wait for them. */
  private readonly runs = new Set<Promise<RunEnd>>();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly options: JobServiceOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    // Every wait of every job listens to this one signal.
    setMaxListeners(0, this.abort.signal);
    this.records = new JobRecords(options.store, this.now);
    const limits = {
      store: options.store,
      logger: options.logger,
      maxRunningPerLane: options.maxRunning ?? Number.POSITIVE_INFINITY,
      maxRunningPerUser: options.maxRunningPerUser ?? Number.POSITIVE_INFINITY,
      maxWaitingPerUser: options.maxQueuedPerUser ?? Number.POSITIVE_INFINITY,
    };
    const events: SchedulerEvents = {
      start: (job) => this.resume(job),
      position: (job, position) => this.emitProgress({ ...job, queuePosition: position }),
    };
    this.scheduler = options.store.redis
      ? new BullMqScheduler({
          ...limits,
          events,
          load: (id) => this.records.get(id),
          signal: this.abort.signal,
          lanes: options.shared?.lanes ?? [options.defaultProvider],
          lockMs: options.shared?.lockMs,
          positionsIntervalMs: options.shared?.positionsIntervalMs,
        })
      : new InProcessScheduler({ ...limits, events });
    this.runner = new JobRunner({
      records: this.records,
      provider: (name) => options.providers.get(name),
      pollIntervalMs: options.pollIntervalMs,
      timeoutMs: options.timeoutMs,
      fetchSourceImage: options.fetchSourceImage,
      signal: this.abort.signal,
      onProgress: (job) => this.emitProgress(job),
      logger: options.logger,
      now: this.now,
    });
  }

  /** Whether `userId` may start `count` more jobs now; ask before showing anything. */
  canQueue(userId: string, count = 1): Promise<QueueAdmission> {
    return this.scheduler.admit(userId, count);
  }

  /**
   * Why no new work is taken right now (the shared store, Redis, is away), in words for the asker;
   * undefined when work is taken. Answering at once beats leaving a person waiting on Redis.
   */
  pausedBecause(): JobText | undefined {
    const redis = this.options.store.redis;
    return redis && redis.status !== "ready" ? redisUnavailable : undefined;
  }

  /** Ids of waiting jobs in the order they will start (per provider account). */
  queueOrder(): string[] {
    return this.scheduler.order();
  }

  listen(listener: JobListener): void {
    this.listeners.push(listener);
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.records.get(id);
  }

  /** One user's shown jobs that have not finished (waiting or running), oldest first: for /info. */
  openJobsOf(requesterId: string): Promise<JobRecord[]> {
    return this.records.openJobsOf(requesterId);
  }

  /** One user's latest jobs, newest first: for /info, where people find the ids /show takes. */
  recentJobsOf(requesterId: string, count: number): Promise<JobRecord[]> {
    return this.records.recentOf(requesterId, count);
  }

  provider(name: string): ImageProvider | undefined {
    return this.options.providers.get(name);
  }

  defaultProvider(): ImageProvider {
    const provider = this.options.providers.get(this.options.defaultProvider);
    if (!provider) throw new Error(`Provider ${this.options.defaultProvider} is not configured`);
    return provider;
  }

  /**
   * Writes a new job with its place in line, so its message can be shown before it starts; `shown`
   * starts it. From here on it is never dropped: if the process dies before `shown`, the next start
   * runs it and shows it where `origin.delivery` says. Follow-ups and retries go to the parent's provider.
   */
  async create(request: JobRequest, origin: JobOrigin): Promise<JobRecord> {
    const parentId =
      request.kind === "followUp" ? request.parentId : request.kind === "retry" ? request.jobId : undefined;
    const parent = parentId === undefined ? undefined : await this.records.get(parentId);
    if (parentId !== undefined && !parent) throw new JobNotFoundError(`Job ${parentId} is no longer known.`);
    const ticket = await this.scheduler.ticket(origin.requesterId);
    let job: JobRecord | undefined;
    try {
      job = this.records.build({
        ...fieldsFor(request, parent),
        provider: this.providerFor(request, parent),
        requesterId: origin.requesterId,
        guildId: origin.guildId ?? parent?.guildId,
        channelId: origin.channelId ?? parent?.channelId,
        delivery: origin.delivery,
        language: origin.language,
        queueRound: ticket.round,
        queueSeq: ticket.seq,
      });
      // Together (with Redis each is a round trip, and the reply waits): a placed job does not run
      // before it is shown (`place`), and one whose record is missing is skipped by the scheduler.
      await Promise.all([this.records.insert(job), this.scheduler.place(job)]);
      this.logger.info("job created", { ...jobLogFields(job), kind: job.kind });
      return job;
    } catch (error) {
      // Best effort (Redis may be what failed); the caller sees the original error.
      const jobId = job?.id;
      await Promise.all([
        this.scheduler.drop(origin.requesterId, ticket, jobId),
        jobId === undefined ? undefined : this.discard(jobId),
      ]).catch((cleanup: unknown) =>
        this.logger.warn("job not set aside after a failed create", { error: cleanup }),
      );
      throw error;
    }
  }

  /** Follow-ups and retries go back to the provider that made the parent; a new job to the one asked for. */
  private providerFor(request: JobRequest, parent: JobRecord | undefined): string {
    if (parent) return parent.provider;
    const asked = "provider" in request ? request.provider : undefined;
    if (asked !== undefined && !this.options.providers.get(asked))
      throw new Error(`Provider ${asked} is not configured`);
    return asked ?? this.options.defaultProvider;
  }

  /** The job's message is on screen (at `delivery`): it takes its place in line. */
  async shown(id: string, delivery?: Record<string, unknown>): Promise<JobRecord | undefined> {
    const job = await this.records.update(id, { ...(delivery ? { delivery } : {}), launchedAt: this.now() });
    if (job) await this.scheduler.enqueue(job, 0);
    return job;
  }

  /** create + shown, for callers that have nowhere to show a message first (the CLI, tests). */
  async submit(request: JobRequest, origin: JobOrigin): Promise<JobRecord> {
    const job = await this.create(request, origin);
    return (await this.shown(job.id)) ?? job;
  }

  /** Forgets a created job whose message could not be shown: nothing was sent, nobody is waiting. */
  async discard(id: string): Promise<void> {
    const job = await this.records.transition(id, "failed", { finishedAt: this.now() });
    if (job)
      await this.scheduler.drop(job.requesterId, { round: job.queueRound ?? 0, seq: job.queueSeq ?? 0 }, id);
    await this.records.markDelivered(id);
  }

  /**
   * ❌ Cancel by the job's requester: a waiting job leaves the queue and ends as cancelled (delivered
   * with 🔄); a running one is cancelled at the provider when it can, and ends when the provider says so.
   */
  async cancel(id: string, userId: string): Promise<CancelOutcome> {
    const job = await this.records.get(id);
    if (!job || isFinished(job)) return { kind: "refused", ...jobText("already-finished", {}) };
    if (job.requesterId !== userId)
      return { kind: "refused", ...jobText("not-requester", { user: `<@${job.requesterId}>` }) };
    if (await this.scheduler.remove(job)) {
      await this.finish(job, { kind: "failed", error: cancelledError(userId, "waiting") });
      return { kind: "cancelled" };
    }
    if (job.state === "running") return this.runner.cancel(job, userId);
    return { kind: "refused", ...jobText("being-sent", {}) };
  }

  async setDelivery(id: string, delivery: Record<string, unknown>): Promise<JobRecord | undefined> {
    return this.records.update(id, { delivery });
  }

  /** Remembers a used grid button so the grid can show it highlighted. */
  async markPressed(id: string, button: string): Promise<JobRecord | undefined> {
    return this.records.update(id, (job) =>
      job.pressed.includes(button) ? {} : { pressed: [...job.pressed, button] },
    );
  }

  /** The user has the result or the error: the job leaves the open list. */
  async markDelivered(id: string): Promise<void> {
    const job = await this.records.markDelivered(id);
    this.delivering.delete(id);
    this.scheduler.delivered(id);
    if (job) this.logger.info("job delivered", jobLogFields(job));
  }

  /** A provider callback: wakes the tracker of the task it names. Unknown tasks are ignored. */
  pushSnapshot(snapshot: TaskSnapshot): boolean {
    return this.runner.pushSnapshot(snapshot);
  }

  /**
   * Resumes every job not delivered before the last stop: finished ones are delivered again, running
   * ones tracked, waiting ones queued with their tickets, and one caught while being sent fails
   * with 🔄 (it may have reached the provider; sending it again could charge twice). With a shared
   * queue the queue hands them out (to this process or another), so this process only joins it.
   */
  async start(): Promise<void> {
    if (this.scheduler.shared) return this.scheduler.restore([], []);
    const running: JobRecord[] = [];
    const waiting: JobRecord[] = [];
    for (const job of await this.records.openJobs()) {
      if (job.state === "running") running.push(job);
      else if (job.state === "queued") waiting.push(await this.ticketed(job));
      else await this.resume(job);
    }
    await this.scheduler.restore(running, waiting);
    for (const job of running) void this.resume(job);
  }

  /**
   * Continues a job from wherever its record says it is — the one path for a job the scheduler
   * starts, a job found at start, and a job taken over from a process that died. Resolves once
   * this run ended.
   */
  private async resume(found: JobRecord): Promise<RunEnd> {
    if (isFinished(found)) {
      // Ended but not delivered, and not being delivered here: tell the listeners again.
      if (!found.delivered && !this.delivering.has(found.id)) this.emitFinished(found);
      this.scheduler.release(found.id);
      return "ended";
    }
    if (found.state === "submitting") {
      // It may have reached the provider; sending it again could charge twice.
      await this.finish(found, { kind: "failed", error: ambiguousSubmitError });
      return "ended";
    }
    if (found.state === "running") return this.runInBackground(found.id, () => this.runner.track(found));
    const job = await this.ticketed(found);
    const end = await this.runInBackground(job.id, () => this.runner.run(job));
    return end === "stopped" ? this.follow(job.id) : end;
  }

  /**
   * This run found the job already sent by another run. Two runs hold one job only when a process
   * stalled past the takeover time: it lost its claim on the job while alive and went on. The task
   * holds a running slot (account and person) through each run's claim, and the shared scheduler
   * frees a claim's slot when its run resolves; so this run follows the job to its end rather than
   * let a waiting job start beside that task, and carries it on if the other process dies.
   */
  private async follow(id: string): Promise<RunEnd> {
    const signal = this.abort.signal;
    for (;;) {
      if (signal.aborted) return "stopped";
      const job = await this.records.get(id);
      // Ended: the run that ended it delivers it (or, if its process dies, the delivery watch does).
      if (!job || isFinished(job)) return "ended";
      if (job.state === "running") return this.runInBackground(id, () => this.runner.track(job));
      // Being sent: resuming now would fail it as "may have been sent" under its sender. A sender
      // silent for longer than a task may run has died; then it is resumed like any job found so.
      if (job.state === "submitting" && this.now() - job.updatedAt > this.runner.timeLimitOf(job))
        return this.resume(job);
      await sleep(this.options.pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Stops taking work and lets running trackers end; their records stay `running` for the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.scheduler.stop();
    await Promise.allSettled([...this.runs]);
  }

  /** A waiting job found at start. One whose message may not have been shown yet counts as shown now. */
  private async ticketed(job: JobRecord): Promise<JobRecord> {
    if (job.launchedAt !== undefined) return job;
    return (await this.records.update(job.id, { launchedAt: this.now() })) ?? job;
  }

  private runInBackground(id: string, work: () => Promise<Outcome>): Promise<RunEnd> {
    const run = work()
      .then(async (outcome): Promise<RunEnd> => {
        await this.finishById(id, outcome);
        return outcome.kind === "stopped" ? "stopped" : "ended";
      })
      .catch((error: unknown): RunEnd => {
        this.logger.error("job crashed", { job: id, error });
        return "crashed";
      })
      .finally(() => this.runs.delete(run));
    this.runs.add(run);
    return run;
  }

  private async finishById(id: string, outcome: Outcome): Promise<void> {
    const job = await this.records.get(id);
    if (job) await this.finish(job, outcome);
    else this.scheduler.release(id);
  }

  /** The one end of every job: saves how it ended, frees its slot, tells listeners — once. */
  private async finish(job: JobRecord, outcome: Outcome): Promise<void> {
    try {
      if (outcome.kind === "stopped") return;
      const finishedAt = this.now();
      const finished =
        outcome.kind === "completed"
          ? await this.records.transition(job.id, "completed", (current) => ({
              progress: 100,
              imageUrls: outcome.snapshot.imageUrls,
              gridUrl: outcome.snapshot.gridUrl,
              buttons: outcome.snapshot.buttons,
              descriptions: outcome.snapshot.descriptions,
              credits: outcome.snapshot.usage?.credits ?? current.credits,
              providerWarnings: mergeWarnings(current.providerWarnings, outcome.warnings),
              finishedAt,
            }))
          : await this.records.transition(job.id, "failed", { error: outcome.error, finishedAt });
      if (!finished) return;
      this.logFinished(finished, outcome);
      this.emitFinished(finished);
    } finally {
      this.scheduler.release(job.id);
    }
  }

  private logFinished(job: JobRecord, outcome: Outcome): void {
    const fields = {
      ...jobLogFields(job),
      task: job.taskId,
      durationMs: (job.finishedAt ?? this.now()) - job.createdAt,
    };
    if (outcome.kind !== "failed") {
      this.logger.info("job completed", fields);
      return;
    }
    const level =
      outcome.error.kind === "internal" ? "error" : outcome.error.kind === "cancelled" ? "info" : "warn";
    this.logger[level]("job failed", {
      ...fields,
      errorKind: outcome.error.kind,
      reason: outcome.error.message,
      error: outcome.cause,
    });
  }

  private emitProgress(job: JobRecord): void {
    for (const listener of this.listeners) listener.onProgress(job);
  }

  private emitFinished(job: JobRecord): void {
    this.delivering.add(job.id);
    this.scheduler
      .watchDelivery(job)
      .catch((error: unknown) => this.logger.warn("delivery not watched", { job: job.id, error }));
    for (const listener of this.listeners) listener.onFinished(job);
  }
}
