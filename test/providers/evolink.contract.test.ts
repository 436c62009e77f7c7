// The EvoLink adapter against the in-repo emulator of EvoLink's documented protocol: the happy path
// down to the result pixels, the exact request bodies, every error mapping and injected faults.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EvolinkEmulator, evolinkErrorBody, startEvolinkEmulator } from "../../emulators/index.ts";
import { createEvolinkProvider, type EvolinkProviderOptions } from "../../src/providers/evolink.ts";
import { type ImageProvider, type ParentTask, ProviderError } from "../../src/providers/types.ts";
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

const apiKey = "evk-test-0123456789-SECRETKEY";
let emulator: EvolinkEmulator;
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 200, everyMs: 15 });

function provider(extra: Partial<EvolinkProviderOptions> = {}): ImageProvider {
  return createEvolinkProvider({
    apiKey,
    baseUrl: emulator.baseUrl,
    logger,
    http: {
      timeouts: { headersMs: 250, bodyMs: 250 },
      clock: { sleep },
    },
    ...extra,
  });
}

const creates = () => emulator.apiRequests("POST");
const lastCreateBody = () => creates().at(-1)?.body as Record<string, unknown>;

beforeAll(async () => {
  emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 120, tileLongSide: 64, draftLongSide: 16 });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  emulator.requests.length = 0;
});

