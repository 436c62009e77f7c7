// The MJAPI adapter (seed 000's simple protocol) against its in-repo emulator: the happy path down
// to the result pixels, the exact requests, follow-ups, every error mapping and injected faults.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MjapiEmulator, startMjapiEmulator } from "../../emulators/index.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import {
  createMjapiProvider,
  type MjapiProvider,
  type MjapiProviderOptions,
  toSnapshot,
} from "../../src/providers/mjapi.ts";
import { type ParentTask, ProviderError } from "../../src/providers/types.ts";
import {
  failure,
  pause,
  pixelsOf,
  poller,
  prompt,
  recordingLogger,
  recordingSleeps,
  startReceiver,
  taskIdOf,
} from "./support.ts";

const apiKey = "mjapi-test-0123456789-SECRETKEY";
let emulator: MjapiEmulator;
const adapters: MjapiProvider[] = [];
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 300, everyMs: 10 });

function provider(extra: Partial<MjapiProviderOptions> = {}): MjapiProvider {
  const adapter = createMjapiProvider({
    apiKey,
    baseUrl: emulator.baseUrl,
    logger,
    http: { clock: { sleep } },
    ...extra,
  });
  adapters.push(adapter);
  return adapter;
}

const creates = () => emulator.apiRequests("POST");
const lastCreate = () => creates().at(-1);

/** A finished set, ready to be a follow-up's parent. */
async function finishedSet(adapter: MjapiProvider, parsed: ParsedPrompt): Promise<ParentTask> {
  const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: parsed })));
  expect(final.status).toBe("completed");
  return { taskId: final.taskId, prompt: parsed, imageUrls: final.imageUrls };
}

beforeAll(async () => {
  emulator = await startMjapiEmulator({ apiKey, durationMs: 80, imageLongSide: 64 });
});

afterAll(async () => {
  await Promise.all(adapters.map((adapter) => adapter.close()));
  await emulator.stop();
});

afterEach(() => {
  // No log line may carry the key, whatever the test did.
  for (const line of logLines) expect(line).not.toContain(apiKey);
  emulator.requests.length = 0;
  Object.assign(emulator.knobs, {
    refuseWords: [],
    credits: Number.POSITIVE_INFINITY,
    neverFinish: false,
    failTasksWith: undefined,
  });
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("runs to 4 images of the requested aspect, one index colour each", async () => {
    const adapter = provider();
    const result = await adapter.imagine({ prompt: prompt("a red fox", { ar: "16:9" }) });
    const { final, seen } = await finish(adapter, taskIdOf(result));
    expect(seen[0]?.status).toMatch(/queued|running/);
    const progresses = seen.map((snapshot) => snapshot.progress ?? 0);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
    expect(final).toMatchObject({ status: "completed", progress: 100 });
    expect(final.imageUrls).toHaveLength(4);
    const images = await Promise.all(final.imageUrls.map(pixelsOf));
    expect(images.map((image) => image.colourIndex)).toEqual([0, 1, 2, 3]);
    for (const image of images) expect([image.width, image.height]).toEqual([64, 36]);
  });

  it("sends the rendered prompt with Bearer auth and the webhook, and drops what it cannot forward", async () => {
    const adapter = provider({ webhookUrl: "http://127.0.0.1:9/default-hook" });
    const parsed = prompt("a red fox", { ar: "3:2", stylize: 250, weird: 100, repeat: 3, niji: "6" });
    expect(adapter.check({ prompt: parsed }).warnings).toEqual([
      "Left out (not supported by MJAPI): --weird.",
    ]);
    const result = await adapter.imagine({ prompt: parsed, callbackUrl: "http://127.0.0.1:9/job-hook" });
    expect(result.kind === "task" && result.warnings).toEqual([
      "Left out (not supported by MJAPI): --weird.",
    ]);
    expect(creates()).toHaveLength(1);
    expect(lastCreate()).toMatchObject({
      path: "/v1/imagine",
      hasAuthHeader: true,
      authorized: true,
      body: {
        prompt: "a red fox --ar 3:2 --niji 6 --stylize 250",
        webhook_url: "http://127.0.0.1:9/job-hook",
      },
    });
    await adapter.imagine({ prompt: prompt("a blue fox") });
    expect(lastCreate()?.body).toEqual({
      prompt: "a blue fox",
      webhook_url: "http://127.0.0.1:9/default-hook",
    });
  });

  it("warns about a speed or HD it cannot honour", () => {
    const { warnings } = provider().check({ prompt: prompt("a fox"), speed: "relax", quality: "hd" });
    expect(warnings).toHaveLength(2);
    expect(warnings.join(" ")).toMatch(/speed.*relax.*HD/s);
    expect(provider().check({ prompt: prompt("a fox"), speed: "fast" }).warnings).toEqual([]);
  });

  it("refuses an over-long prompt before sending anything", async () => {
    const long = prompt("x".repeat(6001));
    expect(provider().check({ prompt: long }).error?.kind).toBe("invalid");
    expect((await failure(provider().imagine({ prompt: long }))).message).toMatch(/6000/);
    expect(creates()).toHaveLength(0);
  });

  it("webhook bodies are understood by parseCallback", async () => {
    const receiver = await startReceiver();
    const { received } = receiver;
    try {
      const hook = receiver.url("/callbacks/mjapi");
      const adapter = provider();
      const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox"), callbackUrl: hook }));
      await finish(adapter, taskId);
      for (
        let wait = 0;
        wait < 100 && !received.some((body) => JSON.stringify(body).includes("completed"));
        wait++
      ) {
        await pause(10);
      }
      const snapshots = received.map((body) => adapter.parseCallback?.(body));
      expect(snapshots.every((snapshot) => snapshot?.taskId === taskId)).toBe(true);
      // Deliveries are concurrent POSTs, so their arrival order is not asserted.
      const completed = snapshots.find((snapshot) => snapshot?.status === "completed");
      expect(completed).toMatchObject({ progress: 100 });
      expect(completed?.imageUrls).toHaveLength(4);
      expect(snapshots.some((snapshot) => snapshot?.status === "running")).toBe(true);
      expect(() => adapter.parseCallback?.({ nonsense: true })).toThrow(ProviderError);
    } finally {
      await receiver.close();
    }
  });
});

