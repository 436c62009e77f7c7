// Usage accounting: what a finished job adds, where it is stored (UTC day and month, per guild and
// per user), and that a finish replayed after a restart is not counted twice.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JobRecord, jobRecordSchema } from "../../src/jobs/record.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { createTeamServices, type TeamServices } from "../../src/team/team.ts";
import {
  finishedDelta,
  nextUtcMidnight,
  topUsers,
  type UsageLedger,
  utcDay,
  utcMonth,
} from "../../src/team/usage.ts";

const lateEvening = Date.UTC(2025, 0, 31, 23, 59, 0);
const nextMorning = Date.UTC(2025, 1, 1, 0, 1, 0);

let counter = 0;
function job(fields: Partial<JobRecord> = {}): JobRecord {
  counter += 1;
  return jobRecordSchema.parse({
    id: `job${counter}`,
    kind: "imagine",
    state: "completed",
    delivered: false,
    provider: "evolink",
    prompt: "a quiet lake",
    warnings: [],
    requesterId: "ann",
    guildId: "g1",
    taskId: `task${counter}`,
    speed: "fast",
    createdAt: lateEvening,
    updatedAt: lateEvening,
    finishedAt: lateEvening,
    ...fields,
  });
}

describe("what a finished job adds", () => {
  it("uses the provider's credits when it reported them", () => {
    expect(finishedDelta(job({ credits: 2.7 }))).toEqual({ completed: 1, credits: 2.7 });
  });

  it("estimates credits from the speed otherwise, and says so", () => {
    expect(finishedDelta(job({ speed: "turbo" }))).toEqual({ completed: 1, credits: 2, estimated: 1 });
    expect(finishedDelta(job({ speed: undefined }))).toEqual({ completed: 1, credits: 1, estimated: 1 });
  });

  it("charges nothing for a job that never reached the provider (a separated upscale)", () => {
    expect(finishedDelta(job({ kind: "upscale", taskId: undefined }))).toEqual({ completed: 1 });
  });

  it("counts failures, and refusals apart", () => {
    const refused = job({ state: "failed", error: { kind: "refused", advice: "rephrase", message: "no" } });
    expect(finishedDelta(refused)).toEqual({ failed: 1, refused: 1 });
    const timedOut = job({ state: "failed", error: { kind: "timeout", advice: "retry", message: "slow" } });
    expect(finishedDelta(timedOut)).toEqual({ failed: 1 });
  });
});

describe("UTC periods", () => {
  it("names days and months in UTC and finds the next midnight", () => {
    expect(utcDay(lateEvening)).toBe("2025-01-31");
    expect(utcMonth(nextMorning)).toBe("2025-02");
    expect(nextUtcMidnight(lateEvening)).toBe(Date.UTC(2025, 1, 1));
  });
});

describe("the ledger", () => {
  let dataDir: string;
  let store: Store;
  let ledger: UsageLedger;
  let team: TeamServices;
  const ann = { guildId: "g1", userId: "ann" };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "atelier-usage-"));
    store = await openStore({ dataDir });
    team = createTeamServices({ store, logger: silentLogger, now: () => nextMorning });
    ledger = team.usage;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stores per guild and per user, by the day and month the job finished", async () => {
    await ledger.recordFinished(job({ credits: 1.5 }), nextMorning);
    await ledger.recordFinished(job({ finishedAt: nextMorning, credits: 2 }), nextMorning);
    expect(await ledger.userTotals(ann, "day", lateEvening)).toMatchObject({ completed: 1, credits: 1.5 });
    expect(await ledger.userTotals(ann, "day", nextMorning)).toMatchObject({ completed: 1, credits: 2 });
    expect(await ledger.userTotals(ann, "month", lateEvening)).toMatchObject({ completed: 1 });
    const guildFebruary = await ledger.guildTotals("g1", "month", nextMorning);
    expect(guildFebruary).toMatchObject({ completed: 1, credits: 2 });
    expect(guildFebruary.users.ann).toMatchObject({ completed: 1, credits: 2 });
    expect(await store.keyv.get("usage:g1:2025-01-31")).toBeDefined();
    expect(await store.keyv.get("usage:g1:ann:2025-02")).toBeDefined();
  });

  it("counts a finish replayed after a restart once", async () => {
    const finished = job({ credits: 1 });
    expect(await ledger.recordFinished(finished, nextMorning)).toBe(true);
    expect(await ledger.recordFinished(finished, nextMorning)).toBe(false);
    expect((await ledger.guildTotals("g1", "day", lateEvening)).completed).toBe(1);
  });

  it("keeps guilds apart", async () => {
    await ledger.recordFinished(job({ guildId: "g2" }), nextMorning);
    expect((await ledger.guildTotals("g1", "day", lateEvening)).completed).toBe(0);
    expect((await ledger.userTotals({ guildId: "g2", userId: "ann" }, "day", lateEvening)).completed).toBe(1);
  });

  it("counts starts when admitted, and ranks the top users", async () => {
    await ledger.reserve(ann, 3, nextMorning, () => undefined);
    await ledger.reserve({ guildId: "g1", userId: "bob" }, 1, nextMorning, () => undefined);
    const usage = await ledger.guildTotals("g1", "month", nextMorning);
    expect(usage.started).toBe(4);
    expect(topUsers(usage, 5).map((entry) => entry.userId)).toEqual(["ann", "bob"]);
    expect(await ledger.lastStartedAt(ann)).toBe(nextMorning);
  });

  it("is fed by the job listener and survives many finishes at once", async () => {
    for (let index = 0; index < 20; index += 1) team.usageRecorder.onFinished(job({ credits: 0.5 }));
    await team.idle();
    expect(await ledger.userTotals(ann, "day", lateEvening)).toMatchObject({ completed: 20, credits: 10 });
  });
});