afterEach(() => {
  // Nothing in any log line may carry the key, whatever the test did.
  for (const line of logLines) expect(line).not.toContain(apiKey);
  emulator.knobs.neverFinish = false;
  emulator.knobs.refusePrompts = undefined;
  emulator.knobs.taskFailure = undefined;
  emulator.knobs.balance = undefined;
  emulator.knobs.imageFormat = "png";
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("runs to 4 distinct downloadable images of the requested aspect", async () => {
    const adapter = provider();
    const result = await adapter.imagine({ prompt: prompt("a red fox", { ar: "16:9" }), speed: "fast" });
    const { final, seen } = await finish(adapter, taskIdOf(result));
    expect(result.kind === "task" && result.usage?.credits).toBe(1.8);
    expect(seen[0]?.status).toMatch(/queued|running/);
    const progresses = seen.map((snapshot) => snapshot.progress ?? 0);
    expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
    expect(final.status).toBe("completed");
    expect(final.progress).toBe(100);
    expect(final.usage?.credits).toBe(1.8);
    expect(final.imageUrls).toHaveLength(4);
    const images = await Promise.all(final.imageUrls.map(pixelsOf));
    expect(images.map((image) => image.colourIndex)).toEqual([0, 1, 2, 3]);
    for (const image of images) expect([image.width, image.height]).toEqual([64, 36]);
    expect(emulator.apiRequests().every((request) => request.hasAuthHeader && request.authorized)).toBe(true);
  });

  it("sends image URLs first, settings in fields, and moves --hd/--turbo out of the text", async () => {
    const adapter = provider();
    const result = await adapter.imagine({
      prompt: prompt("a red fox", { ar: "3:2", seed: 42, stylize: 500, hd: true, turbo: true }, [
        "https://img.test/ref.png",
      ]),
      speed: "fast",
      quality: "standard",
    });
    expect(result.warnings.join(" ")).toMatch(/Moved --hd, --turbo out of the prompt/);
    expect(lastCreateBody()).toEqual({
      model: "mj-v8.1",
      prompt: "https://img.test/ref.png a red fox --ar 3:2 --stylize 500 --seed 42",
      quality: "hd",
      model_params: { speed: "turbo" },
    });
  });

  it("drops parameters V8.1 does not take, with a warning, and keeps the listed ones", async () => {
    const adapter = provider();
    const request = {
      prompt: prompt("a fox", {
        chaos: 20,
        stop: 50,
        cref: ["https://img.test/c.png"],
        sref: ["https://img.test/s.png"],
        style: "raw",
        no: ["trees"],
        v: "8.1",
      }),
    };
    const checked = adapter.check(request);
    expect(checked.error).toBeUndefined();
    expect(checked.warnings.join(" ")).toMatch(/--stop/);
    expect(checked.warnings.join(" ")).toMatch(/--cref \(use --oref/);
    await adapter.imagine(request);
    expect(lastCreateBody().prompt).toBe(
      "a fox --style raw --chaos 20 --sref https://img.test/s.png --no trees",
    );
    expect(lastCreateBody().model_params).toEqual({ speed: "fast" });
    expect(adapter.capabilities.passThroughParams).toContain("sref");
  });

  it("runs draft speed to 24 sketches", async () => {
    const adapter = provider();
    const result = await adapter.imagine({ prompt: prompt("a fox"), speed: "draft" });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.imageUrls).toHaveLength(24);
    const last = await pixelsOf(final.imageUrls[23] ?? "");
    expect(last.colourIndex).toBe(23);
    expect(last.width).toBe(16);
  });

  it("serves JPEG and WebP results when configured", async () => {
    const adapter = provider();
    for (const format of ["jpeg", "webp"] as const) {
      emulator.knobs.imageFormat = format;
      const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
      const bytes = Buffer.from(await (await fetch(final.imageUrls[2] ?? "")).arrayBuffer());
      expect((await sharp(bytes).metadata()).format).toBe(format);
      expect((await pixelsOf(final.imageUrls[2] ?? "")).colourIndex).toBe(2);
    }
  });

  it("delivers a callback whose body parseCallback understands", async () => {
    const receiver = await startReceiver();
    const { received } = receiver;
    const callbackUrl = receiver.url("/callbacks/evolink");
    const insecure = await startEvolinkEmulator({ apiKey, taskDurationMs: 60, allowInsecureCallbacks: true });
    try {
      const adapter = createEvolinkProvider({ apiKey, baseUrl: insecure.baseUrl, callbackUrl });
      const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
      expect(insecure.requests[0]?.body).toMatchObject({ callback_url: callbackUrl });
      for (let wait = 0; wait < 100 && received.length === 0; wait += 1) await pause(10);
      const snapshot = adapter.parseCallback?.(received[0]);
      expect(snapshot?.taskId).toBe(taskId);
      expect(snapshot?.status).toBe("completed");
      expect(snapshot?.imageUrls).toHaveLength(4);
      expect(() => adapter.parseCallback?.({ nope: true })).toThrow(ProviderError);
    } finally {
      await insecure.stop();
      await receiver.close();
    }
  });

  it("refuses an http:// callback on the real-service rules", async () => {
    const adapter = provider({ callbackUrl: "http://127.0.0.1:9/callbacks/evolink" });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toMatch(/callback_url/);
  });
});