describe("follow-ups", () => {
  it("U2 is a real upscale call with index 2, resulting in one larger image 2", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox", { ar: "16:9" }));
    const result = await adapter.followUp({ kind: "upscale", parent, index: 2 });
    expect(lastCreate()).toMatchObject({ path: "/v1/upscale", body: { task_id: parent.taskId, index: 2 } });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.imageUrls).toHaveLength(1);
    const image = await pixelsOf(final.imageUrls[0] ?? "");
    expect(image).toEqual({ width: 128, height: 72, colourIndex: 1 });
  });

  it("V3 is image-to-image: image 3 first, the original prompt after, a new seed", async () => {
    const adapter = provider();
    const parsed = prompt("a fox", { ar: "1:1", seed: 42 }, ["https://example.test/ref.png"]);
    const parent = await finishedSet(adapter, parsed);
    await adapter.followUp({ kind: "variation", parent, index: 3, strength: "subtle" });
    const image3 = parent.imageUrls[2];
    expect(lastCreate()?.body).toEqual({
      prompt: `${image3} https://example.test/ref.png a fox --ar 1:1 --iw 2`,
    });
    await adapter.followUp({
      kind: "variation",
      parent,
      index: 3,
      strength: "strong",
      prompt: prompt("a wolf"),
    });
    expect(lastCreate()?.body).toEqual({ prompt: `${image3} a wolf` });
    const missing = await failure(
      adapter.followUp({ kind: "variation", parent, index: 7, strength: "strong" }),
    );
    expect(missing.kind).toBe("invalid");
  });

  it("re-roll submits the same prompt again without its seed", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox", { seed: 7, chaos: 20 }));
    const result = await adapter.followUp({ kind: "reroll", parent });
    expect(taskIdOf(result)).not.toBe(parent.taskId);
    expect(lastCreate()).toMatchObject({ path: "/v1/imagine", body: { prompt: "a fox --chaos 20" } });
  });

  it("HD and provider buttons are not offered and send nothing", async () => {
    const adapter = provider();
    const parent: ParentTask = { taskId: "t", prompt: prompt("a fox"), imageUrls: [] };
    expect(adapter.capabilities.hd).toBe(false);
    expect((await failure(adapter.followUp({ kind: "hd", parent }))).kind).toBe("invalid");
    expect((await failure(adapter.followUp({ kind: "action", parent, customId: "MJ::x" }))).kind).toBe(
      "invalid",
    );
    expect(creates()).toHaveLength(0);
  });
});

