// Jobs: create, queue, submit, track, finish — persisted at every step so a restart resumes
// instead of losing work, and never submits anything twice without the user knowing.

import type { Logger } from "../log.ts";
import { parsePrompt, renderPrompt } from "../prompt/index.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import {
  type BlendDimensions,
  type FollowUpRequest,
  type ImageInput,
  type ImageProvider,
  type ParentTask,
  ProviderError,
  type Quality,
  type Speed,
  type SubmitResult,
  type TaskSnapshot,
  type VariationStrength,
} from "../providers/types.ts";
import { KeyList, Repository, type Store } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";
import { FairQueue, type QueueAdmission, type QueueEntry } from "./queue.ts";
import {
  isFinished,
  type JobError,
  type JobKind,
  type JobRecord,
  jobRecordSchema,
  newJobId,
} from "./record.ts";
import { trackTask } from "./track.ts";

export interface JobListener {
  /** State, queue position or progress changed while the job is not finished. */
  onProgress(job: JobRecord): void;
  /** The job completed or failed and is not yet delivered; call `markDelivered` once the user has it. */
  onFinished(job: JobRecord): void;
}

export interface JobServiceOptions {
  store: Store;
  providers: ReadonlyMap<string, ImageProvider>;
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
  logger: Logger;
  now?: () => number;
}

export interface ImagineInput {
  prompt: ParsedPrompt;
  requesterId: string;
  guildId?: string;
  channelId?: string;
  speed?: Speed;
  quality?: Quality;
  delivery?: Record<string, unknown>;
}

/** Who asked for a /blend or /describe, and where. */
interface SourcedJobInput {
  requesterId: string;
  guildId?: string;
  channelId?: string;
  delivery?: Record<string, unknown>;
}

export interface BlendInput extends SourcedJobInput {
  /** 2–5 image links (Discord attachment URLs), fetched when the job starts. */
  imageUrls: string[];
  dimensions: BlendDimensions;
}

export interface DescribeInput extends SourcedJobInput {
  /** The image link (a Discord attachment URL), fetched when the job starts. */
  imageUrl: string;
}

export type FollowUpAction =
  | { kind: "upscale"; index: number; style?: "subtle" | "creative" }
  | { kind: "variation"; index: number; strength: VariationStrength; prompt?: ParsedPrompt }
  | { kind: "reroll"; prompt?: ParsedPrompt }
  | { kind: "hd" }
  | { kind: "action"; customId: string };

export interface FollowUpInput {
  parentId: string;
  action: FollowUpAction;
  requesterId: string;
  guildId?: string;
  channelId?: string;
  delivery?: Record<string, unknown>;
}

/** What a caller decides about a new job; the service fills in identity, state and timestamps. */
type NewJobFields = Omit<
  JobRecord,
  "id" | "state" | "delivered" | "imageUrls" | "pressed" | "createdAt" | "updatedAt"
>;

export class JobNotFoundError extends Error {
  override readonly name = "JobNotFoundError";
}

/** What a ❌ Cancel click did: the job is (being) cancelled, or why it cannot be. */
export type CancelOutcome = { kind: "cancelled" } | { kind: "refused"; message: string };

function cancelledError(userId: string, stage: "waiting" | "running"): JobError {
  const when = stage === "waiting" ? "before it started" : "while it was running";
  return { kind: "cancelled", advice: "retry", message: `Cancelled by <@${userId}> ${when}.` };
}

/** Where the fair queue's served round is saved, so new arrivals after a restart queue as before. */
const servedRoundKey = "jobs:queue-round";

function queueEntryOf(job: JobRecord): QueueEntry {
  return {
    id: job.id,
    userId: job.requesterId,
    lane: job.provider,
    round: job.queueRound ?? 0,
    seq: job.queueSeq ?? 0,
  };
}

/** Midjourney writes a blend's shape as --ar in the prompt it shows; so do we. */
const blendAspects: Record<BlendDimensions, string | undefined> = {
  portrait: "2:3",
  square: undefined,
  landscape: "3:2",
};

/** What a /blend's message shows in place of a prompt: its images (links), and its shape. */
export function blendPromptText(imageUrls: string[], dimensions: BlendDimensions): string {
  const ar = blendAspects[dimensions];
  return renderPrompt({ images: imageUrls, text: "", params: ar ? { ar } : {}, warnings: [] });
}

