// Which job starts when: fair turns between people, limits per provider account and per person,
// and the queue positions shown on waiting messages. The service talks to the `Scheduler`
// interface; this file holds the in-process implementation over the fair queue (queue.ts), and
// shared-scheduler.ts the one on BullMQ that many processes share through Redis.
import type { Logger } from "../log.ts";
import type { Store } from "../store/index.ts";
import {
  FairQueue,
  type FairQueueLimits,
  type QueueAdmission,
  type QueueEntry,
  type QueueTicket,
} from "./queue.ts";
import type { JobRecord } from "./record.ts";

/** How a job's run ended: `stopped` by a shutdown (left as it is for another start), `crashed` by a bug or an outage. */
export type RunEnd = "ended" | "stopped" | "crashed";

export interface SchedulerEvents {
  /**
   * The job may run now, from wherever its record says it is; resolves once the run ended. It holds
   * a running slot until `release`.
   */
  start(job: JobRecord): Promise<RunEnd>;
  /** A waiting job's place in line changed. */
  position(job: JobRecord, position: number): void;
}

export interface Scheduler {
  /**
   * Whether jobs are shared with other processes: then the shared queue itself hands out every open
   * job (also those of a process that died), and a starting process must not resume them from the records.
   */
  readonly shared: boolean;
  /** Whether `userId` may queue `count` more jobs now; ask before showing anything. */
  admit(userId: string, count: number): Promise<QueueAdmission>;
  /** A ticket for a new job; until `enqueue` or `drop` the job counts as waiting for its requester. */
  ticket(userId: string): Promise<QueueTicket>;
  /** A ticketed job is written but not shown yet: if this process dies before `enqueue`, it still runs. */
  place(job: JobRecord): Promise<void>;
  /** Queues a ticketed job; `shownPosition` is what its message already says. */
  enqueue(job: JobRecord, shownPosition?: number): Promise<void>;
  /** A ticketed job that will never be queued (its message could not be shown); `jobId` once it was written. */
  drop(userId: string, ticket: QueueTicket, jobId?: string): Promise<void>;
  /** Takes a waiting job out of line; false when it is not waiting. */
  remove(job: JobRecord): Promise<boolean>;
  /** A started job ended: its slot is free. */
  release(id: string): void;
  /**
   * This process is delivering the finished job: should it die first, another process delivers it
   * (shared). One process: the next start delivers what was not delivered.
   */
  watchDelivery(job: JobRecord): Promise<void>;
  /** The finished job reached its person. */
  delivered(id: string): void;
  /** Rebuilds the line after a restart: running jobs hold their slots, waiting ones keep their tickets. */
  restore(running: JobRecord[], waiting: JobRecord[]): Promise<void>;
  /** Ids of waiting jobs in the order they will start (shared: as last seen, approximately). */
  order(): string[];
  stop(): Promise<void>;
}

export interface InProcessSchedulerOptions extends FairQueueLimits {
  store: Store;
  logger: Logger;
  events: SchedulerEvents;
}

/** Where the served round is saved, so new arrivals after a restart queue as before. */
const servedRoundKey = "jobs:queue-round";

function entryOf(job: JobRecord): QueueEntry {
  return {
    id: job.id,
    userId: job.requesterId,
    lane: job.provider,
    round: job.queueRound ?? 0,
    seq: job.queueSeq ?? 0,
  };
}

export class InProcessScheduler implements Scheduler {
  readonly shared = false;
  private readonly queue: FairQueue;
  /** Records of waiting jobs, so position changes are shown without reading the store. */
  private readonly waiting = new Map<string, JobRecord>();
  /** Position last reported per waiting job (a new message shows 0: "Waiting to start"). */
  private readonly shown = new Map<string, number>();
  private positionsScheduled = false;
  private savedRound = 0;
  private roundWrites: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: InProcessSchedulerOptions) {
    this.queue = new FairQueue(options);
  }

  async admit(userId: string, count: number): Promise<QueueAdmission> {
    return this.queue.admit(userId, count);
  }

  async ticket(userId: string): Promise<QueueTicket> {
    this.queue.hold(userId);
    return this.queue.ticket(userId);
  }

  /** One process: a job written but not shown is found in the records at the next start. */
  async place(): Promise<void> {}

  async enqueue(job: JobRecord, shownPosition?: number): Promise<void> {
    this.queue.unhold(job.requesterId);
    this.queue.add(entryOf(job));
    this.waiting.set(job.id, job);
    if (shownPosition !== undefined) this.shown.set(job.id, shownPosition);
    this.pump();
  }

  async drop(userId: string): Promise<void> {
    this.queue.unhold(userId);
  }

  async remove(job: JobRecord): Promise<boolean> {
    if (!this.queue.remove(job.id)) return false;
    this.forget(job.id);
    this.schedulePositions();
    return true;
  }

  release(id: string): void {
    this.queue.finish(id);
    this.pump();
  }

  async watchDelivery(): Promise<void> {}

  delivered(): void {}

  async restore(running: JobRecord[], waiting: JobRecord[]): Promise<void> {
    for (const job of running) this.queue.markRunning(entryOf(job));
    const served = await this.options.store.keyv.get<number>(servedRoundKey);
    if (typeof served === "number") this.savedRound = served;
    this.queue.restore(waiting.map(entryOf), typeof served === "number" ? served : undefined);
    for (const job of waiting) this.waiting.set(job.id, job);
    this.pump();
  }

  order(): string[] {
    return this.queue.order();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.roundWrites;
  }

  /** Starts every job the fair queue lets start now. */
  private pump(): void {
    while (!this.stopping) {
      const entry = this.queue.take();
      if (!entry) break;
      const job = this.waiting.get(entry.id);
      this.forget(entry.id);
      if (job) void this.options.events.start(job);
      else this.queue.finish(entry.id);
    }
    this.schedulePositions();
    this.saveRound();
  }

  private forget(id: string): void {
    this.waiting.delete(id);
    this.shown.delete(id);
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
        (error: unknown) => this.options.logger.warn("saving the queue round failed", { error }),
      );
  }

  /** Reports changed positions once per turn of the event loop, however many jobs moved. */
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
      const job = this.waiting.get(id);
      if (!job || this.shown.get(id) === position) continue;
      this.shown.set(id, position);
      this.options.events.position(job, position);
    }
  }
}
