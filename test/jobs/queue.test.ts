// The fair queue on its own: who starts next, the limits, the positions shown, and that the order
// rebuilt from persisted tickets after a restart is the order the queue had.
import { describe, expect, it } from "vitest";
import { FairQueue, type FairQueueLimits, type QueueEntry } from "../../src/jobs/queue.ts";

const unlimited: FairQueueLimits = {
  maxRunningPerLane: Number.POSITIVE_INFINITY,
  maxRunningPerUser: Number.POSITIVE_INFINITY,
  maxWaitingPerUser: Number.POSITIVE_INFINITY,
};

const counters = new WeakMap<FairQueue, Map<string, number>>();

/** Queues `count` jobs of `userId` named user-1, user-2, … (per queue), with fresh tickets as a launch does. */
function queueJobs(queue: FairQueue, userId: string, count: number, lane = "evolink"): QueueEntry[] {
  const counts = counters.get(queue) ?? new Map<string, number>();
  counters.set(queue, counts);
  const entries: QueueEntry[] = [];
  for (let n = 0; n < count; n += 1) {
    const number = (counts.get(userId) ?? 0) + 1;
    counts.set(userId, number);
    const entry = { id: `${userId}-${number}`, userId, lane, ...queue.ticket(userId) };
    queue.add(entry);
    entries.push(entry);
  }
  return entries;
}

/** Starts and finishes jobs one at a time: the pure start order. */
function drain(queue: FairQueue, limit = Number.POSITIVE_INFINITY): string[] {
  const started: string[] = [];
  while (started.length < limit) {
    const entry = queue.take();
    if (!entry) break;
    started.push(entry.id);
    queue.finish(entry.id);
  }
  return started;
}

