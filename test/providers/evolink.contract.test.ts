// The EvoLink adapter against the in-repo emulator of EvoLink's documented protocol: the shared
// provider contract, then what is particular to EvoLink: the exact request bodies (settings in fields,
// V8.1's parameters, variation models, HD), draft sets, credits, its rules and error codes, slow answers.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EvolinkEmulator, evolinkErrorBody, startEvolinkEmulator } from "../../emulators/index.ts";
import { createEvolinkProvider, type EvolinkProviderOptions } from "../../src/providers/evolink.ts";
import type { ImageProvider, ParentTask } from "../../src/providers/types.ts";
import { runProviderContract } from "./contract.ts";
import { failure, pixelsOf, poller, prompt, recordingLogger, recordingSleeps, taskIdOf } from "./support.ts";

function resetKnobs(target: EvolinkEmulator): void {
  target.knobs.neverFinish = false;
  target.knobs.refusePrompts = undefined;
  target.knobs.taskFailure = undefined;
  target.knobs.balance = undefined;
  target.knobs.imageFormat = "png";
}

runProviderContract<EvolinkEmulator>("evolink", {
  // Loopback callbacks are allowed here; the real service's HTTPS rule is tested below.
  start: (key) =>
    startEvolinkEmulator({
      apiKey: key,
      taskDurationMs: 120,
      tileLongSide: 64,
      allowInsecureCallbacks: true,
    }),
  adapter: (_emulator, { baseUrl, apiKey: key, logger: log, sleep: wait }) =>
    createEvolinkProvider({ apiKey: key, baseUrl, logger: log, http: { clock: { sleep: wait } } }),
  keySetting: "EVOLINK_API_KEY",
  baseUrlSetting: "EVOLINK_BASE_URL",
  callbackField: "callback_url",
  unknownTaskId: "task-unified-0-missing",
  size: { set: [64, 36] },
  refuse: (target, word) => {
    target.knobs.refusePrompts = new RegExp(`\\b${word}\\b`, "i");
  },
  refusalReasonIsWord: true,
  stall: (target) => {
    target.knobs.neverFinish = true;
  },
  exhaust: (target) => {
    target.knobs.balance = 0;
  },
  reset: resetKnobs,
});

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
  resetKnobs(emulator);
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("reports the credits a standard fast set reserves, at submit and on the task", async () => {
    const adapter = provider();
    const result = await adapter.imagine({ prompt: prompt("a red fox", { ar: "16:9" }), speed: "fast" });
    expect(result.kind === "task" && result.usage?.credits).toBe(1.8);
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.usage?.credits).toBe(1.8);
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
    expect(result.warnings).toEqual([
      { type: "moved", feature: "--hd", details: "EvoLink's settings" },
      { type: "moved", feature: "--turbo", details: "EvoLink's settings" },
    ]);
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
    const notOnV81 = "not supported by EvoLink's Midjourney V8.1";
    expect(checked.warnings).toEqual([
      { type: "unsupported", feature: "--stop", details: notOnV81 },
      {
        type: "unsupported",
        feature: "--cref",
        details: `${notOnV81}; use --oref (Omni Reference) instead`,
      },
    ]);
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
  it("an empty balance is quota, in EvoLink's words, and nothing is charged", async () => {
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

  it("an unknown task is one EvoLink could not find (it may have expired)", async () => {
    const error = await failure(provider().fetchTask("task-unified-0-missing"));
    expect(error.message).toMatch(/could not find the task/);
  });
});

describe("slow answers", () => {
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

  it("upscale is separate: image n alone, no request; a style is warned about", async () => {
    const result = await provider().followUp({ kind: "upscale", parent, index: 3 });
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.snapshot.status).toBe("completed");
    expect(result.snapshot.imageUrls).toEqual([parent.imageUrls[2]]);
    expect(emulator.apiRequests()).toHaveLength(0);
    expect(provider().capabilities.upscale).toBe("separate");
    const styled = await provider().followUp({ kind: "upscale", parent, index: 3, style: "subtle" });
    expect(styled.warnings).toEqual([
      {
        type: "unsupported",
        feature: "Upscale (subtle)",
        details: "EvoLink has no subtle upscaler, so this is image 3 as generated",
      },
    ]);
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
    expect(result.warnings).toEqual([
      {
        type: "changed",
        feature: "--seed",
        details: "the original prompt had none, so the HD run composes a new set rather than the same images",
      },
    ]);
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
