// The open-jobs list is what a start (or another process) resumes from: it must hold exactly the
// jobs not yet delivered, even when a process died halfway through recording a delivery.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobRecords } from "../../src/jobs/records.ts";
import { openStore, type Store } from "../../src/store/index.ts";

let dataDir: string;
let store: Store;
let records: JobRecords;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "atelier-records-"));
  store = await openStore({ dataDir });
  records = new JobRecords(store, Date.now);
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const newJob = (prompt: string) =>
  records.create({ kind: "imagine", provider: "evolink", prompt, warnings: [], requesterId: "u1" });

describe("open jobs", () => {
  it("leaves out a job recorded as delivered whose id a dead process left on the list", async () => {
    const [first, second] = [await newJob("a cat"), await newJob("a dog")];
    // markDelivered writes `delivered` and then takes the id off the list: a kill between the two.
    await store.keyv.set(`job:${first.id}`, { ...(await records.get(first.id)), delivered: true });

    expect((await records.openJobs()).map((job) => job.id)).toEqual([second.id]);
    await records.markDelivered(second.id);
    expect(await records.openJobs()).toEqual([]);
  });
});
