// Two Atelier processes on one Redis see one truth: usage counted by both at once loses nothing,
// a daily limit admits exactly its number across both, and a preference or server setting changed
// in one is what the other reads next — nothing is held in one process's memory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobRecord } from "../../src/jobs/record.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { PreferenceStore } from "../../src/team/preferences.ts";
import { createTeamServices, type TeamServices } from "../../src/team/team.ts";
import { type RedisServer, redisTestsRun, startRedis } from "../support/redis.ts";

const now = Date.UTC(2026, 5, 1, 12);

function finishedJob(id: string, userId: string, credits: number): JobRecord {
  return {
    id,
    kind: "imagine",
    state: "completed",
    delivered: false,
    provider: "evolink",
    prompt: "a fox",
    warnings: [],
    providerWarnings: [],
    requesterId: userId,
    guildId: "g1",
    taskId: `task-${id}`,
    credits,
    imageUrls: [],
    pressed: [],
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
  };
}

interface Process {
  store: Store;
  team: TeamServices;
  preferences: PreferenceStore;
}

describe.runIf(redisTestsRun)("state shared by two processes on one Redis", () => {
  let redis: RedisServer;
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-shared-state-"));
  let a: Process;
  let b: Process;

  async function openProcess(): Promise<Process> {
    const store = await openStore({ dataDir, redisUrl: redis.url });
    return {
      store,
      team: createTeamServices({ store, logger: silentLogger, now: () => now }),
      preferences: new PreferenceStore(store),
    };
  }

  beforeAll(async () => {
    redis = await startRedis();
    a = await openProcess();
    b = await openProcess();
  });
  afterAll(async () => {
    for (const process of [a, b]) await process?.store.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts usage from both at once without losing a job, and a replayed finish once", async () => {
    const jobs = Array.from({ length: 40 }, (_, n) => finishedJob(`job${n}`, n % 2 ? "ann" : "bob", 1.5));
    // Each process finishes half, all at once; then each replays the other's (a takeover after a crash).
    await Promise.all(jobs.map((job, n) => (n < 20 ? a : b).team.usage.recordFinished(job, now)));
    const replays = await Promise.all(
      jobs.map((job, n) => (n < 20 ? b : a).team.usage.recordFinished(job, now)),
    );
    expect(replays.every((counted) => !counted)).toBe(true);

    for (const process of [a, b]) {
      const guild = await process.team.usage.guildTotals("g1", "day", now);
      expect(guild).toMatchObject({ completed: 40, credits: 60 });
      expect(guild.users.ann).toMatchObject({ completed: 20, credits: 30 });
      expect(
        await process.team.usage.userTotals({ guildId: "g1", userId: "bob" }, "month", now),
      ).toMatchObject({
        completed: 20,
        credits: 30,
      });
    }
  });

  it("admits exactly the guild's daily limit across both, however the asks interleave", async () => {
    await a.team.configs.update("g2", (config) => ({ ...config, guildDailyJobs: 7 }));
    const ask = (process: Process, n: number) =>
      process.team.admission.admit({
        userId: `user${n}`,
        guildId: "g2",
        channelIds: ["c1"],
        roleIds: [],
        promptText: "a fox",
        jobCount: 1,
      });
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, n) => ask(n % 2 ? a : b, n)));
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(7);
    expect((await b.team.usage.guildTotals("g2", "day", now)).started).toBe(7);
  });

  it("holds a person's cool-down started in one process in the other, counting the start once", async () => {
    await a.team.configs.update("g5", (config) => ({ ...config, cooldownSeconds: 60 }));
    const ask = (process: Process) =>
      process.team.admission.admit({
        userId: "eve",
        guildId: "g5",
        channelIds: ["c1"],
        roleIds: [],
        promptText: "a fox",
        jobCount: 1,
      });
    expect(await ask(a)).toEqual({ ok: true });
    expect(await b.team.usage.lastStartedAt({ guildId: "g5", userId: "eve" })).toBe(now);
    expect(await ask(b)).toMatchObject({ ok: false, refusal: { rule: "cooldown", seconds: 60 } });
    expect((await a.team.usage.guildTotals("g5", "day", now)).started).toBe(1);
  });

  it("admits at once in a guild without limits, even while another process holds its usage lock", async () => {
    // Another process is deciding a limited ask for g4 (it would hold this lock for that long).
    const lock = "atelier:shared:lock:usage:g4";
    await b.store.redis?.set(lock, "other-process", "PX", 60_000);
    const verdict = await a.team.admission.admit({
      userId: "dee",
      guildId: "g4",
      channelIds: ["c1"],
      roleIds: [],
      promptText: "a fox",
      jobCount: 2,
    });
    expect(verdict.ok).toBe(true);
    expect((await b.team.usage.guildTotals("g4", "day", now)).started).toBe(2);
    await b.store.redis?.del(lock);
  });

  it("shows a preference or a server setting changed in one process to the other at once", async () => {
    // Both have read the old values first (a process that cached them would keep showing them).
    expect(await b.preferences.get("cyd")).toEqual({});
    expect((await b.team.configs.get("g3")).bannedWords).toEqual([]);

    await a.preferences.update("cyd", (current) => ({ ...current, speed: "relax", suffix: "--ar 3:2" }));
    await a.team.configs.update("g3", (config) => ({ ...config, bannedWords: ["gore"] }));
    expect(await b.preferences.get("cyd")).toEqual({ speed: "relax", suffix: "--ar 3:2" });
    expect((await b.team.configs.get("g3")).bannedWords).toEqual(["gore"]);

    // Changes from both at once: neither is lost.
    await Promise.all([
      a.preferences.update("cyd", (current) => ({ ...current, raw: true })),
      b.preferences.update("cyd", (current) => ({ ...current, remix: true })),
    ]);
    expect(await a.preferences.get("cyd")).toMatchObject({ speed: "relax", raw: true, remix: true });
  });
});
