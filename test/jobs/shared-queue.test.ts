// Many processes, one deployment: two job services (as two Atelier processes would run them) on one
// Redis and one provider emulator share the queue on BullMQ. The provider account's running limit
// and each person's limit hold across both, people take turns, every job runs exactly once and is
// finished by exactly one process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { JobService, type JobServiceOptions } from "../../src/jobs/service.ts";
import { silentLogger } from "../../src/log.ts";
import { parsePrompt } from "../../src/prompt/index.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { type RedisServer, redisTestsRun, startRedis } from "../support/redis.ts";
import { Recorder } from "./harness.ts";

const apiKey = "evk-shared-queue-key";

interface Process {
  store: Store;
  jobs: JobService;
  recorder: Recorder;
}

/** Most emulator tasks alive at one instant (each lives from its creation for its duration). */
function mostAtOnce(tasks: Array<{ createdAt: number; durationMs: number }>): number {
  const edges = tasks.flatMap((task) => [
    { at: task.createdAt, change: 1 },
    { at: task.createdAt + task.durationMs, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.change;
    most = Math.max(most, now);
  }
  return most;
}

describe.runIf(redisTestsRun)("jobs shared by two processes on one Redis", () => {
  let redis: RedisServer;
  let emulator: EvolinkEmulator;
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-shared-"));
  const opened: Process[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 250 });
  });
  afterAll(async () => {
    await emulator?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
    emulator.tasks.clear();
    emulator.knobs.taskDurationMs = 250;
  });
  afterEach(async () => {
    for (const process of opened.splice(0)) {
      await process.jobs.stop();
      await process.store.close();
    }
  });

  async function startProcess(
    settings: Partial<JobServiceOptions> = {},
    wrap: (provider: ImageProvider) => ImageProvider = (provider) => provider,
    start = true,
  ): Promise<Process> {
    const store = await openStore({ dataDir, redisUrl: redis.url });
    const provider = wrap(createEvolinkProvider({ apiKey, baseUrl: emulator.baseUrl, logger: silentLogger }));
    const jobs = new JobService({
      pollIntervalMs: 30,
      logger: silentLogger,
      shared: { lockMs: 1_000, positionsIntervalMs: 100 },
      ...settings,
      store,
      providers: new Map([[provider.name, provider]]),
      defaultProvider: provider.name,
    });
    const recorder = new Recorder();
    jobs.listen(recorder);
    if (start) await jobs.start();
    const process = { store, jobs, recorder };
    opened.push(process);
    return process;
  }

  function imagine(process: Process, userId: string, text: string): Promise<JobRecord> {
    const parsed = parsePrompt(text);
    if (!parsed.ok) throw new Error(parsed.error.message);
    return process.jobs.submit({ kind: "imagine", prompt: parsed.prompt }, { requesterId: userId });
  }

  async function allFinished(processes: Process[], count: number, timeoutMs = 15_000): Promise<JobRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const finished = processes.flatMap((process) => process.recorder.finished);
      if (finished.length >= count) return finished;
      if (Date.now() > deadline) throw new Error(`only ${finished.length} of ${count} jobs finished`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("holds the account's running limit across both, takes turns, runs each job once", async () => {
    const limits = { maxRunning: 2, maxRunningPerUser: 1, maxQueuedPerUser: 10 };
    // Everyone's jobs are in line before the processes take any (so the order does not depend on timing).
    const a = await startProcess(limits, undefined, false);
    const b = await startProcess(limits, undefined, false);
    const asked: JobRecord[] = [];
    for (const n of [1, 2, 3]) asked.push(await imagine(a, "ann", `ann ${n}`));
    for (const n of [1, 2, 3]) asked.push(await imagine(b, "bob", `bob ${n}`));
    for (const n of [1, 2]) asked.push(await imagine(a, "cyd", `cyd ${n}`));
    await Promise.all([a.jobs.start(), b.jobs.start()]);

    const finished = await allFinished([a, b], asked.length);
    // Each job finished once, in one process; nothing was sent twice.
    expect(finished.map((job) => job.id).sort()).toEqual(asked.map((job) => job.id).sort());
    expect(finished.every((job) => job.state === "completed")).toBe(true);
    const tasks = [...emulator.tasks.values()];
    expect(tasks.map((task) => task.prompt).sort()).toEqual(
      ["ann 1", "ann 2", "ann 3", "bob 1", "bob 2", "bob 3", "cyd 1", "cyd 2"].sort(),
    );
    // Never more than the account's limit at once, never two of one person's at once.
    expect(mostAtOnce(tasks)).toBe(2);
    for (const person of ["ann", "bob", "cyd"])
      expect(mostAtOnce(tasks.filter((task) => task.prompt.startsWith(person)))).toBe(1);
    // Turns: ann's burst does not go first. Two slots free at about the same time, so a second-round
    // job may reach the provider just before cyd's first (two processes submit in parallel); what
    // turns guarantee is that every first-round job starts before any third-round job.
    const byStart = tasks.sort((x, y) => x.createdAt - y.createdAt).map((task) => task.prompt);
    const lastFirstRound = Math.max(...["ann 1", "bob 1", "cyd 1"].map((prompt) => byStart.indexOf(prompt)));
    const firstThirdRound = Math.min(...["ann 3", "bob 3"].map((prompt) => byStart.indexOf(prompt)));
    expect(lastFirstRound).toBeLessThan(4);
    expect(lastFirstRound).toBeLessThan(firstThirdRound);
  }, 30_000);

  it("holds a person's running limit across both: their further jobs step aside and keep their place", async () => {
    const limits = { maxRunning: 3, maxRunningPerUser: 2 };
    const a = await startProcess(limits, undefined, false);
    const b = await startProcess(limits, undefined, false);
    const asked: JobRecord[] = [];
    for (const n of [1, 2, 3]) asked.push(await imagine(a, "ann", `ann ${n}`));
    asked.push(await imagine(b, "bob", "bob 1"));
    for (const n of [4, 5]) asked.push(await imagine(b, "ann", `ann ${n}`));
    await Promise.all([a.jobs.start(), b.jobs.start()]);

    await allFinished([a, b], asked.length);
    const tasks = [...emulator.tasks.values()];
    expect(tasks).toHaveLength(asked.length);
    expect(mostAtOnce(tasks)).toBe(3);
    // Once bob's job is done three slots are free, but ann may have only two running.
    expect(mostAtOnce(tasks.filter((task) => task.prompt.startsWith("ann")))).toBe(2);
  }, 30_000);

  it("counts a person's waiting jobs across both processes", async () => {
    const limits = { maxRunning: 1, maxQueuedPerUser: 2 };
    const a = await startProcess(limits);
    const b = await startProcess(limits);
    await imagine(a, "dot", "dot blocker");
    await imagine(a, "eve", "eve 1");
    const second = await imagine(b, "eve", "eve 2");
    expect(await a.jobs.canQueue("eve")).toMatchObject({
      ok: false,
      code: "queue-full",
      values: { count: 2 },
      message: "You have 2 jobs waiting; wait for some to finish before starting more.",
    });
    expect(await b.jobs.canQueue("dot")).toMatchObject({ ok: true });
    await allFinished([a, b], 3);
    expect(await b.jobs.canQueue("eve", 2)).toMatchObject({ ok: true });
    // The process that showed "eve 2" kept its place in line current: one job ahead, then none.
    const positions = b.recorder.progress
      .filter((job) => job.id === second.id && job.queuePosition !== undefined && job.state === "queued")
      .map((job) => job.queuePosition);
    expect(positions).toEqual([1, 0]);
  }, 30_000);

  it("hands a running job to the other process when one shuts down, without sending it again", async () => {
    const a = await startProcess();
    emulator.knobs.neverFinish = true;
    const job = await imagine(a, "gus", "gus handed over");
    const deadline = Date.now() + 5_000;
    while ((await a.jobs.get(job.id))?.state !== "running") {
      if (Date.now() > deadline) throw new Error("job never ran");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const b = await startProcess();
    await a.jobs.stop();
    emulator.knobs.neverFinish = false;
    const [finished] = await allFinished([b], 1);
    expect(finished?.state).toBe("completed");
    expect(a.recorder.finished).toHaveLength(0);
    expect([...emulator.tasks.values()].map((task) => task.prompt)).toEqual(["gus handed over"]);
  }, 30_000);

  it("delivers a finished job from the other process when the one delivering it goes away", async () => {
    const a = await startProcess();
    const job = await imagine(a, "hal", "hal delivered late");
    // A finished it and is delivering it (its listener has not marked it delivered), then stops.
    await allFinished([a], 1);
    const b = await startProcess();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(b.recorder.finished).toHaveLength(0);
    await a.jobs.stop();
    const [redelivered] = await allFinished([b], 1, 10_000);
    expect(redelivered?.id).toBe(job.id);
    await b.jobs.markDelivered(job.id);
    expect([...emulator.tasks.values()]).toHaveLength(1);
  }, 30_000);

  it("leases a finished job while it is delivered and drops the lease once it is", async () => {
    const a = await startProcess();
    const job = await imagine(a, "ida", "ida delivered");
    await allFinished([a], 1);
    const client = new Redis(redis.url);
    onTestFinished(() => client.disconnect());
    const leasedUntil = async () => {
      const score = await client.zscore("atelier:shared:sched:delivering", job.id);
      return score === null ? undefined : Number(score);
    };
    const deadline = Date.now() + 2_000;
    while ((await leasedUntil()) === undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    // Leased for about one claim time (1 s here) from now, and renewed while the delivery lasts.
    const first = await leasedUntil();
    expect(first).toBeGreaterThan(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await leasedUntil()).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);
    await a.jobs.markDelivered(job.id);
    const dropped = Date.now() + 2_000;
    while ((await leasedUntil()) !== undefined && Date.now() < dropped)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await leasedUntil()).toBeUndefined();
    // Nothing else is left behind for a delivered job (no BullMQ job per delivery).
    expect(await client.keys("atelier-queue:deliveries*")).toEqual([]);
  }, 30_000);

  it("holds the account's limit when a process whose claim ran out still sends the job it held", async () => {
    // A process that stalls past the takeover time (a frozen or overloaded machine) loses its claim on
    // the job it holds while it is still alive. Here A is fetching a /blend's images when its claim
    // runs out, B takes the job over, and A, going on, sends it first.
    const blendable = (base: ImageProvider): ImageProvider => ({
      ...base,
      capabilities: { ...base.capabilities, blend: true },
      blend: () => base.imagine({ prompt: { text: "blended", images: [], params: {}, warnings: [] } }),
    });
    const gate = () => {
      let called = false;
      let open: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      const fetch = async () => {
        called = true;
        await opened;
        return { bytes: Buffer.from("image"), contentType: "image/png" };
      };
      return { fetch, open, called: () => called };
    };
    const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const inA = gate();
    const inB = gate();
    const a = await startProcess({ maxRunning: 1, fetchSourceImage: inA.fetch }, blendable);
    const blend = await a.jobs.submit(
      {
        kind: "blend",
        imageUrls: ["https://images.test/1.png", "https://images.test/2.png"],
        dimensions: "square",
      },
      { requesterId: "ivy" },
    );
    await until(inA.called, "A to take the blend");
    const next = await imagine(a, "kit", "kit waits for the slot");
    // A's claim runs out (as when its process stalls for longer than the claim lasts).
    const client = new Redis(redis.url);
    await client.del(`atelier-queue:lane-evolink:${blend.id}:lock`);
    client.disconnect();
    const b = await startProcess({ maxRunning: 1, fetchSourceImage: inB.fetch }, blendable);
    await until(inB.called, "B to take the blend over");
    // A sends it (a long task), then B finds it sent by another run.
    emulator.knobs.taskDurationMs = 1_500;
    inA.open();
    await until(async () => (await a.jobs.get(blend.id))?.state === "running", "A to send the blend");
    emulator.knobs.taskDurationMs = 250;
    inB.open();

    const finished = await allFinished([a, b], 2);
    expect(finished.map((job) => job.id).sort()).toEqual([blend.id, next.id].sort());
    const tasks = [...emulator.tasks.values()];
    expect(tasks.map((task) => task.prompt).sort()).toEqual(["blended", "kit waits for the slot"]);
    // The account runs one task at a time: "kit" waits until the blend's end has been read.
    const [first, second] = tasks.sort((x, y) => x.createdAt - y.createdAt);
    expect(first?.prompt).toBe("blended");
    expect(second?.createdAt).toBeGreaterThanOrEqual(first?.endSeenAt ?? Number.POSITIVE_INFINITY);
  }, 30_000);

  it("lets a ❌ Cancel in one process stop a job the other runs", async () => {
    // EvoLink has no cancel endpoint; this stand-in adds one on top of the emulator, for both processes.
    const cancelledTasks = new Set<string>();
    const cancellable = (base: ImageProvider): ImageProvider => ({
      name: base.name,
      capabilities: { ...base.capabilities, cancel: true },
      check: (request) => base.check(request),
      imagine: (request, signal) => base.imagine(request, signal),
      followUp: (request, signal) => base.followUp(request, signal),
      fetchTask: async (taskId, signal) =>
        cancelledTasks.has(taskId)
          ? { taskId, status: "cancelled", imageUrls: [] }
          : base.fetchTask(taskId, signal),
      cancel: async (taskId) => {
        cancelledTasks.add(taskId);
      },
    });
    const a = await startProcess({}, cancellable);
    emulator.knobs.neverFinish = true;
    const job = await imagine(a, "fay", "fay slow");
    // B joins once A holds the job, so the job is A's.
    const b = await startProcess({}, cancellable);
    const deadline = Date.now() + 5_000;
    while ((await a.jobs.get(job.id))?.state !== "running") {
      if (Date.now() > deadline) throw new Error("job never ran");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await b.jobs.cancel(job.id, "fay")).toEqual({ kind: "cancelled" });
    const [finished] = await allFinished([a, b], 1);
    emulator.knobs.neverFinish = false;
    expect(a.recorder.finished).toHaveLength(1);
    expect(finished?.error?.kind).toBe("cancelled");
    expect(finished?.error?.message).toBe("Cancelled by <@fay> while it was running.");
  }, 30_000);
});