describe("fair queue", () => {
  it("serves users round robin, one job per user per turn, in the order they first queued", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 1 });
    queueJobs(queue, "ann", 5);
    queueJobs(queue, "bob", 3);
    queueJobs(queue, "cat", 2);
    expect(drain(queue)).toEqual([
      "ann-1",
      "bob-1",
      "cat-1",
      "ann-2",
      "bob-2",
      "cat-2",
      "ann-3",
      "bob-3",
      "ann-4",
      "ann-5",
    ]);
  });

  it("lets a newcomer go next instead of behind someone's burst", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 1 });
    queueJobs(queue, "ann", 10);
    expect(drain(queue, 3)).toEqual(["ann-1", "ann-2", "ann-3"]);
    queueJobs(queue, "bob", 2);
    expect(drain(queue, 4)).toEqual(["bob-1", "ann-4", "bob-2", "ann-5"]);
  });

  it("limits running jobs per provider account, and accounts do not share slots", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 2 });
    queueJobs(queue, "ann", 3, "evolink");
    queueJobs(queue, "bob", 3, "mjapi");
    const started = [queue.take(), queue.take(), queue.take(), queue.take(), queue.take()].map(
      (entry) => entry?.id,
    );
    expect(started).toEqual(["ann-1", "ann-2", "bob-1", "bob-2", undefined]);
    queue.finish("bob-1");
    expect(queue.take()?.id).toBe("bob-3");
    expect(queue.take()).toBeUndefined();
  });

  it("keeps a user at their running limit in place while others' jobs start", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 3, maxRunningPerUser: 2 });
    queueJobs(queue, "ann", 5);
    queueJobs(queue, "bob", 1);
    // bob's first job is in the first round, before ann's second.
    expect([queue.take()?.id, queue.take()?.id, queue.take()?.id]).toEqual(["ann-1", "bob-1", "ann-2"]);
    expect(queue.take()).toBeUndefined();
    queueJobs(queue, "bob", 3); // bob-2 in round 1; bob-3 in round 2, behind ann-3
    queue.finish("bob-1");
    expect(queue.take()?.id).toBe("bob-2");
    queue.finish("bob-2");
    expect(queue.order().slice(0, 2)).toEqual(["ann-3", "bob-3"]);
    expect(queue.take()?.id).toBe("bob-3"); // ann-3 is first, but ann already runs two
    queue.finish("bob-3");
    queue.finish("ann-1");
    expect(queue.take()?.id).toBe("ann-3");
    expect(queue.take()?.id).toBe("bob-4");
    expect(queue.size).toEqual({ waiting: 2, running: 3, users: 2 });
  });

  it("refuses more waiting jobs than a user may have, saying how many wait", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 1, maxWaitingPerUser: 3 });
    expect(queue.admit("ann", 3)).toEqual({ ok: true });
    expect(queue.admit("ann", 4)).toEqual({
      ok: false,
      code: "queue-over-limit",
      values: { count: 4, limit: 3 },
      message: "This would queue 4 jobs, but at most 3 of yours may wait at once. Ask for fewer.",
    });
    queueJobs(queue, "ann", 3);
    expect(queue.admit("ann", 1)).toEqual({
      ok: false,
      code: "queue-full",
      values: { count: 3 },
      message: "You have 3 jobs waiting; wait for some to finish before starting more.",
    });
    expect(queue.admit("bob", 1)).toEqual({ ok: true });
    // A job being shown but not queued yet already counts.
    queue.hold("bob");
    queue.hold("bob");
    queue.hold("bob");
    expect(queue.admit("bob", 1)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^You have 3 jobs/),
    });
    queue.unhold("bob");
    expect(queue.admit("bob", 1)).toEqual({ ok: true });
    queue.take();
    expect(queue.admit("ann", 1)).toEqual({ ok: true });
    expect(queue.admit("ann", 2)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^You have 2 jobs/),
    });
  });

  it("gives every waiting job the number of jobs ahead of it, updated as jobs start or leave", () => {
    const queue = new FairQueue({ ...unlimited, maxRunningPerLane: 1 });
    queueJobs(queue, "ann", 3);
    queueJobs(queue, "bob", 2);
    queue.take(); // ann-1 runs
    expect(Object.fromEntries(queue.positions())).toEqual({ "bob-1": 0, "ann-2": 1, "bob-2": 2, "ann-3": 3 });
    expect(queue.remove("ann-2")?.id).toBe("ann-2");
    expect(queue.remove("ann-2")).toBeUndefined();
    expect(Object.fromEntries(queue.positions())).toEqual({ "bob-1": 0, "bob-2": 1, "ann-3": 2 });
    queue.finish("ann-1");
    queue.take(); // bob-1 runs
    expect(Object.fromEntries(queue.positions())).toEqual({ "bob-2": 0, "ann-3": 1 });
  });

  it("rebuilt from persisted tickets after a restart, starts the same jobs in the same order", () => {
    const limits = { ...unlimited, maxRunningPerLane: 2, maxRunningPerUser: 1 };
    const before = new FairQueue(limits);
    const queued = [
      ...queueJobs(before, "ann", 6),
      ...queueJobs(before, "bob", 2),
      ...queueJobs(before, "cat", 4),
    ];
    const first = before.take() as QueueEntry;
    before.take();
    before.finish(first.id);
    before.take();
    queued.push(...queueJobs(before, "dan", 3));

    // What a restart reads back from the records: running jobs and waiting ones, each with its ticket.
    const running = queued.filter((entry) => !before.isWaiting(entry.id) && entry.id !== first.id);
    const waiting = queued.filter((entry) => before.isWaiting(entry.id)).reverse();
    expect(running).toHaveLength(2);
    expect(waiting).toHaveLength(12);

    const after = new FairQueue(limits);
    for (const entry of running) after.markRunning(entry);
    after.restore(
      waiting.map((entry) => ({ ...entry })),
      before.round,
    );
    expect(after.order()).toEqual(before.order());
    expect(Object.fromEntries(after.positions())).toEqual(Object.fromEntries(before.positions()));

    // Both go on identically, including a newcomer queued after the restart.
    queueJobs(before, "eve", 2);
    queueJobs(after, "eve", 2);
    for (const entry of running) {
      before.finish(entry.id);
      after.finish(entry.id);
    }
    expect(drain(after)).toEqual(drain(before));
  });
});
