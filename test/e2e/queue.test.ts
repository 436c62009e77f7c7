// The fair queue end to end. Through Discord: waiting messages say how many jobs are ahead and
// keep it current, ❌ Cancel works for the requester only, and a user's waiting limit is refused
// before anything is shown. Through the job service alone: a flood of 1000 jobs from 50 users is
// served fairly and completely, and a restart in the middle of a full queue keeps its order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type APIUser, MessageFlags } from "discord.js";
import Keyv from "keyv";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { FairQueue } from "../../src/jobs/queue.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { JobService } from "../../src/jobs/service.ts";
import { silentLogger } from "../../src/log.ts";
import { parsePrompt } from "../../src/prompt/index.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import type { FakeMessage } from "../fake-discord/index.ts";
import { buttonRows, customIdOf, isFinished, startWorld, type World } from "./world.ts";

describe("queued jobs in Discord", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ taskDurationMs: 1_000, maxRunning: 1, maxQueuedPerUser: 2 });
  });
  afterAll(async () => {
    await world?.stop();
  });

  async function imagineAs(user: APIUser, prompt: string): Promise<FakeMessage> {
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt }, user });
    return run.waitForOriginalMessage();
  }

  function waitForContent(message: FakeMessage, pattern: RegExp, timeoutMs = 10_000): Promise<FakeMessage> {
    return world.fake.waitForMessage((m) => m.id === message.id && pattern.test(m.content), timeoutMs);
  }

  it("says how many jobs are ahead and updates it as the queue moves; ❌ Cancel is for the requester only", async () => {
    const cyd = world.fake.makeUser("cyd");
    const dot = world.fake.makeUser("dot");
    const first = await imagineAs(world.fake.makeUser("ada"), "queue one");
    const second = await imagineAs(world.fake.makeUser("bea"), "queue two");
    const third = await imagineAs(cyd, "queue three");
    const fourth = await imagineAs(dot, "queue four");

    await waitForContent(third, /\(Queued — 1 ahead\)$/);
    const waiting = await waitForContent(fourth, /\(Queued — 2 ahead\)$/);
    expect(buttonRows(waiting)).toEqual([["Cancel"]]);
    expect(second.content).toMatch(/\(Waiting to start\)$/);

    // Someone else's Cancel is refused privately and changes nothing.
    const intruder = await world.fake.clickButton({
      message: waiting,
      customId: customIdOf(waiting, "Cancel"),
      user: world.fake.makeUser("eve"),
    });
    const refusal = (await intruder.waitForCallback()).data as { content: string; flags: number };
    expect(refusal.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(refusal.content).toBe(`Only <@${dot.id}> can cancel this job.`);

    // The requester's Cancel ends the job with 🔄, and the job behind it moves up.
    const owner = await world.fake.clickButton({
      message: third,
      customId: customIdOf(third, "Cancel"),
      user: cyd,
    });
    await owner.waitForCallback();
    const cancelled = await world.fake.waitForMessage((m) => m.id === third.id && m.embeds.length > 0);
    expect(cancelled.content).toBe(`**queue three** - <@${cyd.id}> (cancelled)`);
    expect(cancelled.embeds[0]?.title).toBe("Job cancelled");
    expect(cancelled.embeds[0]?.description).toMatch(
      new RegExp(`^Cancelled by <@${cyd.id}> before it started\\.`),
    );
    expect(buttonRows(cancelled)).toEqual([["🔄"]]);
    await waitForContent(fourth, /\(Queued — 1 ahead\)$/);

    // The queue drains in order; the cancelled job never reached the image service.
    for (const message of [first, second, fourth]) {
      await world.fake.waitForMessage((m) => m.id === message.id && isFinished(m), 15_000);
    }
    const prompts = world.emulator.apiRequests("POST").map((r) => (r.body as { prompt: string }).prompt);
    expect(prompts).toEqual(["queue one", "queue two", "queue four"]);
    expect(world.fake.edits(fourth.id).map((revision) => revision.content)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\(Queued — 2 ahead\)$/),
        expect.stringMatching(/\(Queued — 1 ahead\)$/),
        expect.stringMatching(/\(Waiting to start\)$/),
      ]),
    );

    // 🔄 on the cancelled message runs it again.
    const retry = await world.fake.clickButton({ message: cancelled, customId: customIdOf(cancelled, "🔄") });
    await retry.waitForFollowUp((m) => isFinished(m), 15_000);
  }, 60_000);

  it("refuses jobs beyond a user's waiting limit before showing anything", async () => {
    const zoe = world.fake.makeUser("zoe");
    // Zoe's public messages only: jobs of earlier tests may still post theirs meanwhile.
    const zoesMessages = () =>
      world.fake.messages().filter((m) => !m.ephemeral && m.content.includes(`<@${zoe.id}>`)).length;
    expect(zoesMessages()).toBe(0);
    const burst = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a {red, green, blue} kite" },
      user: zoe,
    });
    const tooMany = await burst.waitForPrivateAnswer();
    expect(tooMany.content).toBe(
      "This would queue 3 jobs, but at most 2 of yours may wait at once. Ask for fewer.",
    );

    for (const prompt of ["kite one", "kite two", "kite three"]) {
      const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt }, user: zoe });
      await run.waitForOriginalMessage();
    }
    const refused = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "kite four" },
      user: zoe,
    });
    const full = await refused.waitForPrivateAnswer();
    expect(full.content).toBe("You have 2 jobs waiting; wait for some to finish before starting more.");
    expect(zoesMessages()).toBe(3);
    await world.fake.waitForMessage((m) => m.content.startsWith("**kite three**") && isFinished(m), 15_000);
    const kites = world.emulator
      .apiRequests("POST")
      .map((request) => (request.body as { prompt: string }).prompt)
      .filter((sent) => sent.includes("kite"));
    expect(kites).toEqual(["kite one", "kite two", "kite three"]);
  }, 60_000);
});

