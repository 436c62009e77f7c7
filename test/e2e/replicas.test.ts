// Three Atelier processes on one Redis behind Discord's HTTP interactions endpoint (the fake Discord
// signs each interaction and POSTs them round-robin across the three), one provider account on the
// EvoLink emulator. Twenty people ask for ten pictures each, all at about the same time; one process
// is killed (SIGKILL) in the middle and started again. Every job ends on its own message with its
// grid, once; nothing reaches the provider twice; the account's running limit and each person's
// hold across the processes; and people take turns: nobody waits noticeably longer on average.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIUser } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmulatedTask } from "../../emulators/evolink.ts";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { isFinished as finishedState, type JobRecord } from "../../src/jobs/record.ts";
import { JobRecords } from "../../src/jobs/records.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { FakeDiscord, type InteractionHandle } from "../fake-discord/index.ts";
import { type AtelierProcess, spawnAtelier, until } from "../support/atelier-process.ts";
import { type RedisServer, redisTestsRun, startRedis } from "../support/redis.ts";
import { isFinished } from "./world.ts";

const apiKey = "evk-replicas-key";
const people = 20;
const jobsEach = 10;
const maxRunning = 4;
const maxRunningPerPerson = 2;
/** The kill comes once this many jobs have finished at the provider (of 200). */
const killAfterFinished = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `atelier start` process and what it logged (JSON lines). */
interface Replica {
  name: string;
  atelier: AtelierProcess;
  url: string;
  logs: Array<Record<string, unknown>>;
}

/** Jobs this replica logged as submitted and not (yet) as ended: the ones it is running. */
function runningIn(replica: Replica): Set<string> {
  const running = new Set<string>();
  for (const line of replica.logs) {
    if (line.msg === "job submitted") running.add(line.job as string);
    if (line.msg === "job completed" || line.msg === "job failed") running.delete(line.job as string);
  }
  return running;
}

function loggedJobs(replica: Replica, message: string): string[] {
  return replica.logs.filter((line) => line.msg === message).map((line) => line.job as string);
}

