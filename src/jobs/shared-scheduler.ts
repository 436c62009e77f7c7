// The scheduler many processes share, on BullMQ over Redis. One BullMQ queue per provider account
// ("lane") with a global concurrency of MAX_RUNNING_JOBS holds the account's limit across every
// process; each process runs a worker per lane. People take turns: a job's BullMQ priority is its
// round (queue.ts: a person's n-th waiting job is in round n), and BullMQ serves equal priorities in
// arrival order, so jobs start in (round, seq) order as in the in-process queue. Per-person limits
// are counted in Redis: a job whose person is at their running limit steps aside (a short delay,
// cut short when one of their jobs ends) and keeps its priority, so the next person's job goes first.
//
// A worker's claim on a job is a lock it renews; if its process dies, another process's stalled-job
// check hands the job to a live worker, which continues it from its record (service.ts `resume`):
// a job found `submitting` is never sent again silently, a `running` one is tracked where it was.
// Delivery outlives the run (Discord may be slow or away), so a finished job gets a lease in one
// sorted set (scored by when it runs out): the delivering process renews it until the job is
// delivered, and every process looks for leases that ran out (that process died) and delivers those
// jobs itself. One command to take a lease and one to drop it: a BullMQ job per delivery cost ~7
// (adding it woke a blocked worker, which fetched nothing and blocked again).
import type { Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import type { Store } from "../store/index.ts";
import { type RedisScript, redisScript } from "../store/redis-script.ts";
import { sharedPrefix } from "../store/shared.ts";
import { jobText } from "./messages.ts";
import { type FairQueueLimits, type QueueAdmission, type QueueTicket, waitingAdmission } from "./queue.ts";
import type { JobRecord } from "./record.ts";
import type { Scheduler, SchedulerEvents } from "./scheduler.ts";

export interface SharedSchedulerOptions extends FairQueueLimits {
  store: Store;
  logger: Logger;
  events: SchedulerEvents;
  /** Reads a job's record: what a worker continues from. */
  load(id: string): Promise<JobRecord | undefined>;
  /** Aborted when this process shuts down: its runs end `stopped` and their jobs go back in line. */
  signal: AbortSignal;
  /** The provider accounts this process runs jobs for (a worker each). */
  lanes: readonly string[];
  /** How long a worker's claim lasts without renewal: a dead process's jobs move on after about this long. */
  lockMs?: number;
  /** How often waiting messages' positions are refreshed. */
  positionsIntervalMs?: number;
}

/** What an asker is told while Redis is away: nothing new is taken, nothing is lost. */
export const redisUnavailable = jobText("database-away", {});

const queuePrefix = "atelier-queue";
/** A job written but not shown yet waits this long before any process may run it (see `place`). */
const unshownGraceMs = 60_000;
/** A job stepping aside for its person's running limit looks again after this long at the latest. */
const stepAsideMs = 5_000;
/** BullMQ priorities run from 1 (first) to 2^21 − 1. */
const maxPriority = 2 ** 21 - 1;
/**
 * A job is handed on however often its processes die (it is never failed for that); after a Redis
 * outage a worker fetches again within a second (BullMQ's default waits 15 s after a failed fetch).
 */
const workerResilience = { maxStalledCount: 1_000, runRetryDelay: 1_000 } as const;
/** Reruns of a run that crashed (a bug, or Redis away mid-write), with growing delays. */
const crashRetries = { attempts: 8, backoff: { type: "exponential", delay: 1_000 } } as const;

/** Round + person's last round → this ticket's round; `seq` orders a round. Held until enqueued or dropped. */
const ticketScript = {
  name: "atelierTicket",
  numberOfKeys: 4,
  lua: `
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
local last = redis.call("HGET", KEYS[2], ARGV[1])
local round = current
if last then round = math.max(current, tonumber(last) + 1) end
redis.call("HSET", KEYS[2], ARGV[1], round)
local seq = redis.call("INCR", KEYS[3])
redis.call("ZADD", KEYS[4], ARGV[2], seq)
return {round, seq}`,
};

/** How many jobs a person has waiting: queued ones, and tickets not yet queued that have not expired. */
const waitingScript = {
  name: "atelierWaiting",
  numberOfKeys: 2,
  lua: `
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
return redis.call("ZCARD", KEYS[1]) + redis.call("SCARD", KEYS[2])`,
};

/**
 * Takes one of the person's running slots for the job (idempotent); ARGV[3] = "1" takes it over the
 * limit. A job that takes its slot starts: the round being served (KEYS[3]) moves up to its round
 * (ARGV[4]), never back.
 */
const takeSlotScript = {
  name: "atelierTakeSlot",
  numberOfKeys: 3,
  lua: `
if redis.call("SISMEMBER", KEYS[1], ARGV[1]) == 0 then
  if ARGV[3] ~= "1" and redis.call("SCARD", KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
  redis.call("SADD", KEYS[1], ARGV[1])
  redis.call("SREM", KEYS[2], ARGV[1])
end
local serving = tonumber(redis.call("GET", KEYS[3]) or "0")
if tonumber(ARGV[4]) > serving then redis.call("SET", KEYS[3], ARGV[4]) end
return 1`,
};

/** A shown job joins its person's waiting set; the ticket held for it (KEYS[1], member ARGV[1]) is done. */
const enqueuedScript = {
  name: "atelierEnqueued",
  numberOfKeys: 2,
  lua: `
redis.call("ZREM", KEYS[1], ARGV[1])
redis.call("SADD", KEYS[2], ARGV[2])
return 1`,
};

/** Frees the job's running slot and returns the person's jobs that stepped aside, which are let back. */
const freeSlotScript = {
  name: "atelierFreeSlot",
  numberOfKeys: 2,
  lua: `
redis.call("SREM", KEYS[1], ARGV[1])
local parked = redis.call("SMEMBERS", KEYS[2])
redis.call("DEL", KEYS[2])
return parked`,
};

/** A waiting job taken out of line is no longer the person's: out of their waiting and stepped-aside sets. */
const unwaitScript = {
  name: "atelierUnwait",
  numberOfKeys: 2,
  lua: `
redis.call("SREM", KEYS[1], ARGV[1])
redis.call("SREM", KEYS[2], ARGV[1])
return 1`,
};

/**
 * Takes over up to ARGV[3] leases that ran out before ARGV[1], leasing them to the caller until
 * ARGV[2]; returns their ids. Atomic: two processes never take the same lease in one look.
 */
const claimDeliveriesScript = {
  name: "atelierClaimDeliveries",
  numberOfKeys: 1,
  lua: `
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call("ZADD", KEYS[1], ARGV[2], id) end
return ids`,
};
/** Leases taken over in one look (the rest at the next look). */
const claimBatch = 50;

/**
 * BullMQ is loaded only where Redis is configured: one process on the embedded store never needs
 * it. Loaded once: each `import()` is a trip through the module loader, even for a loaded module.
 */
type BullMq = typeof import("bullmq");
let bullMq: Promise<BullMq> | undefined;
const loadBullMq = (): Promise<BullMq> => {
  bullMq ??= import("bullmq");
  return bullMq;
};

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

export class BullMqScheduler implements Scheduler {
  readonly shared = true;
  private readonly redis: Redis;
  /**
   * BullMQ's connection, also for every write that must happen even if Redis is away for a moment
   * (freeing a slot, queueing a shown job): it waits for Redis instead of failing. Only admission
   * uses the store's client, which fails at once so the asker gets an answer.
   */
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** Jobs this process queued and has not seen start: it keeps their waiting messages' positions current. */
  private readonly waiting = new Map<string, JobRecord>();
  private readonly shown = new Map<string, number>();
  private lastOrder: string[] = [];
  private positionsTimer: NodeJS.Timeout | undefined;
  /** Finished jobs this process is delivering; their leases are renewed while they are here. */
  private readonly delivering = new Set<string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly scripts: Record<
    "waiting" | "ticket" | "takeSlot" | "enqueued" | "freeSlot" | "unwait" | "claimDeliveries",
    RedisScript
  >;

  constructor(private readonly options: SharedSchedulerOptions) {
    if (!options.store.redis || !options.store.redisUrl) throw new Error("The shared scheduler needs Redis");
    this.redis = options.store.redis;
    this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, lazyConnect: false });
    this.connection.on("error", () => undefined);
    this.scripts = {
      // Admission's: on the store's client, which fails at once while Redis is away.
      waiting: redisScript(this.redis, waitingScript),
      ticket: redisScript(this.redis, ticketScript),
      takeSlot: redisScript(this.connection, takeSlotScript),
      enqueued: redisScript(this.connection, enqueuedScript),
      freeSlot: redisScript(this.connection, freeSlotScript),
      unwait: redisScript(this.connection, unwaitScript),
      claimDeliveries: redisScript(this.connection, claimDeliveriesScript),
    };
  }

  async admit(userId: string, count: number): Promise<QueueAdmission> {
    if (this.redis.status !== "ready") return { ok: false, ...redisUnavailable };
    try {
      const waiting = Number(
        await this.scripts.waiting(this.key(`held:${userId}`), this.key(`waiting:${userId}`), Date.now()),
      );
      return waitingAdmission(waiting, count, this.options.maxWaitingPerUser);
    } catch {
      return { ok: false, ...redisUnavailable };
    }
  }

  async ticket(userId: string): Promise<QueueTicket> {
    const [round, seq] = (await this.scripts.ticket(
      this.key("round"),
      this.key("last-round"),
      this.key("seq"),
      this.key(`held:${userId}`),
      userId,
      Date.now() + unshownGraceMs,
    )) as [number, number];
    return { round, seq };
  }

  /** Placed with a delay: shown in time, `enqueue` lets it start; if this process died, it starts anyway. */
  async place(job: JobRecord): Promise<void> {
    await this.add(job);
  }

  private async add(job: JobRecord): Promise<Job> {
    return (await this.queue(job.provider)).add(
      "job",
      { id: job.id },
      {
        jobId: job.id,
        priority: Math.min(Math.max(job.queueRound ?? 0, 0) + 1, maxPriority),
        delay: unshownGraceMs,
        removeOnComplete: true,
        removeOnFail: 1_000,
        ...crashRetries,
      },
    );
  }

  async enqueue(job: JobRecord, shownPosition?: number): Promise<void> {
    await this.scripts.enqueued(
      this.key(`held:${job.requesterId}`),
      this.key(`waiting:${job.requesterId}`),
      String(job.queueSeq ?? ""),
      job.id,
    );
    this.waiting.set(job.id, job);
    if (shownPosition !== undefined) this.shown.set(job.id, shownPosition);
    await this.letStart(job);
    // Its position is refreshed with the others (every positionsIntervalMs): reading the whole line
    // for each new job cost every process a Redis call per job, hundreds of ids long in a burst.
  }

  /**
   * Placed when it was created: it may start now. Promoted by id without reading BullMQ's copy first
   * (a round trip per job); only when that fails is it looked for — a process that died before
   * showing it never placed it (or BullMQ lost it), and a job started meanwhile needs nothing.
   */
  private async letStart(job: JobRecord): Promise<void> {
    const { Job } = await loadBullMq();
    const lane = await this.queue(job.provider);
    const placed = new Job(lane, "job", { id: job.id }, {}, job.id);
    const promoted = await placed.promote().then(
      () => true,
      () => false,
    );
    if (promoted || (await Job.fromId(lane, job.id))) return;
    await (await this.add(job)).promote().catch(() => undefined);
  }

  async drop(userId: string, ticket: QueueTicket, jobId?: string): Promise<void> {
    await this.connection.zrem(this.key(`held:${userId}`), String(ticket.seq));
    if (jobId === undefined) return;
    for (const queue of this.queues.values()) await queue.remove(jobId);
  }

  async remove(job: JobRecord): Promise<boolean> {
    // A job a worker holds (starting or running) is locked: BullMQ refuses, and it is not waiting.
    const removed = await (await this.queue(job.provider)).remove(job.id);
    if (removed !== 1) return false;
    await this.scripts.unwait(
      this.key(`waiting:${job.requesterId}`),
      this.key(`parked:${job.requesterId}`),
      job.id,
    );
    this.forget(job.id);
    return true;
  }

  /** The worker that ran the job frees the person's slot when the run ends (see `process`). */
  release(): void {}

  async watchDelivery(job: JobRecord): Promise<void> {
    this.delivering.add(job.id);
    await this.connection.zadd(this.key("delivering"), Date.now() + this.lockMs(), job.id);
  }

  delivered(id: string): void {
    if (!this.delivering.delete(id)) return;
    this.connection.zrem(this.key("delivering"), id).catch(() => undefined);
  }

  /** Starts this process's workers; jobs of a process that died come back through BullMQ's stalled-job check. */
  async restore(): Promise<void> {
    const { Worker } = await loadBullMq();
    const lockDuration = this.lockMs();
    for (const lane of this.options.lanes) {
      const queue = await this.queue(lane);
      if (Number.isFinite(this.options.maxRunningPerLane))
        await queue.setGlobalConcurrency(this.options.maxRunningPerLane);
      const worker = new Worker(queue.name, (job, token) => this.process(lane, job, token), {
        connection: this.connection,
        prefix: queuePrefix,
        concurrency: finiteOr(this.options.maxRunningPerLane, 50),
        lockDuration,
        stalledInterval: lockDuration,
        ...workerResilience,
      });
      worker.on("error", (error) => this.options.logger.debug("queue worker error", { lane, error }));
      this.workers.push(worker);
    }
    this.leaseTimer = this.repeat(lockDuration / 3, () => this.renewLeases(), "delivery leases not renewed");
    // Twice a lease: a job whose delivering process died is delivered within 1.5 leases of its end.
    this.claimTimer = this.repeat(
      lockDuration / 2,
      () => this.claimDeliveries(),
      "delivery leases not read",
      {
        now: true,
      },
    );
    this.positionsTimer = this.repeat(
      this.options.positionsIntervalMs ?? 1_000,
      () => this.refreshPositions(),
      "queue positions not read",
    );
  }

  order(): string[] {
    return this.lastOrder;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.positionsTimer);
    clearInterval(this.leaseTimer);
    clearInterval(this.claimTimer);
    // Running jobs see the service's abort, go back to the queue (`stopped`), and their workers close.
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.connection.disconnect();
  }

  /** One job handed to this process by BullMQ: continue it from its record, then free its person's slot. */
  private async process(lane: string, bullJob: Job, token: string | undefined): Promise<void> {
    const id = bullJob.id as string;
    const job = await this.options.load(id);
    if (!job) return;
    const person = job.requesterId;
    // Delivered already (a process died after its run ended, and a watch delivered it): only the
    // person's slot that run may have left taken is freed.
    if (job.delivered) return this.freeSlot(lane, person, id);
    const started = job.state !== "queued";
    const slot = Number(
      await this.scripts.takeSlot(
        this.key(`running:${person}`),
        this.key(`waiting:${person}`),
        this.key("round"),
        id,
        finiteOr(this.options.maxRunningPerUser, 1e9),
        started ? "1" : "0",
        job.queueRound ?? 0,
      ),
    );
    if (slot !== 1) {
      // At their running limit: step aside, keeping the priority (the place in line).
      await this.connection.sadd(this.key(`parked:${person}`), id);
      await bullJob.moveToDelayed(Date.now() + stepAsideMs, token);
      throw new (await loadBullMq()).DelayedError();
    }
    this.forget(id);
    let end: Awaited<ReturnType<SchedulerEvents["start"]>> = "crashed";
    try {
      end = await this.options.events.start(job);
    } finally {
      await this.freeSlot(lane, person, id);
    }
    // A run ends `stopped` only when this process shuts down (one that finds the job sent by another
    // run follows it to its end: service.ts `follow`), so the slot is freed only once the task ended.
    if (end === "stopped" && this.options.signal.aborted) {
      // Shutting down: the job goes back in line with its priority, for whichever process is next.
      await bullJob.moveToWait(token);
      throw new (await loadBullMq()).WaitingError();
    }
    if (end === "crashed") throw new Error(`job ${id} crashed; it runs again after a delay`);
  }

  /** Runs `work` every `ms` (and at once with `now`), one run at a time, while Redis answers. */
  private repeat(
    ms: number,
    work: () => Promise<void>,
    failure: string,
    { now = false }: { now?: boolean } = {},
  ): NodeJS.Timeout {
    let running = false;
    const runOnce = () => {
      if (running || this.stopping || this.redis.status !== "ready") return;
      running = true;
      work()
        .catch((error: unknown) => this.options.logger.debug(failure, { error }))
        .finally(() => {
          running = false;
        });
    };
    if (now) runOnce();
    const timer = setInterval(runOnce, ms);
    timer.unref();
    return timer;
  }

  /**
   * Delivers the finished jobs whose delivering process let their lease run out (it died). The
   * lease is taken before the record is read: its holder records the delivery before dropping the
   * lease, so a record read after taking a lease that ran out is never one just delivered.
   */
  private async claimDeliveries(): Promise<void> {
    const now = Date.now();
    const ids = (await this.scripts.claimDeliveries(
      this.key("delivering"),
      now,
      now + this.lockMs(),
      claimBatch,
    )) as string[];
    for (const id of ids) {
      const job = await this.options.load(id);
      // Delivered (or gone): nothing left to watch. Else its delivery starts here, which leases it
      // to this process (watchDelivery) until it is delivered.
      if (!job || job.delivered) await this.connection.zrem(this.key("delivering"), id);
      else if (!this.stopping) await this.options.events.start(job);
    }
  }

  private async renewLeases(): Promise<void> {
    if (this.delivering.size === 0) return;
    const renew = this.connection.pipeline();
    const until = Date.now() + this.lockMs();
    // XX: a lease dropped meanwhile is not taken again.
    for (const id of this.delivering) renew.zadd(this.key("delivering"), "XX", until, id);
    await renew.exec();
  }

  private lockMs(): number {
    return this.options.lockMs ?? 30_000;
  }

  /** Frees the person's slot and lets their jobs that stepped aside back in line. */
  private async freeSlot(lane: string, person: string, id: string): Promise<void> {
    const parked = (await this.scripts.freeSlot(
      this.key(`running:${person}`),
      this.key(`parked:${person}`),
      id,
    )) as string[];
    for (const parkedId of parked) await this.promote(lane, parkedId);
  }

  private async promote(lane: string, id: string): Promise<void> {
    const { Job } = await loadBullMq();
    const job = await Job.fromId(await this.queue(lane), id);
    // Already started or gone: nothing to let in.
    await job?.promote().catch(() => undefined);
  }

  private async queue(lane: string): Promise<Queue> {
    const { Queue } = await loadBullMq();
    let queue = this.queues.get(lane);
    if (!queue) {
      queue = new Queue(`lane-${lane}`, { connection: this.connection, prefix: queuePrefix });
      queue.on("error", (error) => this.options.logger.debug("queue error", { lane, error }));
      this.queues.set(lane, queue);
    }
    return queue;
  }

  private forget(id: string): void {
    this.waiting.delete(id);
    this.shown.delete(id);
  }

  /**
   * Positions of the jobs this process queued, from each lane's line as Redis has it now. Other
   * processes add and start jobs meanwhile, so a shown position can be a moment old.
   */
  private async refreshPositions(): Promise<void> {
    const order: string[] = [];
    for (const [lane, queue] of this.queues) {
      if (
        !this.options.lanes.includes(lane) &&
        ![...this.waiting.values()].some((job) => job.provider === lane)
      )
        continue;
      const ids = await queue.getRanges(["prioritized", "wait"], 0, -1, true);
      order.push(...ids);
      for (const [index, id] of ids.entries()) {
        const job = this.waiting.get(id);
        if (!job || this.shown.get(id) === index) continue;
        this.shown.set(id, index);
        this.options.events.position(job, index);
      }
      const inLine = new Set(ids);
      for (const job of this.waiting.values()) {
        if (job.provider !== lane || inLine.has(job.id)) continue;
        // Not in line: stepping aside or not shown yet (delayed), else started by some process.
        if ((await queue.getJobState(job.id)) !== "delayed") this.forget(job.id);
      }
    }
    this.lastOrder = order;
  }

  private key(name: string): string {
    return `${sharedPrefix}sched:${name}`;
  }
}