describe("refused before anything is sent", () => {
  it("--niji and --v other than 8.1 name the parameter", async () => {
    const adapter = provider();
    const niji = await failure(adapter.imagine({ prompt: prompt("a fox", { niji: "7" }) }));
    expect(niji.kind).toBe("invalid");
    expect(niji.message).toBe("EvoLink runs Midjourney V8.1 only; remove --niji.");
    const v7 = adapter.check({ prompt: prompt("a fox", { v: "7" }) });
    expect(v7.error?.message).toMatch(/remove --v 7/);
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("one image without text is invalid", async () => {
    const adapter = provider();
    const request = { prompt: prompt("", { ar: "1:1" }, ["https://img.test/a.png"]) };
    expect(adapter.check(request).error?.kind).toBe("invalid");
    expect((await failure(adapter.imagine(request))).kind).toBe("invalid");
    const twoImages = adapter.check({
      prompt: prompt("", {}, ["https://img.test/a.png", "https://img.test/b.png"]),
    });
    expect(twoImages.error).toBeUndefined();
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("HD at draft speed is invalid", async () => {
    const adapter = provider();
    const error = await failure(adapter.imagine({ prompt: prompt("a fox"), quality: "hd", speed: "draft" }));
    expect(error.kind).toBe("invalid");
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("the emulator itself enforces the documented rules", async () => {
    const post = (body: unknown) =>
      fetch(`${emulator.baseUrl}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const single = await post({ model: "mj-v8.1", prompt: "https://img.test/a.png --ar 1:1" });
    expect(single.status).toBe(400);
    expect(((await single.json()) as { error: { code: string } }).error.code).toBe("invalid_parameters");
    expect((await post({ model: "mj-v8.1", prompt: "a fox --niji 7" })).status).toBe(400);
    expect(
      (await post({ model: "mj-v8.1", prompt: "a", quality: "hd", model_params: { speed: "draft" } })).status,
    ).toBe(400);
    expect((await post({ model: "mj-v8.1", prompt: "x".repeat(8193) })).status).toBe(400);
    expect(
      (await post({ model: "mj-v8.1", prompt: "https://a.test/1.png https://a.test/2.png" })).status,
    ).toBe(200);
  });
});

describe("error mapping", () => {
  it("a bad key is auth, naming EVOLINK_API_KEY, and is not retried", async () => {
    const adapter = createEvolinkProvider({ apiKey: "wrong-key-123456", baseUrl: emulator.baseUrl, logger });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("auth");
    expect(error.advice).toBe("admin");
    expect(error.message).toMatch(/EVOLINK_API_KEY/);
    expect(creates()).toHaveLength(1);
    expect((await failure(adapter.fetchTask("task-unified-1-x"))).kind).toBe("auth");
  });

  it("an empty balance is quota", async () => {
    emulator.knobs.balance = 2;
    const adapter = provider();
    await adapter.imagine({ prompt: prompt("a fox") });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("quota");
    expect(error.message).toBe("EvoLink account balance is insufficient: top up or tell an admin.");
    expect(emulator.knobs.balance).toBeCloseTo(0.2);
  });

  it("HD costs 1.5x", async () => {
    const result = await provider().imagine({ prompt: prompt("a fox"), quality: "hd" });
    expect(result.kind === "task" && result.usage?.credits).toBeCloseTo(2.7);
  });

  it("a refused prompt fails the task as refused, naming the word", async () => {
    emulator.knobs.refusePrompts = /\bgore\b/i;
    const adapter = provider();
    const { final } = await finish(
      adapter,
      taskIdOf(await adapter.imagine({ prompt: prompt("so much gore") })),
    );
    expect(final.status).toBe("failed");
    expect(final.error?.kind).toBe("refused");
    expect(final.error?.reason).toBe("gore");
    expect(final.error?.message).toMatch(/gore/);
    expect(final.error?.advice).toBe("rephrase");
  });

  it.each([
    ["invalid_parameters", "failed", "invalid"],
    ["image_dimension_mismatch", "failed", "invalid"],
    ["quota_exceeded", "failed", "quota"],
    ["resource_exhausted", "failed", "quota"],
    ["service_unavailable", "failed", "transient"],
    ["service_error", "failed", "transient"],
    ["generation_timeout", "failed", "transient"],
    ["generation_failed_no_content", "failed", "internal"],
    ["unknown_error", "failed", "internal"],
    ["request_cancelled", "cancelled", undefined],
  ])("task error %s → %s %s", async (code, status, kind) => {
    emulator.knobs.taskFailure = { code, message: `boom: ${code}` };
    const adapter = provider();
    const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    expect(final.status).toBe(status);
    if (kind) {
      expect(final.error?.kind).toBe(kind);
      expect(final.error?.code).toBe(code);
    }
  });

  it("an HTTP 400 is invalid with EvoLink's message", async () => {
    emulator.failNext(1, 400, {
      body: evolinkErrorBody("invalid_parameters", "--zoom is not allowed", "invalid_request_error"),
    });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toMatch(/--zoom is not allowed/);
    expect(error.maybeSubmitted).toBe(false);
  });

  it("an unknown task is a clear error", async () => {
    const error = await failure(provider().fetchTask("task-unified-0-missing"));
    expect(error.kind).toBe("internal");
    expect(error.message).toMatch(/could not find the task/);
  });
});

describe("faults", () => {
  it("a 429 burst on polling is retried and succeeds", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.failNext(3, 429, { method: "GET" });
    const snapshot = await adapter.fetchTask(taskId);
    expect(snapshot.taskId).toBe(taskId);
    expect(emulator.apiRequests("GET")).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it("a 429 with Retry-After on create is retried after that delay", async () => {
    emulator.failNext(1, 429, { method: "POST", retryAfter: "2" });
    const result = await provider().imagine({ prompt: prompt("a fox") });
    expect(result.kind).toBe("task");
    expect(sleeps).toEqual([2000]);
    expect(creates()).toHaveLength(2);
    expect(emulator.tasks.has(taskIdOf(result))).toBe(true);
  });

  it("a 503 on create is retried", async () => {
    emulator.failNext(2, 503, { method: "POST" });
    const result = await provider().imagine({ prompt: prompt("a fox") });
    expect(result.kind).toBe("task");
    expect(creates()).toHaveLength(3);
  });

  it("a 500 after processing a create is NOT retried and says it may have started", async () => {
    const tasksBefore = emulator.tasks.size;
    emulator.failNext(1, 500, { method: "POST", afterProcessing: true });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("transient");
    expect(error.maybeSubmitted).toBe(true);
    expect(error.advice).toBe("retry");
    expect(error.message).toMatch(/may have started/);
    expect(creates()).toHaveLength(1);
    expect(emulator.tasks.size).toBe(tasksBefore + 1);
    expect(sleeps).toEqual([]);
  });

  it("a create slower than the headers timeout is a maybe-submitted timeout, sent once", async () => {
    emulator.slowNext(1500, { method: "POST" });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("timeout");
    expect(error.maybeSubmitted).toBe(true);
    expect(creates()).toHaveLength(1);
  });

  it("a slow poll is retried", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.slowNext(1500, { method: "GET" });
    expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
    expect(emulator.apiRequests("GET")).toHaveLength(2);
  });

  it("a truncated or malformed create answer is internal and maybe submitted", async () => {
    const adapter = provider();
    emulator.truncateNext({ method: "POST" });
    const truncated = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(truncated.kind).toBe("internal");
    expect(truncated.maybeSubmitted).toBe(true);
    emulator.malformedNext({ method: "POST" });
    const malformed = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(malformed.kind).toBe("internal");
    expect(malformed.maybeSubmitted).toBe(true);
    expect(creates()).toHaveLength(2);
  });

  it("a malformed poll is internal; a truncated poll is retried", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.malformedNext({ method: "GET" });
    expect((await failure(adapter.fetchTask(taskId))).kind).toBe("internal");
    emulator.truncateNext({ method: "GET" });
    expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
    expect(logLines.filter((line) => line.startsWith("WARN")).length).toBeGreaterThanOrEqual(2);
  });

  it("a body echoing the key is logged without it", async () => {
    emulator.failNext(1, 200, { method: "GET", body: { weird: `Bearer ${apiKey}`, key: apiKey } });
    const error = await failure(provider().fetchTask("task-unified-1-x"));
    expect(error.kind).toBe("internal");
    const warning = logLines.find((line) => line.startsWith("WARN")) ?? "";
    expect(warning).toMatch(/unexpected response shape/);
    expect(warning).not.toContain(apiKey);
  });

  it("a task that never finishes stays running at 93%", async () => {
    emulator.knobs.neverFinish = true;
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    let snapshot = await adapter.fetchTask(taskId);
    for (let poll = 0; poll < 100 && snapshot.progress !== 93; poll += 1) {
      await pause(10);
      snapshot = await adapter.fetchTask(taskId);
    }
    await pause(150);
    snapshot = await adapter.fetchTask(taskId);
    expect(snapshot.status).toBe("running");
    expect(snapshot.progress).toBe(93);
  });
});

describe("follow-ups", () => {
  let parent: ParentTask;

  beforeAll(async () => {
    const adapter = provider();
    const original = prompt("a red fox", { ar: "16:9", seed: 1234, chaos: 10 });
    const taskId = taskIdOf(await adapter.imagine({ prompt: original, speed: "fast" }));
    const { final } = await finish(adapter, taskId);
    parent = { taskId, prompt: original, imageUrls: final.imageUrls, speed: "fast", quality: "standard" };
  });

  it("upscale is separate: image n alone, no request", async () => {
    const result = await provider().followUp({ kind: "upscale", parent, index: 3 });
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.snapshot.status).toBe("completed");
    expect(result.snapshot.imageUrls).toEqual([parent.imageUrls[2]]);
    expect(emulator.apiRequests()).toHaveLength(0);
    expect(provider().capabilities.upscale).toBe("separate");
  });

  it("variation is image-to-image: image n's URL first, then the original text and params", async () => {
    const adapter = provider();
    const result = await adapter.followUp({ kind: "variation", parent, index: 2, strength: "strong" });
    expect(lastCreateBody()).toEqual({
      model: "mj-v8.1",
      prompt: `${parent.imageUrls[1]} a red fox --ar 16:9 --chaos 10`,
      quality: "standard",
      model_params: { speed: "fast" },
    });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.imageUrls).toHaveLength(4);
  });

  it("a subtle remix variation uses the edited prompt and a higher image weight", async () => {
    await provider().followUp({
      kind: "variation",
      parent,
      index: 1,
      strength: "subtle",
      prompt: prompt("a blue fox", { ar: "16:9" }),
    });
    expect(lastCreateBody().prompt).toBe(`${parent.imageUrls[0]} a blue fox --ar 16:9 --iw 2`);
  });

  it("uses the configured variation model with the task id and a 0-based image number", async () => {
    const adapter = provider({ variationModel: "mj-v7-variation" });
    const result = await adapter.followUp({ kind: "variation", parent, index: 2, strength: "strong" });
    expect(lastCreateBody()).toEqual({
      model: "mj-v7-variation",
      model_params: { task_id: parent.taskId, image_number: 1, type: "strong" },
    });
    expect((await finish(adapter, taskIdOf(result))).final.status).toBe("completed");
  });

  it("re-roll sends the same prompt without the seed", async () => {
    await provider().followUp({ kind: "reroll", parent });
    expect(lastCreateBody().prompt).toBe("a red fox --ar 16:9 --chaos 10");
  });

  it("Run as HD keeps the prompt and seed with quality hd", async () => {
    const result = await provider().followUp({ kind: "hd", parent });
    expect(result.warnings).toEqual([]);
    expect(lastCreateBody()).toEqual({
      model: "mj-v8.1",
      prompt: "a red fox --ar 16:9 --chaos 10 --seed 1234",
      quality: "hd",
      model_params: { speed: "fast" },
    });
  });

  it("Run as HD of a seedless draft set runs at fast speed and says the set will differ", async () => {
    const draftParent: ParentTask = { ...parent, prompt: prompt("a fox", { draft: true }), speed: "fast" };
    const result = await provider().followUp({ kind: "hd", parent: draftParent });
    expect(result.warnings.join(" ")).toMatch(/no --seed/);
    expect(lastCreateBody()).toMatchObject({
      prompt: "a fox",
      quality: "hd",
      model_params: { speed: "fast" },
    });
  });

  it("a missing image number is invalid without a request", async () => {
    const error = await failure(provider().followUp({ kind: "upscale", parent, index: 5 }));
    expect(error.kind).toBe("invalid");
    expect(emulator.apiRequests()).toHaveLength(0);
  });
});