/** Most spans open at one instant; a span ending at the instant another starts is closed first. */
function mostAtOnce(spans: Array<{ from: number; to: number }>): number {
  const edges = spans.flatMap((span) => [
    { at: span.from, change: 1 },
    { at: span.to, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.change;
    most = Math.max(most, open);
  }
  return most;
}

interface Sent {
  person: number;
  prompt: string;
  at: number;
  run: InteractionHandle;
}

describe.runIf(redisTestsRun)("three replicas, 200 jobs from 20 people, one replica killed", () => {
  let redis: RedisServer;
  let fake: FakeDiscord;
  let emulator: EvolinkEmulator;
  let store: Store;
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-replicas-"));
  const replicas: Replica[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    fake = await FakeDiscord.start({ interactions: "http" });
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 150, tileLongSide: 64 });
    store = await openStore({ dataDir, redisUrl: redis.url });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.atelier.kill()));
    await store?.close();
    await emulator?.stop();
    await fake?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startReplica(name: string): Promise<Replica> {
    const atelier = spawnAtelier({
      fake,
      emulator,
      apiKey,
      dataDir,
      env: {
        DISCORD_PUBLIC_KEY: fake.interactionsEndpoint?.publicKey,
        REDIS_URL: redis.url,
        JOB_TAKEOVER_SECONDS: "2",
        POLL_INTERVAL_SECONDS: "0.1",
        MAX_RUNNING_JOBS: String(maxRunning),
        MAX_RUNNING_PER_USER: String(maxRunningPerPerson),
        MAX_QUEUED_PER_USER: String(jobsEach),
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
      },
    });
    const replica: Replica = { name, atelier, url: "", logs: [] };
    replicas.push(replica);
    let partial = "";
    const read = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        try {
          replica.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // Not a log record.
        }
      }
    };
    atelier.child.stdout?.on("data", read);
    atelier.child.stderr?.on("data", read);
    await atelier.running({ timeoutMs: 60_000 });
    const listening = replica.logs.find((line) => line.msg === "http listening");
    replica.url = `http://127.0.0.1:${listening?.port as number}/interactions`;
    return replica;
  }

  /**
   * Jobs a SIGKILL now would leave in the two states where the design answers differently on
   * purpose (both have their own tests): sent to the provider but not yet recorded as sent (it ends
   * with 🔄 "may have been sent", never sent twice), and a grid shown but not yet recorded as
   * delivered (it is shown again, identically).
   */
  function ambiguousAtKill(open: JobRecord[], byPrompt: Map<string, Sent>): JobRecord[] {
    return open.filter((job) => {
      if (job.state === "submitting") return true;
      if (!finishedState(job) || job.delivered) return false;
      const message = byPrompt.get(job.prompt)?.run.originalMessage();
      return message !== undefined && fake.edits(message.id).some((edit) => edit.attachmentIds.length > 0);
    });
  }

  /**
   * Kills, with SIGKILL, a replica that is running a job at the provider right now. It is frozen
   * first (SIGSTOP) and looked at: if the kill would land in one of the ambiguous instants, it is
   * let go on and tried again a moment later. Resolves with it and the job it was running.
   */
  async function killMidRun(byPrompt: Map<string, Sent>): Promise<{ victim: Replica; takenOver: string }> {
    const records = new JobRecords(store, Date.now);
    const runningBy = (replica: Replica, open: JobRecord[]) => {
      const running = runningIn(replica);
      return open.find((job) => job.state === "running" && running.has(job.id));
    };
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const open = await records.openJobs();
      const victim = replicas.find((replica) => runningBy(replica, open));
      if (!victim) {
        await sleep(50);
        continue;
      }
      victim.atelier.child.kill("SIGSTOP");
      // What it had already sent reaches the fake Discord and the emulator (both in this process).
      await sleep(100);
      const now = await records.openJobs();
      const takenOver = runningBy(victim, now);
      const ambiguous = ambiguousAtKill(now, byPrompt);
      if (takenOver && ambiguous.length === 0) {
        await victim.atelier.kill();
        return { victim, takenOver: takenOver.id };
      }
      victim.atelier.child.kill("SIGCONT");
      // Long enough for it to move on, and well inside its claim on its jobs (JOB_TAKEOVER_SECONDS).
      await sleep(300 + Math.random() * 200);
    }
    throw new Error("found no moment to kill a replica in the middle of a job");
  }

  it("delivers every job once, sends none twice, holds the limits and the turns", async () => {
    const endpoint = fake.interactionsEndpoint;
    if (!endpoint) throw new Error("the fake Discord does not send HTTP interactions");
    await Promise.all(["first", "second", "third"].map((name) => startReplica(name)));
    await endpoint.configure(replicas.map((replica) => replica.url));

    // Everybody starts at about the same time and sends their ten quickly, each at their own pace
    // (10 to 200 ms between two): first come, first served would make the slower ones wait longest.
    const users: APIUser[] = Array.from({ length: people }, (_, person) => fake.makeUser(`person${person}`));
    const sent: Sent[] = [];
    await Promise.all(
      users.map(async (user, person) => {
        const paceMs = 10 + (190 * person) / (people - 1);
        await sleep(Math.random() * 50);
        for (let index = 0; index < jobsEach; index += 1) {
          const prompt = `picture ${index} for person ${person}`;
          const at = Date.now();
          const run = await fake.runSlashCommand({ name: "imagine", options: { prompt }, user });
          sent.push({ person, prompt, at, run });
          await sleep(paceMs * (0.5 + Math.random()));
        }
      }),
    );
    const byPrompt = new Map(sent.map((entry) => [entry.prompt, entry]));
    // Every /imagine is answered and its job shown before the kill: none is lost to a dead endpoint
    // (Discord would show "interaction failed"), so each of the 200 is a job that must be delivered.
    await until(
      () => sent.every(({ run }) => run.originalMessage()?.loading === false),
      60_000,
      "every job's message",
    );
    expect(sent.map(({ run }) => run.endpointError).filter(Boolean)).toEqual([]);
    expect(new Set(sent.map(({ run }) => run.signed?.url))).toEqual(
      new Set(replicas.map((replica) => replica.url)),
    );

    const tasks = () => [...emulator.tasks.values()];
    await until(
      () => tasks().filter((task) => task.endSeenAt !== undefined).length >= killAfterFinished,
      60_000,
      `${killAfterFinished} jobs to finish`,
    );
    const { victim, takenOver } = await killMidRun(byPrompt);
    const survivors = replicas.filter((replica) => replica !== victim);
    // The balancer drops the dead process, and takes its replacement in once it answers.
    await endpoint.configure(survivors.map((replica) => replica.url));
    const replacement = await startReplica("fourth");
    await endpoint.configure([...survivors, replacement].map((replica) => replica.url));

    const records = new JobRecords(store, Date.now);
    await until(async () => (await records.openJobs()).length === 0, 60_000, "every job to be delivered");

    // Every job's message ends with its grid, shown once; no second message for any job.
    for (const { prompt, run, person } of sent) {
      const message = run.originalMessage();
      expect(message && isFinished(message), prompt).toBe(true);
      expect(message?.content).toBe(`**${prompt}** - <@${users[person]?.id}> (fast)`);
      const grids = fake.edits(message?.id ?? "").filter((edit) => edit.attachmentIds.length > 0);
      expect(grids, prompt).toHaveLength(1);
    }
    const messagesPerJob = new Map<string, number>();
    for (const message of fake.messages()) {
      const prompt = /^\*\*(.+?)\*\*/.exec(message.content)?.[1];
      if (prompt) messagesPerJob.set(prompt, (messagesPerJob.get(prompt) ?? 0) + 1);
    }
    expect(messagesPerJob.size).toBe(people * jobsEach);
    expect([...messagesPerJob].filter(([, count]) => count !== 1)).toEqual([]);

    // Each job reached the provider exactly once.
    const created = emulator
      .apiRequests("POST")
      .map((request) => (request.body as { prompt: string }).prompt);
    expect(created.sort()).toEqual(sent.map(({ prompt }) => prompt).sort());

    // The job running in the killed process was finished by another one, without a second create.
    expect(loggedJobs(victim, "job completed")).not.toContain(takenOver);
    const finishers = replicas.filter((replica) => loggedJobs(replica, "job completed").includes(takenOver));
    expect(finishers).toHaveLength(1);
    expect(finishers[0]).not.toBe(victim);

    // Running limits across the processes: a slot is held from the create until Atelier has read that
    // the task ended, so these spans may overlap only as far as the limits allow.
    const spans = (of: EmulatedTask[]) =>
      of.map((task) => ({ from: task.createdAt, to: task.endSeenAt ?? Number.POSITIVE_INFINITY }));
    const mostRunning = mostAtOnce(spans(tasks()));
    expect(mostRunning).toBeLessThanOrEqual(maxRunning);
    // …and the account's limit is what held the line back (the queue was exercised).
    expect(mostRunning).toBe(maxRunning);
    const personOf = (task: EmulatedTask) => byPrompt.get(task.prompt)?.person;
    for (let person = 0; person < people; person += 1)
      expect(mostAtOnce(spans(tasks().filter((task) => personOf(task) === person)))).toBeLessThanOrEqual(
        maxRunningPerPerson,
      );

    // Turns: each person's mean wait, from their /imagine to their job's create at the provider, is
    // about the same for everyone.
    const startOf = new Map(tasks().map((task) => [task.prompt, task.createdAt]));
    const meanWaits = users.map((_, person) => {
      const waits = sent
        .filter((entry) => entry.person === person)
        .map((entry) => (startOf.get(entry.prompt) ?? Number.NaN) - entry.at);
      return waits.reduce((sum, wait) => sum + wait, 0) / waits.length;
    });
    expect(Math.max(...meanWaits) / Math.min(...meanWaits)).toBeLessThanOrEqual(1.25);
  }, 120_000);
});