describe("error mapping", () => {
  it("a bad key is auth, naming MJAPI_API_KEY, and is not retried", async () => {
    const error = await failure(
      provider({ apiKey: "wrong-key-000000" }).imagine({ prompt: prompt("a fox") }),
    );
    expect(error.kind).toBe("auth");
    expect(error.message).toContain("MJAPI_API_KEY");
    expect(creates()).toHaveLength(1);
    expect(creates()[0]).toMatchObject({ hasAuthHeader: true, authorized: false });
  });

  it("an empty balance is quota", async () => {
    emulator.knobs.credits = 0;
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "quota", advice: "admin" });
  });

  it("a moderation refusal at submit is refused, with the service's reason", async () => {
    emulator.knobs.refuseWords = ["gore"];
    const error = await failure(provider().imagine({ prompt: prompt("lots of gore") }));
    expect(error.kind).toBe("refused");
    expect(error.reason).toContain("gore");
  });

  it("a 422 is invalid with the service's message", async () => {
    const error = await failure(provider().imagine({ prompt: prompt("a fox", { ar: "wide" }) }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toMatch(/invalid --ar value/);
  });

  it("failed tasks are refused (policy) or internal, with the service's text", async () => {
    const adapter = provider();
    emulator.knobs.failTasksWith = "Job blocked: content policy violation";
    const refused = (await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }))))
      .final;
    expect(refused).toMatchObject({ status: "failed", error: { kind: "refused" } });
    emulator.knobs.failTasksWith = "renderer crashed";
    const broken = (await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }))))
      .final;
    expect(broken.error?.kind).toBe("internal");
    expect(broken.error?.message).toContain("renderer crashed");
  });

  it("an unknown task is a clear error naming the base URL setting", async () => {
    const error = await failure(provider().fetchTask("no-such-task"));
    expect(error.kind).toBe("internal");
    expect(error.message).toContain("MJAPI_BASE_URL");
  });

  it("maps the status names the seed leaves open, unknown ones as running", () => {
    expect(toSnapshot("a", { status: "queued" }).status).toBe("queued");
    expect(toSnapshot("a", { status: "in_progress", progress: "42%" })).toMatchObject({
      status: "running",
      progress: 42,
    });
    expect(toSnapshot("a", { status: "completed", images: [] }).status).toBe("failed");
    expect(toSnapshot("a", { status: "upscaling" }, logger).status).toBe("running");
    expect(logLines.some((line) => line.includes("unknown task status"))).toBe(true);
  });
});

describe("faults", () => {
  it("a 429 burst on polling is retried and succeeds", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.failNext(3, 429, { method: "GET" });
    expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
    expect(emulator.apiRequests("GET")).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it("a 503 on create (not processed) is retried and makes one task", async () => {
    const before = emulator.taskIds().length;
    emulator.failNext(1, 503, { method: "POST", retryAfter: "0" });
    expect((await provider().imagine({ prompt: prompt("a fox") })).kind).toBe("task");
    expect(creates()).toHaveLength(2);
    expect(emulator.taskIds()).toHaveLength(before + 1);
  });

  it("a 500 after processing a create is NOT retried and says it may have started", async () => {
    const before = emulator.taskIds().length;
    emulator.failNext(1, 500, { method: "POST", afterProcessing: true });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error.maybeSubmitted).toBe(true);
    expect(creates()).toHaveLength(1);
    expect(emulator.taskIds()).toHaveLength(before + 1);
    expect(sleeps).toEqual([]);
  });

  it("malformed or truncated JSON is internal (and a create maybe submitted)", async () => {
    const adapter = provider();
    emulator.truncateNext({ method: "POST" });
    const truncated = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(truncated).toMatchObject({ kind: "internal", maybeSubmitted: true });
    emulator.malformedNext({ method: "GET" });
    expect((await failure(adapter.fetchTask(emulator.taskIds().at(-1) ?? ""))).kind).toBe("internal");
    expect(creates()).toHaveLength(1);
    expect(logLines.filter((line) => line.startsWith("WARN"))).toHaveLength(2);
  });

  it("a task that never finishes stays running at 93% (the job layer times it out)", async () => {
    emulator.knobs.neverFinish = "in-progress";
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    let snapshot = await adapter.fetchTask(taskId);
    for (let poll = 0; poll < 200 && snapshot.progress !== 93; poll += 1) {
      await pause(10);
      snapshot = await adapter.fetchTask(taskId);
    }
    await pause(120);
    expect(await adapter.fetchTask(taskId)).toMatchObject({ status: "running", progress: 93 });
    expect(adapter.capabilities.maxTaskDurationMs).toBe(15 * 60_000);
  });
});
