// The job service against the EvoLink emulator and a real embedded store: what a user would
// notice is that jobs finish, survive restarts, never get sent twice, and never hang.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { type JobListener, JobService } from "../../src/jobs/service.ts";
import { silentLogger } from "../../src/log.ts";
import { parsePrompt } from "../../src/prompt/index.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { openStore, type Store } from "../../src/store/index.ts";

const apiKey = "evk-jobs-test-key";
let emulator: EvolinkEmulator;
let dataDir: string;
const opened: Array<{ store: Store; jobs: JobService; provider: ImageProvider }> = [];

function sentPrompt(index: number): string {
  const body = emulator.apiRequests("POST")[index]?.body as { prompt?: string } | undefined;
  return body?.prompt ?? "";
}

function prompt(text: string): ParsedPrompt {
  const parsed = parsePrompt(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.prompt;
}

class Recorder implements JobListener {
  progress: JobRecord[] = [];
  finished: JobRecord[] = [];
  private waiters: Array<() => void> = [];
  onProgress(job: JobRecord) {
    this.progress.push(job);
  }
  onFinished(job: JobRecord) {
    this.finished.push(job);
    for (const wake of this.waiters.splice(0)) wake();
  }
  async finishedCount(count: number, timeoutMs = 10_000): Promise<JobRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.finished.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.finished.length} of ${count} jobs finished`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.finished;
  }
}

async function openService(options: { timeoutMs?: number; maxRunning?: number } = {}) {
  const store = await openStore({ dataDir });
  const provider = createEvolinkProvider({ apiKey, baseUrl: emulator.baseUrl });
  const jobs = new JobService({
    store,
    providers: new Map([[provider.name, provider]]),
    defaultProvider: provider.name,
    pollIntervalMs: 30,
    timeoutMs: options.timeoutMs,
    maxRunning: options.maxRunning,
    logger: silentLogger,
  });
  const recorder = new Recorder();
  jobs.listen(recorder);
  const entry = { store, jobs, provider };
  opened.push(entry);
  return { ...entry, recorder };
}

async function close(entry: { store: Store; jobs: JobService; provider: ImageProvider }) {
  await entry.jobs.stop();
  await entry.provider.close?.();
  await entry.store.close();
  opened.splice(opened.indexOf(entry), 1);
}

beforeEach(async () => {
  emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 300, tileLongSide: 64 });
  dataDir = mkdtempSync(join(tmpdir(), "atelier-jobs-"));
});

afterEach(async () => {
  for (const entry of [...opened]) await close(entry);
  await emulator.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("job service", () => {
  it("runs an imagine job to four results and keeps it open until delivered", async () => {
    const { jobs, recorder } = await openService();
    const job = await jobs.submitImagine({
      prompt: prompt("a red fox --ar 3:2"),
      requesterId: "u1",
      speed: "fast",
    });
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.state).toBe("completed");
    expect(finished?.imageUrls).toHaveLength(4);
    expect(recorder.progress.map((update) => update.state)).toContain("running");
    expect(emulator.apiRequests("POST")).toHaveLength(1);
    expect(sentPrompt(0)).toBe("a red fox --ar 3:2");

    const stored = await jobs.get(job.id);
    expect(stored?.delivered).toBe(false);
    await jobs.markDelivered(job.id);
    expect((await jobs.get(job.id))?.delivered).toBe(true);
  });

  it("resumes a running job after a restart without sending it again", async () => {
    emulator.knobs.taskDurationMs = 1_500;
    const first = await openService();
    const job = await first.jobs.submitImagine({ prompt: prompt("a lighthouse at dusk"), requesterId: "u1" });
    while ((await first.jobs.get(job.id))?.state !== "running") await new Promise((r) => setTimeout(r, 20));
    await close(first);

    const second = await openService();
    await second.jobs.start();
    const [finished] = await second.recorder.finishedCount(1);
    expect(finished?.id).toBe(job.id);
    expect(finished?.state).toBe("completed");
    expect(emulator.apiRequests("POST")).toHaveLength(1);
  });

  it("fails a job caught mid-submit by a crash instead of sending it twice", async () => {
    const first = await openService();
    const job = await first.jobs.prepareImagine({ prompt: prompt("a crash victim"), requesterId: "u1" });
    // What a crash between "submitting" and the provider's answer leaves behind.
    await first.store.keyv.set(`job:${job.id}`, { ...job, state: "submitting", launchedAt: Date.now() });
    await close(first);

    const second = await openService();
    await second.jobs.start();
    const [finished] = await second.recorder.finishedCount(1);
    expect(finished?.state).toBe("failed");
    expect(finished?.error?.message).toMatch(/may or may not have started.*🔄/);
    expect(emulator.apiRequests("POST")).toHaveLength(0);
  });

  it("drops a job that was prepared but never shown", async () => {
    const first = await openService();
    await first.jobs.prepareImagine({ prompt: prompt("never announced"), requesterId: "u1" });
    await close(first);
    const second = await openService();
    await second.jobs.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(second.recorder.finished).toHaveLength(0);
    expect(emulator.apiRequests("POST")).toHaveLength(0);
  });

  it("ends a task that never finishes as a timeout, not a stuck percentage", async () => {
    emulator.knobs.neverFinish = true;
    const { jobs, recorder } = await openService({ timeoutMs: 400 });
    await jobs.submitImagine({ prompt: prompt("a stuck job"), requesterId: "u1" });
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.state).toBe("failed");
    expect(finished?.error?.kind).toBe("timeout");
    expect(finished?.error?.advice).toBe("retry");
  });

  it("reports a refused prompt with the reason the service gave", async () => {
    emulator.knobs.refusePrompts = /gore/;
    const { jobs, recorder } = await openService();
    await jobs.submitImagine({ prompt: prompt("a gore scene"), requesterId: "u1" });
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.error?.kind).toBe("refused");
    expect(finished?.error?.advice).toBe("rephrase");
  });

  it("separates image n without calling the provider, and varies image n from its URL", async () => {
    const { jobs, recorder } = await openService();
    const parent = await jobs.submitImagine({ prompt: prompt("a castle --ar 16:9"), requesterId: "u1" });
    const [done] = await recorder.finishedCount(1);

    const upscale = await jobs.prepareFollowUp({
      parentId: parent.id,
      action: { kind: "upscale", index: 3 },
      requesterId: "u2",
    });
    await jobs.launch(upscale.id);
    const separated = (await recorder.finishedCount(2))[1];
    expect(separated?.imageUrls).toEqual([done?.imageUrls[2]]);
    expect(emulator.apiRequests("POST")).toHaveLength(1);

    const variation = await jobs.prepareFollowUp({
      parentId: parent.id,
      action: { kind: "variation", index: 2, strength: "strong" },
      requesterId: "u2",
    });
    await jobs.launch(variation.id);
    const varied = (await recorder.finishedCount(3))[2];
    expect(varied?.state).toBe("completed");
    const sent = sentPrompt(1);
    expect(sent.startsWith(`${done?.imageUrls[1]} `)).toBe(true);
    expect(sent).toContain("a castle");
  });

  it("keeps jobs beyond the running limit queued until a slot frees", async () => {
    const { jobs, recorder } = await openService({ maxRunning: 1 });
    await jobs.submitImagine({ prompt: prompt("first"), requesterId: "u1" });
    const second = await jobs.submitImagine({ prompt: prompt("second"), requesterId: "u2" });
    await new Promise((r) => setTimeout(r, 100));
    expect((await jobs.get(second.id))?.state).toBe("queued");
    expect(emulator.apiRequests("POST")).toHaveLength(1);
    await recorder.finishedCount(2);
    expect(emulator.apiRequests("POST")).toHaveLength(2);
  });
});