/** A link that no longer answers, or a file that is no image: nothing reached the provider. */
function sourceFetchError(error: unknown): JobError {
  return {
    kind: "internal",
    advice: "retry",
    message: `Atelier could not fetch an image to send to the image service: ${(error as Error).message}`,
  };
}

const noDescriptionsError: JobError = {
  kind: "transient",
  advice: "retry",
  message: "The image service finished describing the image but suggested no prompts.",
};

function toJobError(error: unknown): JobError {
  if (error instanceof ProviderError) {
    return { kind: error.kind, advice: error.advice, message: error.message, reason: error.reason };
  }
  return {
    kind: "internal",
    advice: "admin",
    message:
      "Something went wrong inside Atelier while running this job. Tell an admin; the log has details.",
  };
}

export class JobService {
  private readonly jobs: Repository<typeof jobRecordSchema>;
  /** Ids of jobs not yet delivered, in creation order: what a restart must pick up. */
  private readonly open: KeyList;
  private readonly listeners: JobListener[] = [];
  private readonly queue: FairQueue;
  /** Records of waiting jobs as launched, so position changes are shown without reading the store. */
  private readonly waitingJobs = new Map<string, JobRecord>();
  /** Queue position last reported per waiting job (the first message shows 0: "Waiting to start"). */
  private readonly shownPositions = new Map<string, number>();
  private positionsScheduled = false;
  private savedRound = 0;
  private roundWrites: Promise<void> = Promise.resolve();
  /** Running jobs a user asked the provider to cancel, by job id → user id. */
  private readonly cancelRequests = new Map<string, string>();
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly pushWaiters = new Map<string, (snapshot: TaskSnapshot) => void>();
  private readonly tracking = new Set<Promise<void>>();
  private readonly updates = new KeyedSerializer();
  private readonly now: () => number;

  constructor(private readonly options: JobServiceOptions) {
    this.jobs = new Repository(options.store.keyv, "job", jobRecordSchema);
    this.open = new KeyList(options.store.keyv, "jobs:open");
    this.now = options.now ?? Date.now;
    this.queue = new FairQueue({
      maxRunningPerLane: options.maxRunning ?? Number.POSITIVE_INFINITY,
      maxRunningPerUser: options.maxRunningPerUser ?? Number.POSITIVE_INFINITY,
      maxWaitingPerUser: options.maxQueuedPerUser ?? Number.POSITIVE_INFINITY,
    });
  }

  /** Whether `userId` may start `count` more jobs now; ask before showing anything. */
  canQueue(userId: string, count = 1): QueueAdmission {
    return this.queue.admit(userId, count);
  }

  /** Ids of waiting jobs in the order they will start (per provider account). */
  queueOrder(): string[] {
    return this.queue.order();
  }

  listen(listener: JobListener): void {
    this.listeners.push(listener);
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }

