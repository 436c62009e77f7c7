// The job service against the EvoLink emulator and a real embedded store: what a user would
// notice is that jobs finish, survive restarts, never get sent twice, and never hang.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { parsePrompt } from "../../src/prompt/index.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { JobsHarness, type OpenService } from "./harness.ts";

const apiKey = "evk-jobs-test-key";
let emulator: EvolinkEmulator;
let harness: JobsHarness<ImageProvider>;

function sentPrompt(index: number): string {
  const body = emulator.apiRequests("POST")[index]?.body as { prompt?: string } | undefined;
  return body?.prompt ?? "";
}

function prompt(text: string): ParsedPrompt {
  const parsed = parsePrompt(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.prompt;
}

async function openService(options: { timeoutMs?: number; maxRunning?: number } = {}) {
  return harness.open(options);
}

const close = (entry: OpenService<ImageProvider>) => harness.close(entry);

beforeEach(async () => {
  emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 300, tileLongSide: 64 });
  harness = new JobsHarness(() => createEvolinkProvider({ apiKey, baseUrl: emulator.baseUrl }));
});

afterEach(async () => {
  await harness.dispose();
  await emulator.stop();
});

const asker = { requesterId: "u1" };

describe("job service", () => {
  it("runs an imagine job to four results and keeps it open until delivered", async () => {
    const { jobs, recorder } = await openService();
    const job = await jobs.submit(
      { kind: "imagine", prompt: prompt("a red fox --ar 3:2"), speed: "fast" },
      asker,
    );
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
    const job = await first.jobs.submit({ kind: "imagine", prompt: prompt("a lighthouse at dusk") }, asker);
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
    const job = await first.jobs.create({ kind: "imagine", prompt: prompt("a crash victim") }, asker);
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

  it("runs a job written before a crash even if its message was never recorded as shown", async () => {
    const first = await openService();
    const job = await first.jobs.create({ kind: "imagine", prompt: prompt("shown, then a crash") }, asker);
    await close(first);
    const second = await openService();
    await second.jobs.start();
    const [finished] = await second.recorder.finishedCount(1);
    expect(finished?.id).toBe(job.id);
    expect(finished?.state).toBe("completed");
    expect(emulator.apiRequests("POST")).toHaveLength(1);
  });

  it("ends a task that never finishes as a timeout, not a stuck percentage", async () => {
    emulator.knobs.neverFinish = true;
    const { jobs, recorder } = await openService({ timeoutMs: 400 });
    await jobs.submit({ kind: "imagine", prompt: prompt("a stuck job") }, asker);
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.state).toBe("failed");
    expect(finished?.error?.kind).toBe("timeout");
    expect(finished?.error?.advice).toBe("retry");
  });

  it("reports a refused prompt with the reason the service gave", async () => {
    emulator.knobs.refusePrompts = /gore/;
    const { jobs, recorder } = await openService();
    await jobs.submit({ kind: "imagine", prompt: prompt("a gore scene") }, asker);
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.error?.kind).toBe("refused");
    expect(finished?.error?.advice).toBe("rephrase");
  });

  it("separates image n without calling the provider, and varies image n from its URL", async () => {
    const { jobs, recorder } = await openService();
    const parent = await jobs.submit({ kind: "imagine", prompt: prompt("a castle --ar 16:9") }, asker);
    const [done] = await recorder.finishedCount(1);

    const u2 = { requesterId: "u2" };
    await jobs.submit({ kind: "followUp", parentId: parent.id, followUp: { kind: "upscale", index: 3 } }, u2);
    const separated = (await recorder.finishedCount(2))[1];
    expect(separated?.imageUrls).toEqual([done?.imageUrls[2]]);
    expect(emulator.apiRequests("POST")).toHaveLength(1);

    const variation = { kind: "variation", index: 2, strength: "strong" } as const;
    await jobs.submit({ kind: "followUp", parentId: parent.id, followUp: variation }, u2);
    const varied = (await recorder.finishedCount(3))[2];
    expect(varied?.state).toBe("completed");
    const sent = sentPrompt(1);
    expect(sent.startsWith(`${done?.imageUrls[1]} `)).toBe(true);
    expect(sent).toContain("a castle");
  });

  it("keeps jobs beyond the running limit queued until a slot frees", async () => {
    const { jobs, recorder } = await openService({ maxRunning: 1 });
    await jobs.submit({ kind: "imagine", prompt: prompt("first") }, asker);
    const second = await jobs.submit({ kind: "imagine", prompt: prompt("second") }, { requesterId: "u2" });
    await new Promise((r) => setTimeout(r, 100));
    expect((await jobs.get(second.id))?.state).toBe("queued");
    expect(emulator.apiRequests("POST")).toHaveLength(1);
    await recorder.finishedCount(2);
    expect(emulator.apiRequests("POST")).toHaveLength(2);
  });
});