/** Heap taken by a FairQueue holding 1000 waiting jobs of 50 users (entries and per-user state only). */
function queueOnlyKb(): number {
  const before = process.memoryUsage().heapUsed;
  const queue = new FairQueue({ maxRunningPerLane: 3, maxRunningPerUser: 2, maxWaitingPerUser: 20 });
  for (let n = 0; n < 1000; n += 1) {
    const userId = `user${n % 50}`;
    queue.add({ id: `job${String(n).padStart(6, "0")}`, userId, lane: "evolink", ...queue.ticket(userId) });
  }
  const used = process.memoryUsage().heapUsed - before;
  expect(queue.size.waiting).toBe(1000);
  return used / 1024;
}

// ── the job service alone ────────────────────────────────────────────────────────────────────────

const apiKey = "evk-queue-test-key";

function prompt(text: string): ParsedPrompt {
  const parsed = parsePrompt(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.prompt;
}

interface Harness {
  jobs: JobService;
  close(): Promise<void>;
}

describe("the fair queue under load", () => {
  let emulator: EvolinkEmulator;
  let dataDir: string;
  const open: Harness[] = [];

  async function openService(
    options: {
      maxRunning: number;
      maxQueuedPerUser: number;
      pollIntervalMs: number;
      inMemory?: boolean;
      wrap?: (provider: ImageProvider) => ImageProvider;
    },
    onStart: (job: JobRecord) => void,
    onFinished: (job: JobRecord, jobs: JobService) => void,
  ): Promise<Harness> {
    // The embedded store syncs every write to disk (~4 ms each, serialised): fine for a team, but the
    // flood would then measure the disk rather than the queue, so it keeps its records in memory.
    const store: Store = options.inMemory
      ? { kind: "sqlite", keyv: new Keyv(), close: async () => undefined }
      : await openStore({ dataDir });
    const evolink = createEvolinkProvider({ apiKey, baseUrl: emulator.baseUrl });
    const provider = options.wrap ? options.wrap(evolink) : evolink;
    const jobs = new JobService({
      store,
      providers: new Map([[provider.name, provider]]),
      defaultProvider: provider.name,
      pollIntervalMs: options.pollIntervalMs,
      maxRunning: options.maxRunning,
      maxRunningPerUser: 2,
      maxQueuedPerUser: options.maxQueuedPerUser,
      logger: silentLogger,
    });
    jobs.listen({
      onProgress: (job) => {
        if (job.state === "submitting") onStart(job);
      },
      onFinished: (job) => onFinished(job, jobs),
    });
    const harness = {
      jobs,
      close: async () => {
        await jobs.stop();
        await evolink.close();
        await store.close();
        open.splice(open.indexOf(harness), 1);
      },
    };
    open.push(harness);
    return harness;
  }

  beforeAll(() => {
    dataDir = "";
  });
  afterEach(async () => {
    for (const harness of [...open]) await harness.close();
    await emulator?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function freshWorld(taskDurationMs: number): Promise<void> {
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs, tileLongSide: 16 });
    dataDir = mkdtempSync(join(tmpdir(), "atelier-queue-"));
  }

  it("a flood of 50 users × 20 jobs on 3 slots loses nothing and serves users in turns", async () => {
    await freshWorld(20);
    const users = Array.from({ length: 50 }, (_, n) => `user${String(n).padStart(2, "0")}`);
    const perUser = 20;
    const starts: Array<{ id: string; user: string; waitMs: number }> = [];
    const finished = new Map<string, JobRecord>();
    const delivered: Array<Promise<void>> = [];
    let allFinished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allFinished = resolve;
    });
    const { jobs } = await openService(
      { maxRunning: 3, maxQueuedPerUser: perUser, pollIntervalMs: 5, inMemory: true },
      (job) => starts.push({ id: job.id, user: job.requesterId, waitMs: Date.now() - (job.launchedAt ?? 0) }),
      (job, service) => {
        finished.set(job.id, job);
        delivered.push(service.markDelivered(job.id));
        if (finished.size === users.length * perUser) allFinished();
      },
    );

    const heapBefore = process.memoryUsage().heapUsed;
    const began = Date.now();
    // Everyone submits everything at once, user by user: the worst order for a plain FIFO.
    const startsAtLaunch = new Map<string, number>();
    const submitted = await Promise.all(
      users.flatMap((user) =>
        Array.from({ length: perUser }, (_, n) =>
          jobs
            .submit({ kind: "imagine", prompt: prompt(`${user} job ${n + 1}`) }, { requesterId: user })
            .then((job) => {
              if (!startsAtLaunch.has(user)) startsAtLaunch.set(user, starts.length);
              return job;
            }),
        ),
      ),
    );
    const heapQueued = process.memoryUsage().heapUsed;
    const queuedAfterLaunch = jobs.queueOrder().length;
    await done;
    await Promise.all(delivered);
    const elapsedMs = Date.now() - began;

    // Nothing lost: every job started once, completed, and was delivered.
    expect(new Set(submitted.map((job) => job.id)).size).toBe(1000);
    expect(starts).toHaveLength(1000);
    expect(new Set(starts.map((start) => start.id)).size).toBe(1000);
    expect(
      [...finished.values()].every((job) => job.state === "completed" && job.imageUrls.length === 4),
    ).toBe(true);
    expect(emulator.apiRequests("POST")).toHaveLength(1000);
    expect(jobs.queueOrder()).toEqual([]);

    // Fair: a user's first job waits at most one turn of every other user (plus the slots in use),
    // and no user gets everything done before another user's first job has started.
    const order = starts.map((start) => start.user);
    for (const user of users) {
      const firstStart = order.indexOf(user);
      expect(firstStart).toBeLessThan((startsAtLaunch.get(user) ?? 0) + users.length + 3);
    }
    const lastFirstStart = Math.max(...users.map((user) => order.indexOf(user)));
    const firstAllDone = Math.min(...users.map((user) => order.lastIndexOf(user)));
    expect(lastFirstStart).toBeLessThan(firstAllDone);

    const meanWaits = users
      .map((user) => {
        const waits = starts.filter((start) => start.user === user).map((start) => start.waitMs);
        return waits.reduce((sum, wait) => sum + wait, 0) / waits.length;
      })
      .sort((a, b) => a - b);
    const median = ((meanWaits[24] ?? 0) + (meanWaits[25] ?? 0)) / 2;
    const min = meanWaits[0] ?? 0;
    const max = meanWaits.at(-1) ?? 0;
    console.log(
      [
        `flood: 50 users × 20 jobs, 3 slots, 2 per user, ${elapsedMs} ms in all`,
        `  waiting before launch finished: ${queuedAfterLaunch} jobs; first start of the last user: #${lastFirstStart + 1}; first user done at start #${firstAllDone + 1}`,
        `  mean wait per user: min ${min.toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms, max/min ${(max / Math.max(min, 1)).toFixed(2)}`,
        `  heap with the queue full: +${((heapQueued - heapBefore) / 1024 / 1024).toFixed(1)} MB (1000 jobs: records, store, queue); the queue's own share: ${queueOnlyKb().toFixed(0)} KB`,
      ].join("\n"),
    );
  }, 60_000);

  it("a restart in the middle of a full queue starts the remaining jobs in the same order", async () => {
    await freshWorld(250);
    const startedFirst: string[] = [];
    const first = await openService(
      { maxRunning: 1, maxQueuedPerUser: 10, pollIntervalMs: 20 },
      (job) => startedFirst.push(job.id),
      () => undefined,
    );
    const users = ["ann", "bob", "cat", "dan"];
    const owners = new Map<string, string>();
    for (const user of users) {
      for (let n = 1; n <= 3; n += 1) {
        const job = await first.jobs.submit(
          { kind: "imagine", prompt: prompt(`${user} ${n}`) },
          { requesterId: user },
        );
        owners.set(job.id, user);
      }
    }
    while (startedFirst.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const orderBefore = first.jobs.queueOrder();
    expect(orderBefore.length).toBeGreaterThanOrEqual(9);
    // Round robin, not arrival order: no user twice in a row while others wait.
    const ownersBefore = orderBefore.map((id) => owners.get(id));
    expect(ownersBefore.slice(0, 4).sort()).toEqual([...users].sort());
    await first.close();

    const startedAfter: string[] = [];
    let finishedAfter = 0;
    const second = await openService(
      { maxRunning: 1, maxQueuedPerUser: 10, pollIntervalMs: 20 },
      (job) => startedAfter.push(job.id),
      (job, jobs) => {
        finishedAfter += 1;
        void jobs.markDelivered(job.id);
      },
    );
    await second.jobs.start();
    expect(second.jobs.queueOrder()).toEqual(orderBefore);
    const deadline = Date.now() + 20_000;
    while (startedAfter.length < orderBefore.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(startedAfter).toEqual(orderBefore);
    // The first service delivered nothing, so the second reports all 12 as finished.
    while (finishedAfter < 12 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(finishedAfter).toBe(12);
    expect(emulator.apiRequests("POST")).toHaveLength(12);
  }, 60_000);

  it("cancels a running job at a provider that can, with the requester's name on it", async () => {
    await freshWorld(5_000);
    const cancelledTasks = new Set<string>();
    // EvoLink has no cancel endpoint; this stand-in adds one on top of the emulator.
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
    const finished: JobRecord[] = [];
    const { jobs } = await openService(
      { maxRunning: 1, maxQueuedPerUser: 10, pollIntervalMs: 20, wrap: cancellable },
      () => undefined,
      (job) => finished.push(job),
    );
    const job = await jobs.submit({ kind: "imagine", prompt: prompt("a long one") }, { requesterId: "ann" });
    while ((await jobs.get(job.id))?.state !== "running")
      await new Promise((resolve) => setTimeout(resolve, 10));

    expect(await jobs.cancel(job.id, "bob")).toEqual({
      kind: "refused",
      code: "not-requester",
      values: { user: "<@ann>" },
      message: "Only <@ann> can cancel this job.",
    });
    expect(await jobs.cancel(job.id, "ann")).toEqual({ kind: "cancelled" });
    while (finished.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(finished[0]?.state).toBe("failed");
    expect(finished[0]?.error).toEqual({
      kind: "cancelled",
      advice: "retry",
      code: "cancelled-running",
      values: { user: "<@ann>" },
      message: "Cancelled by <@ann> while it was running.",
    });
    expect(await jobs.cancel(job.id, "ann")).toEqual({
      kind: "refused",
      code: "already-finished",
      values: {},
      message: "This job has already finished.",
    });
  }, 30_000);
});