  /** One user's launched jobs that have not finished (waiting or running), oldest first: for /info. */
  async openJobsOf(requesterId: string): Promise<JobRecord[]> {
    const records = await this.jobs.getMany(await this.open.all());
    return [...records.values()].filter(
      (job) => job.requesterId === requesterId && job.launchedAt !== undefined && !isFinished(job),
    );
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
   * Writes a new imagine job without starting it, so its message can be shown first; `launch` starts it.
   * A prepared job never launched (a crash in between) is dropped at the next start: nothing was sent.
   */
  async prepareImagine(input: ImagineInput): Promise<JobRecord> {
    return this.prepareNew(input, {
      kind: "imagine",
      prompt: renderPrompt(input.prompt),
      warnings: input.prompt.warnings,
      speed: input.speed,
      quality: input.quality,
    });
  }

  /** Writes a /blend job (images kept as links until it starts); `launch` starts it. */
  async prepareBlend(input: BlendInput): Promise<JobRecord> {
    return this.prepareNew(input, {
      kind: "blend",
      prompt: blendPromptText(input.imageUrls, input.dimensions),
      warnings: [],
      sourceUrls: input.imageUrls,
      dimensions: input.dimensions,
    });
  }

  /** Writes a /describe job; its prompt is the image link, so the message shows what is described. */
  async prepareDescribe(input: DescribeInput): Promise<JobRecord> {
    return this.prepareNew(input, {
      kind: "describe",
      prompt: renderPrompt({ images: [input.imageUrl], text: "", params: {}, warnings: [] }),
      warnings: [],
      sourceUrls: [input.imageUrl],
    });
  }

  /** A new job (not a follow-up) on the default provider, asked for by `origin`; written, not started. */
  private async prepareNew(
    origin: Pick<ImagineInput, "requesterId" | "guildId" | "channelId" | "delivery">,
    fields: Omit<NewJobFields, "provider" | "requesterId" | "guildId" | "channelId" | "delivery">,
  ): Promise<JobRecord> {
    const job = this.newRecord({
      ...fields,
      provider: this.options.defaultProvider,
      requesterId: origin.requesterId,
      guildId: origin.guildId,
      channelId: origin.channelId,
      delivery: origin.delivery,
    });
    await this.persistNew(job);
    return job;
  }

  /** Writes a follow-up of a finished job, bound to the provider that made it; `launch` starts it. */
  async prepareFollowUp(input: FollowUpInput): Promise<JobRecord> {
    const parent = await this.jobs.get(input.parentId);
    if (!parent) throw new JobNotFoundError(`Job ${input.parentId} is no longer known.`);
    const action = input.action;
    const promptText = "prompt" in action && action.prompt ? renderPrompt(action.prompt) : parent.prompt;
    const job = this.newRecord({
      kind: action.kind as JobKind,
      provider: parent.provider,
      prompt: promptText,
      warnings: "prompt" in action && action.prompt ? action.prompt.warnings : [],
      requesterId: input.requesterId,
      guildId: input.guildId ?? parent.guildId,
      channelId: input.channelId ?? parent.channelId,
      parentId: parent.id,
      speed: parent.speed,
      quality: action.kind === "hd" ? "hd" : parent.quality,
      index: "index" in action ? action.index : undefined,
      strength: action.kind === "variation" ? action.strength : undefined,
      upscaleStyle: action.kind === "upscale" ? action.style : undefined,
      customId: action.kind === "action" ? action.customId : undefined,
      delivery: input.delivery,
    });
    await this.persistNew(job);
    return job;
  }

  /** A new job that runs a failed one again, same kind, parent and prompt. */
  async prepareRetry(failedId: string, requesterId: string): Promise<JobRecord> {
    const failed = await this.jobs.get(failedId);
    if (!failed) throw new JobNotFoundError(`Job ${failedId} is no longer known.`);
    const {
      id: _id,
      state: _state,
      delivered: _delivered,
      createdAt: _created,
      updatedAt: _updated,
      ...kept
    } = failed;
    const job = this.newRecord({
      kind: kept.kind,
      provider: kept.provider,
      prompt: kept.prompt,
      warnings: kept.warnings,
      requesterId,
      guildId: kept.guildId,
      channelId: kept.channelId,
      parentId: kept.parentId,
      speed: kept.speed,
      quality: kept.quality,
      index: kept.index,
      strength: kept.strength,
      upscaleStyle: kept.upscaleStyle,
      customId: kept.customId,
      sourceUrls: kept.sourceUrls,
      dimensions: kept.dimensions,
    });
    await this.persistNew(job);
    return job;
  }

  /** Starts a prepared job, recording where its message lives. */
  async launch(id: string, delivery?: Record<string, unknown>): Promise<JobRecord | undefined> {
    const job = await this.update(id, (current) => {
      const ticket = this.queue.ticket(current.requesterId);
      return {
        ...(delivery ? { delivery } : {}),
        launchedAt: this.now(),
        queueRound: ticket.round,
        queueSeq: ticket.seq,
      };
    });
    if (job) {
      this.queue.unhold(job.requesterId);
      this.enqueue(job, 0);
    }
    return job;
  }

  /**
   * ❌ Cancel by the job's requester: a waiting job leaves the queue and ends as cancelled (delivered
   * with 🔄); a running one is cancelled at the provider when it can, and ends when the provider says so.
   */
  async cancel(id: string, userId: string): Promise<CancelOutcome> {
    const job = await this.jobs.get(id);
    if (!job || isFinished(job)) return { kind: "refused", message: "This job has already finished." };
    if (job.requesterId !== userId)
      return { kind: "refused", message: `Only <@${job.requesterId}> can cancel this job.` };
    if (this.queue.remove(id)) return this.cancelWaiting(id, userId);
    if (job.state === "running") return this.cancelRunning(job, userId);
    return {
      kind: "refused",
      message: "This job is already being sent to the image service; it cannot be cancelled now.",
    };
  }

  /** Forgets a prepared job that was never shown (its message could not be posted). */
  async discard(id: string): Promise<void> {
    const job = await this.update(id, { state: "failed", delivered: true, finishedAt: this.now() });
    if (job) this.queue.unhold(job.requesterId);
    await this.open.remove(id);
  }

  /** prepare + launch, for callers that have nowhere to show a message first. */
  async submitImagine(input: ImagineInput): Promise<JobRecord> {
    const job = await this.prepareImagine(input);
    await this.launch(job.id);
    return job;
  }

  async setDelivery(id: string, delivery: Record<string, unknown>): Promise<JobRecord | undefined> {
    return this.update(id, { delivery });
  }

  /** Remembers a used grid button so the grid can show it highlighted. */
  async markPressed(id: string, button: string): Promise<JobRecord | undefined> {
    return this.update(id, (job) =>
      job.pressed.includes(button) ? {} : { pressed: [...job.pressed, button] },
    );
  }

  async markDelivered(id: string): Promise<void> {
    await this.update(id, { delivered: true });
    await this.open.remove(id);
  }

  /** A provider callback: wakes the tracker of the task it names. Unknown tasks are ignored. */
  pushSnapshot(snapshot: TaskSnapshot): boolean {
    const waiter = this.pushWaiters.get(snapshot.taskId);
    if (!waiter) return false;
    waiter(snapshot);
    return true;
  }

  /** Resumes every job that was not delivered before the last stop; waiting jobs keep their queue order. */
  async start(): Promise<void> {
    const ids = await this.open.all();
    const records = await this.jobs.getMany(ids);
    const waiting: JobRecord[] = [];
    for (const id of ids) {
      const job = records.get(id);
      if (!job) {
        await this.open.remove(id);
        continue;
      }
      // Waiting jobs are queued once every running one holds its slot, so none starts too early.
      if (job.state === "queued" && job.launchedAt !== undefined) waiting.push(job);
      else await this.resume(job);
    }
    const served = await this.options.store.keyv.get<number>(servedRoundKey);
    if (typeof served === "number") this.savedRound = served;
    await this.requeue(waiting, typeof served === "number" ? served : undefined);
  }

  /** Stops taking work and lets running trackers end; their records stay `running` for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.allSettled([...this.tracking]);
    await this.roundWrites;
  }

  private async resume(job: JobRecord): Promise<void> {
    if (isFinished(job)) {
      this.emitFinished(job);
      return;
    }
    switch (job.state) {
      case "queued":
        // Prepared but never shown or launched: nothing reached a provider, so forget it.
        await this.markDelivered(job.id);
        return;
      case "submitting": {
        // We cannot know whether the provider received it; re-sending could charge twice.
        const failed = await this.fail(job.id, {
          kind: "transient",
          advice: "retry",
          message:
            "Atelier restarted while sending this job, so it may or may not have started. It was not sent again to avoid paying twice: press 🔄 to run it again.",
        });
        if (failed) this.emitFinished(failed);
        return;
      }
      case "running":
        this.queue.markRunning(queueEntryOf(job));
        this.startTracking(job);
        return;
    }
  }

  /** Rebuilds the queue from persisted tickets; jobs queued before tickets existed get one, in creation order. */
  private async requeue(jobs: JobRecord[], servedRound: number | undefined): Promise<void> {
    const ticketed = jobs.filter((job) => job.queueSeq !== undefined && job.queueRound !== undefined);
    this.queue.restore(ticketed.map(queueEntryOf), servedRound);
    for (const job of ticketed) this.waitingJobs.set(job.id, job);
    for (const job of jobs) {
      if (job.queueSeq !== undefined && job.queueRound !== undefined) continue;
      const ticket = this.queue.ticket(job.requesterId);
      const updated = await this.update(job.id, { queueRound: ticket.round, queueSeq: ticket.seq });
      if (updated) {
        this.queue.add(queueEntryOf(updated));
        this.waitingJobs.set(updated.id, updated);
      }
    }
    this.pump();
  }

  private async cancelWaiting(id: string, userId: string): Promise<CancelOutcome> {
    this.waitingJobs.delete(id);
    this.shownPositions.delete(id);
    this.schedulePositions();
    const failed = await this.fail(id, cancelledError(userId, "waiting"));
    if (failed) this.emitFinished(failed);
    return { kind: "cancelled" };
  }

  private async cancelRunning(job: JobRecord, userId: string): Promise<CancelOutcome> {
    const provider = this.options.providers.get(job.provider);
    if (!provider?.capabilities.cancel || !provider.cancel || !job.taskId)
      return { kind: "refused", message: "The image service cannot stop a job once it has started." };
    this.cancelRequests.set(job.id, userId);
    try {
      await provider.cancel(job.taskId, this.abort.signal);
    } catch (error) {
      this.cancelRequests.delete(job.id);
      this.logFailure(job, error);
      return { kind: "refused", message: `The image service did not cancel it: ${(error as Error).message}` };
    }
    // The tracker sees the task end as cancelled and finishes the job (see `track`).
    return { kind: "cancelled" };
  }

  private newRecord(fields: NewJobFields): JobRecord {
    const now = this.now();
    return jobRecordSchema.parse({
      ...fields,
      id: newJobId(),
      state: "queued",
      delivered: false,
      imageUrls: [],
      pressed: [],
      createdAt: now,
      updatedAt: now,
    });
  }

  private async persistNew(job: JobRecord): Promise<void> {
    this.queue.hold(job.requesterId);
    await this.jobs.set(job.id, job);
    await this.open.add(job.id);
  }

  /** Queues a launched job; `shownPosition` is what its message already says (0: "Waiting to start"). */
  private enqueue(job: JobRecord, shownPosition?: number): void {
    this.queue.add(queueEntryOf(job));
    this.waitingJobs.set(job.id, job);
    if (shownPosition !== undefined) this.shownPositions.set(job.id, shownPosition);
    this.pump();
  }

  /** Starts every job the fair queue lets start now. */
  private pump(): void {
    while (!this.stopping) {
      const entry = this.queue.take();
      if (!entry) break;
      const id = entry.id;
      this.waitingJobs.delete(id);
      this.shownPositions.delete(id);
      const run = this.run(id)
        .catch((error: unknown) =>
          this.options.logger.error("job crashed", { job: id, error: String(error) }),
        )
        .finally(() => {
          this.tracking.delete(run);
        });
      this.tracking.add(run);
    }
    this.schedulePositions();
    this.saveRound();
  }

  /** Saves the served round when it moved (once per round, not per job). */
  private saveRound(): void {
    const round = this.queue.round;
    if (round === this.savedRound) return;
    this.savedRound = round;
    this.roundWrites = this.roundWrites
      .then(() => this.options.store.keyv.set(servedRoundKey, round))
      .then(
        () => undefined,
        (error: unknown) =>
          this.options.logger.warn("saving the queue round failed", { error: String(error) }),
      );
  }

  /** Reports changed queue positions once per turn of the event loop, however many jobs moved. */
  private schedulePositions(): void {
    if (this.positionsScheduled) return;
    this.positionsScheduled = true;
    setImmediate(() => {
      this.positionsScheduled = false;
      if (!this.stopping) this.reportPositions();
    });
  }

  private reportPositions(): void {
    for (const [id, position] of this.queue.positions()) {
      const job = this.waitingJobs.get(id);
      if (!job || this.shownPositions.get(id) === position) continue;
      this.shownPositions.set(id, position);
      this.emitProgress({ ...job, queuePosition: position });
    }
  }

  private async run(id: string): Promise<void> {
    const sources = await this.fetchSources(id);
    if (sources === undefined) return;
    const job = await this.update(id, { state: "submitting" });
    if (!job) {
      this.release(id);
      return;
    }
    this.emitProgress(job);
    let submitted: SubmitResult;
    try {
      submitted = await this.submit(job, sources);
    } catch (error) {
      this.logFailure(job, error);
      const failed = await this.fail(id, toJobError(error));
      this.release(id);
      if (failed) this.emitFinished(failed);
      return;
    }
    if (submitted.kind === "done") {
      const completed = await this.complete(id, submitted.snapshot, submitted.warnings);
      this.release(id);
      if (completed) this.emitFinished(completed);
      return;
    }
    const running = await this.update(id, {
      state: "running",
      taskId: submitted.taskId,
      submittedAt: this.now(),
      queuePosition: submitted.queuePosition,
      credits: submitted.usage?.credits,
      warnings: [...job.warnings, ...submitted.warnings],
    });
    if (!running) return this.release(id);
    this.emitProgress(running);
    await this.track(running);
  }

  /**
   * The images a /blend or /describe sends, fetched while the job still counts as queued: a stop or
   * a broken link here has sent nothing. Undefined when the job ended (failed, delivered as an error)
   * or the service is stopping (it stays queued and starts again at the next start).
   */
  private async fetchSources(id: string): Promise<ImageInput[] | undefined> {
    const job = await this.jobs.get(id);
    if (!job?.sourceUrls?.length) return [];
    const urls = job.sourceUrls;
    const fetch = this.options.fetchSourceImage;
    try {
      if (!fetch) throw new Error("this Atelier is not set up to fetch images for /blend and /describe.");
      return await Promise.all(urls.map((url) => fetch(url, this.abort.signal)));
    } catch (error) {
      if (this.abort.signal.aborted) return undefined;
      this.options.logger.warn("fetching an image to send failed", {
        job: id,
        message: (error as Error).message,
      });
      const failed = await this.fail(id, sourceFetchError(error));
      this.release(id);
      if (failed) this.emitFinished(failed);
      return undefined;
    }
  }

  private startTracking(job: JobRecord): void {
    const run = this.track(job)
      .catch((error: unknown) =>
        this.options.logger.error("job crashed", { job: job.id, error: String(error) }),
      )
      .finally(() => {
        this.tracking.delete(run);
      });
    this.tracking.add(run);
  }

  private async track(job: JobRecord): Promise<void> {
    const provider = this.requireProvider(job.provider);
    const taskId = job.taskId as string;
    let last = { progress: job.progress, queuePosition: job.queuePosition, previewUrl: job.previewUrl };
    try {
      const snapshot = await trackTask(provider, taskId, {
        pollIntervalMs: this.options.pollIntervalMs,
        startedAt: job.submittedAt ?? job.createdAt,
        timeoutMs: this.options.timeoutMs ?? provider.capabilities.maxTaskDurationMs,
        signal: this.abort.signal,
        now: this.now,
        nextPush: () => new Promise((resolve) => this.pushWaiters.set(taskId, resolve)),
        onUpdate: async (update) => {
          const next = {
            progress: update.progress,
            queuePosition: update.queuePosition,
            previewUrl: update.previewUrl,
          };
          if (update.status === "completed" || update.status === "failed") return;
          if (JSON.stringify(next) === JSON.stringify(last)) return;
          last = next;
          // Progress is not a transition: shown, not persisted (a restart polls it again at once).
          this.emitProgress({ ...job, ...next, updatedAt: this.now() });
        },
      });
      this.cancelRequests.delete(job.id);
      const completed = await this.complete(job.id, snapshot, []);
      this.release(job.id);
      if (completed) this.emitFinished(completed);
    } catch (error) {
      this.pushWaiters.delete(taskId);
      if (this.abort.signal.aborted) return; // shutting down: the record stays `running` and resumes at start
      const cancelledBy = this.cancelRequests.get(job.id);
      this.cancelRequests.delete(job.id);
      if (cancelledBy === undefined) this.logFailure(job, error);
      const failed = await this.fail(
        job.id,
        cancelledBy === undefined ? toJobError(error) : cancelledError(cancelledBy, "running"),
      );
      this.release(job.id);
      if (failed) this.emitFinished(failed);
      return;
    }
    this.pushWaiters.delete(taskId);
  }

  /** A job left its running slot: the next waiting job may start. */
  private release(id: string): void {
    this.queue.finish(id);
    this.pump();
  }

  /** Sends the job to its provider. No abort signal: a create cut off by shutdown would leave it unknowable whether it started. */
  private async submit(job: JobRecord, sources: ImageInput[]): Promise<SubmitResult> {
    const provider = this.requireProvider(job.provider);
    if (job.kind === "blend") return this.submitBlend(provider, job, sources);
    if (job.kind === "describe") return this.submitDescribe(provider, sources);
    const prompt = this.parseStored(job);
    if (job.kind === "imagine") return provider.imagine({ prompt, speed: job.speed, quality: job.quality });
    const parent = job.parentId ? await this.jobs.get(job.parentId) : undefined;
    if (!parent)
      throw new ProviderError("invalid", "The image this button belongs to is no longer known to Atelier.");
    return provider.followUp(this.followUpRequest(job, parent, prompt));
  }

  private submitBlend(provider: ImageProvider, job: JobRecord, images: ImageInput[]): Promise<SubmitResult> {
    if (!provider.capabilities.blend || !provider.blend)
      throw new ProviderError("invalid", `The image service ${provider.name} cannot blend images.`);
    return provider.blend({ images, dimensions: job.dimensions ?? "square" });
  }

  private submitDescribe(provider: ImageProvider, [image]: ImageInput[]): Promise<SubmitResult> {
    if (!provider.capabilities.describe || !provider.describe)
      throw new ProviderError("invalid", `The image service ${provider.name} cannot describe images.`);
    if (!image) throw new ProviderError("invalid", "There is no image to describe.");
    return provider.describe({ image });
  }

  private followUpRequest(job: JobRecord, parent: JobRecord, prompt: ParsedPrompt): FollowUpRequest {
    const parentTask: ParentTask = {
      taskId: parent.taskId ?? "",
      prompt: this.parseStored(parent),
      imageUrls: parent.imageUrls,
      gridUrl: parent.gridUrl,
      speed: parent.speed,
      quality: parent.quality,
      buttons: parent.buttons,
    };
    const edited = job.prompt === parent.prompt ? undefined : prompt;
    switch (job.kind) {
      case "upscale":
        return { kind: "upscale", parent: parentTask, index: job.index ?? 1, style: job.upscaleStyle };
      case "variation":
        return {
          kind: "variation",
          parent: parentTask,
          index: job.index ?? 1,
          strength: job.strength ?? "strong",
          prompt: edited,
        };
      case "reroll":
        return { kind: "reroll", parent: parentTask, prompt: edited };
      case "hd":
        return { kind: "hd", parent: parentTask };
      default:
        return { kind: "action", parent: parentTask, customId: job.customId ?? "" };
    }
  }

  private parseStored(job: JobRecord): ParsedPrompt {
    const parsed = parsePrompt(job.prompt, {
      maxLength: Number.MAX_SAFE_INTEGER,
      maxJobs: Number.MAX_SAFE_INTEGER,
    });
    if (!parsed.ok)
      throw new ProviderError("invalid", `The stored prompt no longer parses: ${parsed.error.message}`);
    return { ...parsed.prompt, warnings: [] };
  }

  private requireProvider(name: string): ImageProvider {
    const provider = this.options.providers.get(name);
    if (!provider) {
      throw new ProviderError(
        "internal",
        `This job belongs to the image service "${name}", which is no longer configured. Tell an admin.`,
      );
    }
    return provider;
  }

  private complete(id: string, snapshot: TaskSnapshot, warnings: string[]): Promise<JobRecord | undefined> {
    return this.update(id, (job) => {
      // A describe is only useful with its prompts; "done" without them is the service's failure.
      if (job.kind === "describe" && !snapshot.descriptions?.length)
        return { state: "failed", error: noDescriptionsError, finishedAt: this.now() };
      return this.completedFields(job, snapshot, warnings);
    });
  }

  private completedFields(job: JobRecord, snapshot: TaskSnapshot, warnings: string[]): Partial<JobRecord> {
    return {
      state: "completed",
      progress: 100,
      imageUrls: snapshot.imageUrls,
      gridUrl: snapshot.gridUrl,
      buttons: snapshot.buttons,
      descriptions: snapshot.descriptions,
      credits: snapshot.usage?.credits ?? job.credits,
      warnings: [...job.warnings, ...warnings],
      finishedAt: this.now(),
    };
  }

  private fail(id: string, error: JobError): Promise<JobRecord | undefined> {
    return this.update(id, { state: "failed", error, finishedAt: this.now() });
  }

  /** Read-modify-write of one record, serialized per job so concurrent updates never lose each other. */
  private update(
    id: string,
    change: Partial<JobRecord> | ((job: JobRecord) => Partial<JobRecord>),
  ): Promise<JobRecord | undefined> {
    return this.updates.run(id, async () => {
      const job = await this.jobs.get(id);
      if (!job) return undefined;
      const fields = typeof change === "function" ? change(job) : change;
      const updated = { ...job, ...fields, updatedAt: this.now() };
      await this.jobs.set(id, updated);
      return updated;
    });
  }

  private logFailure(job: JobRecord, error: unknown): void {
    const kind = error instanceof ProviderError ? error.kind : "internal";
    const level = kind === "internal" ? "error" : "warn";
    this.options.logger[level]("job failed", { job: job.id, kind, message: (error as Error)?.message });
  }

  private emitProgress(job: JobRecord): void {
    for (const listener of this.listeners) listener.onProgress(job);
  }

  private emitFinished(job: JobRecord): void {
    for (const listener of this.listeners) listener.onFinished(job);
  }
}
