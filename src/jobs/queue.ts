// The fair queue: which waiting job starts next. Each provider account ("lane") runs a limited
// number of tasks at once, each user runs and waits a limited number of jobs, and users take turns
// (round robin, one job per user per turn) so one person's burst cannot starve the others.
//
// Turns are stamped on each job as a ticket when it is queued: `round` is the user's turn number
// and `seq` a global arrival counter. Jobs start in (round, seq) order; both are persisted on the
// job record, so a restart rebuilds exactly the same order from the records alone.
import { type JobText, jobText } from "./messages.ts";

export interface QueueTicket {
  /** The turn this job belongs to: a user's next job always goes one round after their previous one. */
  round: number;
  /** Arrival order across all users, breaking ties within a round. */
  seq: number;
}

export interface QueueEntry extends QueueTicket {
  id: string;
  userId: string;
  /** The provider account the job runs on; each has its own running limit. */
  lane: string;
}

export interface FairQueueLimits {
  /** Most jobs running at once on one provider account. */
  maxRunningPerLane: number;
  /** Most jobs one user has running at once (across accounts). */
  maxRunningPerUser: number;
  /** Most jobs one user may have waiting. */
  maxWaitingPerUser: number;
}

/** Room in the queue, or why not (in words any language can say, `message` in English). */
export type QueueAdmission = { ok: true } | ({ ok: false } & JobText);

interface UserState {
  waiting: number;
  /** Jobs prepared (their message being shown) but not queued yet: they count as waiting. */
  held: number;
  running: number;
  /** Round of the user's latest ticket: their next job goes one round later. */
  lastRound: number;
}

function before(a: QueueTicket, b: QueueTicket): boolean {
  return a.round !== b.round ? a.round < b.round : a.seq < b.seq;
}

/** Whether someone with `waiting` jobs waiting may queue `count` more under `limit`; the message says why not. */
export function waitingAdmission(waiting: number, count: number, limit: number): QueueAdmission {
  if (waiting + count <= limit) return { ok: true };
  if (waiting === 0) return { ok: false, ...jobText("queue-over-limit", { count, limit }) };
  if (count === 1) return { ok: false, ...jobText("queue-full", { count: waiting }) };
  return { ok: false, ...jobText("queue-full-adding", { count: waiting, adding: count, limit }) };
}

export class FairQueue {
  /** Waiting entries per lane, kept sorted in start order. */
  private readonly lanes = new Map<string, QueueEntry[]>();
  private readonly waiting = new Map<string, QueueEntry>();
  private readonly running = new Map<string, QueueEntry>();
  private readonly runningPerLane = new Map<string, number>();
  private readonly users = new Map<string, UserState>();
  /** Users with nothing queued or running whose last round is not served yet (see `forgetIdle`). */
  private readonly idle = new Set<string>();
  private nextSeq = 1;
  /** The round now being served: the highest round of any job started so far. */
  private currentRound = 0;

  constructor(private readonly limits: FairQueueLimits) {}

  /** Whether `userId` may queue `count` more jobs; the message says why not. */
  admit(userId: string, count = 1): QueueAdmission {
    const user = this.users.get(userId);
    return waitingAdmission((user?.waiting ?? 0) + (user?.held ?? 0), count, this.limits.maxWaitingPerUser);
  }

  /** A ticket for a new job of `userId`: the round after their previous job, never behind the current round. */
  ticket(userId: string): QueueTicket {
    const user = this.user(userId);
    const round = Math.max(this.currentRound, user.lastRound + 1);
    user.lastRound = round;
    this.settle(userId);
    return { round, seq: this.nextSeq++ };
  }

  /** A job of `userId` is being prepared; until `unhold` it counts as waiting, so two quick asks cannot both pass `admit`. */
  hold(userId: string): void {
    this.user(userId).held += 1;
    this.idle.delete(userId);
  }

  /** The held job was queued or dropped. */
  unhold(userId: string): void {
    const user = this.users.get(userId);
    if (!user || user.held === 0) return;
    user.held -= 1;
    this.settle(userId);
  }

  /** Queues an entry with its ticket (new, or read back from a persisted record). */
  add(entry: QueueEntry): void {
    if (this.waiting.has(entry.id) || this.running.has(entry.id)) return;
    const list = this.lanes.get(entry.lane) ?? [];
    this.lanes.set(entry.lane, list);
    list.splice(this.insertionIndex(list, entry), 0, entry);
    this.waiting.set(entry.id, entry);
    this.noteTicket(entry);
    this.user(entry.userId).waiting += 1;
    this.idle.delete(entry.userId);
  }

  /**
   * Rebuilds the queue after a restart: running jobs first (`markRunning`), then every waiting job with
   * its persisted ticket, and the round being served (`round`) when it was saved; without it, new
   * arrivals join at the first round still waiting, behind the jobs already in it.
   */
  restore(entries: readonly QueueEntry[], servedRound?: number): void {
    for (const entry of entries) this.add(entry);
    const fallback = this.firstWaitingRound() ?? this.currentRound;
    this.currentRound = Math.max(this.currentRound, servedRound ?? fallback);
  }

  /** The round being served; worth saving so a restart places new arrivals exactly as before. */
  get round(): number {
    return this.currentRound;
  }

  /** Counts a job that is already running (found at start) against its lane's and user's limits. */
  markRunning(entry: QueueEntry): void {
    if (this.running.has(entry.id)) return;
    this.running.set(entry.id, entry);
    this.runningPerLane.set(entry.lane, (this.runningPerLane.get(entry.lane) ?? 0) + 1);
    this.noteTicket(entry);
    this.user(entry.userId).running += 1;
    this.idle.delete(entry.userId);
    if (entry.round > this.currentRound) {
      this.currentRound = entry.round;
      for (const userId of this.idle) this.settle(userId);
    }
  }

  /** The next job allowed to start, now counted as running; undefined when none may start. */
  take(): QueueEntry | undefined {
    for (const [lane, list] of this.lanes) {
      if ((this.runningPerLane.get(lane) ?? 0) >= this.limits.maxRunningPerLane) continue;
      // A user at their running limit keeps their place; the next user's job goes first.
      const index = list.findIndex(
        (entry) => (this.users.get(entry.userId)?.running ?? 0) < this.limits.maxRunningPerUser,
      );
      if (index < 0) continue;
      const [entry] = list.splice(index, 1) as [QueueEntry];
      if (list.length === 0) this.lanes.delete(lane);
      this.waiting.delete(entry.id);
      this.user(entry.userId).waiting -= 1;
      this.markRunning(entry);
      return entry;
    }
    return undefined;
  }

  /** A running job ended: its slot is free. */
  finish(id: string): void {
    const entry = this.running.get(id);
    if (!entry) return;
    this.running.delete(id);
    const lane = (this.runningPerLane.get(entry.lane) ?? 1) - 1;
    if (lane > 0) this.runningPerLane.set(entry.lane, lane);
    else this.runningPerLane.delete(entry.lane);
    this.user(entry.userId).running -= 1;
    this.settle(entry.userId);
  }

  /** Takes a waiting job out of the queue (cancelled); undefined when it is not waiting. */
  remove(id: string): QueueEntry | undefined {
    const entry = this.waiting.get(id);
    if (!entry) return undefined;
    const list = this.lanes.get(entry.lane) ?? [];
    list.splice(list.indexOf(entry), 1);
    if (list.length === 0) this.lanes.delete(entry.lane);
    this.waiting.delete(id);
    this.user(entry.userId).waiting -= 1;
    this.settle(entry.userId);
    return entry;
  }

  isWaiting(id: string): boolean {
    return this.waiting.has(id);
  }

  /** Jobs ahead of each waiting job in its lane's start order. */
  positions(): Map<string, number> {
    const positions = new Map<string, number>();
    for (const list of this.lanes.values()) {
      for (const [index, entry] of list.entries()) positions.set(entry.id, index);
    }
    return positions;
  }

  /** Waiting job ids in start order (per lane, lanes in turn). */
  order(): string[] {
    return [...this.lanes.values()].flatMap((list) => list.map((entry) => entry.id));
  }

  get size(): { waiting: number; running: number; users: number } {
    return { waiting: this.waiting.size, running: this.running.size, users: this.users.size };
  }

  private insertionIndex(list: readonly QueueEntry[], entry: QueueEntry): number {
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(list[middle] as QueueEntry, entry)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private noteTicket(entry: QueueEntry): void {
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    const user = this.user(entry.userId);
    user.lastRound = Math.max(user.lastRound, entry.round);
  }

  private firstWaitingRound(): number | undefined {
    let first: number | undefined;
    for (const list of this.lanes.values()) {
      const round = list[0]?.round;
      if (round !== undefined && (first === undefined || round < first)) first = round;
    }
    return first;
  }

  private user(userId: string): UserState {
    let user = this.users.get(userId);
    if (!user) {
      user = { waiting: 0, held: 0, running: 0, lastRound: Number.NEGATIVE_INFINITY };
      this.users.set(userId, user);
    }
    return user;
  }

  /**
   * Forgets a user with nothing queued or running once the queue has moved past their last round:
   * they are then the same as a newcomer, so memory holds only users with recent turns.
   */
  private settle(userId: string): void {
    const user = this.users.get(userId);
    if (!user || user.waiting > 0 || user.held > 0 || user.running > 0) return;
    if (user.lastRound < this.currentRound) {
      this.users.delete(userId);
      this.idle.delete(userId);
    } else this.idle.add(userId);
  }
}
