// The OpenAI adapter against the in-repo emulator of OpenAI's Images API: the shared provider
// contract (minus the cases about polling a task the service keeps: OpenAI streams instead), then what
// is particular to OpenAI: the exact request bodies (one streamed request of n 4, the size for --ar,
// quality for HD, multipart edits for V, the canvas and mask of Zoom Out / Pan / Make Square, /blend),
// partial images as the preview, refusals and account errors in OpenAI's terms, and streams cut short.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  makeResultImage,
  type OpenAiEmulator,
  type OpenAiUpload,
  openaiDefaultKnobs,
  startOpenAiEmulator,
} from "../../emulators/index.ts";
import { memoryBlobs } from "../../src/providers/index.ts";
import { createOpenAiProvider, type OpenAiProviderOptions } from "../../src/providers/openai.ts";
import type { ImageProvider, ParentTask, SubmitResult, TaskSnapshot } from "../../src/providers/types.ts";
import type { ResultBlobs } from "../../src/store/blobs.ts";
import { setRequestBody } from "../support/openai.ts";
import { decodePixels } from "../support/pixels.ts";
import { runProviderContract } from "./contract.ts";
import { failure, poller, prompt, recordingLogger, recordingSleeps, taskIdOf } from "./support.ts";

/** The contract `fetch`es result links, so there the blobs are `data:` URLs (fetch reads those too). */
const fetchableBlobs: ResultBlobs = {
  put: async (bytes, contentType) => `data:${contentType};base64,${bytes.toString("base64")}`,
  get: async (link) => {
    const answer = await fetch(link);
    return {
      bytes: Buffer.from(await answer.arrayBuffer()),
      contentType: answer.headers.get("content-type") ?? "",
    };
  },
};

/**
 * Contract cases written for a service that keeps the task and is polled for it. OpenAI streams one
 * answer per request and keeps nothing to ask about, so the adapter keeps the task and `fetchTask`
 * sends nothing. What each case protects is tested for OpenAI below, under the name given.
 */
const notForStreamedTasks: Record<string, string> = {
  "a wrong key is auth, names the setting, and is not retried":
    "an unknown task is a restart, not a key to check: see 'a wrong key'",
  "an unknown task is a clear error naming the base URL setting":
    "an unknown task means the stream was lost to a restart: see 'a task lost to a restart'",
  "a 200 poll of an unexpected shape is internal, logged once without the key": "no polls",
  "a 429 burst on polling is retried and succeeds": "no polls",
  "a truncated or malformed create answer is internal, maybe submitted, and sent once":
    "the answer is a stream that outlives imagine: see 'streams cut short'",
  "a malformed or truncated poll answer is retried like a 5xx": "no polls",
  "polls cut off past the retry budget are waited out: the task still completes": "no polls",
  "a task that never finishes stays running at 93% (the job layer times it out)":
    "progress counts partial images: see 'a stream that stalls'",
};

beforeEach((context) => {
  const why = notForStreamedTasks[context.task.name];
  if (why) context.skip(why);
});

function resetKnobs(target: OpenAiEmulator): void {
  Object.assign(target.knobs, openaiDefaultKnobs(120));
}

runProviderContract<OpenAiEmulator>("openai", {
  start: (key) => startOpenAiEmulator({ apiKey: key, durationMs: 120 }),
  adapter: (_emulator, { baseUrl, apiKey: key, logger: log, sleep: wait }) =>
    createOpenAiProvider({
      apiKey: key,
      baseUrl,
      blobs: fetchableBlobs,
      logger: log,
      http: { clock: { sleep: wait } },
    }),
  keySetting: "OPENAI_API_KEY",
  baseUrlSetting: "OPENAI_BASE_URL",
  callbackField: "callback_url",
  unknownTaskId: "req_0000000000000000",
  // gpt-image-2 makes 16:9 exactly, at about a megapixel.
  size: { set: [1360, 768] },
  refuse: (target, word) => {
    target.knobs.refusePrompts = new RegExp(`\\b${word}\\b`, "i");
    target.knobs.refusalMessage = `Your request was rejected by the safety system: "${word}" is not allowed.`;
  },
  refusalReasonIsWord: false,
  stall: (target) => {
    target.knobs.stall = true;
  },
  exhaust: (target) => {
    target.knobs.quotaExhausted = true;
  },
  reset: resetKnobs,
});

const apiKey = "sk-proj-test-0123456789-SECRETKEY";
let emulator: OpenAiEmulator;
let blobs: ResultBlobs;
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 400, everyMs: 10 });

function provider(extra: Partial<OpenAiProviderOptions> = {}): ImageProvider {
  return createOpenAiProvider({
    apiKey,
    baseUrl: emulator.baseUrl,
    blobs,
    logger,
    http: { clock: { sleep } },
    ...extra,
  });
}

const creates = () => emulator.apiRequests("POST");
const lastBody = () => creates().at(-1)?.body as Record<string, unknown>;
const warnLines = () => logLines.filter((line) => line.startsWith("WARN"));

async function finished(adapter: ImageProvider, submitted: Promise<SubmitResult>): Promise<TaskSnapshot> {
  return (await finish(adapter, taskIdOf(await submitted))).final;
}

/** Imagine on a new adapter, followed to the end. */
function run(request: Parameters<ImageProvider["imagine"]>[0]): Promise<TaskSnapshot> {
  const adapter = provider();
  return finished(adapter, adapter.imagine(request));
}

/** A blob's pixels: its size and the result colour at its centre. */
async function pixels(link: string | undefined) {
  const blob = await blobs.get(link ?? "");
  if (!blob) throw new Error(`no blob behind ${link}`);
  const image = await decodePixels(blob.bytes);
  return { width: image.width, height: image.height, colourIndex: image.centre() };
}

async function setOf(adapter: ImageProvider, text: string, params = {}): Promise<ParentTask> {
  const parsed = prompt(text, params);
  const final = await finished(adapter, adapter.imagine({ prompt: parsed }));
  expect(final.status).toBe("completed");
  return { taskId: final.taskId, prompt: parsed, imageUrls: final.imageUrls };
}

beforeAll(async () => {
  emulator = await startOpenAiEmulator({ apiKey, durationMs: 120 });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  blobs = memoryBlobs();
  emulator.requests.length = 0;
});

afterEach(() => {
  // Nothing in any log line may carry the key, whatever the test did.
  for (const line of logLines) expect(line).not.toContain(apiKey);
  resetKnobs(emulator);
  emulator.clearFaults();
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("is one streamed request for four images, the preview forming, usage in tokens", async () => {
    emulator.knobs.durationMs = 600;
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a red fox", { ar: "3:2" }) }));
    expect(emulator.taskIds()).toContain(taskId);
    expect(lastBody()).toEqual(setRequestBody("a red fox", "1248x832"));
    const { final, seen } = await finish(adapter, taskId);
    const running = seen.filter((snapshot) => snapshot.status === "running");
    const previews = running.map((snapshot) => snapshot.previewUrl).filter((url) => url !== undefined);
    expect(previews.length).toBeGreaterThan(0);
    // Previews are kept small: the newest partial image, shrunk for the progress message.
    const preview = await pixels(previews[0]);
    expect(preview).toEqual({ width: 512, height: 341, colourIndex: 0 });
    const progress = running.map((snapshot) => snapshot.progress ?? 0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(Math.max(...progress)).toBeLessThan(100);
    expect(final).toMatchObject({ status: "completed", progress: 100 });
    const images = await Promise.all(final.imageUrls.map(pixels));
    expect(images).toEqual([0, 1, 2, 3].map((colourIndex) => ({ width: 1248, height: 832, colourIndex })));
    expect(final.usage?.tokens).toBeGreaterThan(4 * 1056);
    expect(final.usage?.credits).toBeUndefined();
    expect(creates()).toHaveLength(1);
  });

  it.each([
    ["gpt-image-1.5", "3:2", "1536x1024", undefined],
    ["gpt-image-1.5", "9:16", "1024x1536", "9:16 → 1024×1536, the nearest size OpenAI gpt-image-1.5 makes"],
    ["gpt-image-2", "16:9", "1360x768", undefined],
    ["gpt-image-2", "4:1", "1776x592", "4:1 → 1776×592, the nearest size OpenAI gpt-image-2 makes"],
  ])("on %s, --ar %s is %s (a note when rounded: %s)", async (model, ar, size, rounded) => {
    const result = await provider({ model }).imagine({ prompt: prompt("a fox", { ar }) });
    expect(lastBody()).toMatchObject({ model, size });
    expect(result.warnings).toEqual(rounded ? [{ type: "changed", feature: "--ar", details: rounded }] : []);
  });

  it("sends HD as high quality, standard as medium, --q as low/medium/high", async () => {
    const adapter = provider();
    const quality = async (request: Parameters<ImageProvider["imagine"]>[0]) => {
      await adapter.imagine(request);
      return lastBody().quality;
    };
    expect(await quality({ prompt: prompt("a fox"), quality: "hd" })).toBe("high");
    expect(await quality({ prompt: prompt("a fox"), quality: "standard" })).toBe("medium");
    expect(await quality({ prompt: prompt("a fox", { quality: 0.5 }) })).toBe("low");
    expect(await quality({ prompt: prompt("a fox", { quality: 2 }), quality: "standard" })).toBe("high");
    expect(await quality({ prompt: prompt("a fox", { hd: true }) })).toBe("high");
  });

  it("translates Midjourney syntax through the one table, warnings as data", async () => {
    const adapter = provider();
    const request = { prompt: prompt("a red fox", { ar: "3:2", seed: 7, no: ["fog", "rain"], chaos: 20 }) };
    const checked = adapter.check(request);
    expect(checked.error).toBeUndefined();
    const result = await adapter.imagine(request);
    expect(result.warnings).toEqual(checked.warnings);
    expect(result.warnings).toEqual([
      {
        type: "moved",
        feature: "--no",
        details: "OpenAI gpt-image-2 has no negative prompt; added to the text",
      },
      { type: "unsupported", feature: "--seed", details: "OpenAI gpt-image-2 takes no seed" },
      { type: "unsupported", feature: "--chaos", details: "OpenAI gpt-image-2 has no such setting" },
    ]);
    expect(lastBody().prompt).toBe("a red fox, without fog, without rain");
  });

  it("sends image prompts and --sref/--oref links as references of a JSON edit, for OpenAI to fetch", async () => {
    const adapter = provider();
    const parsed = prompt("a red fox", { ar: "3:2", sref: ["https://img.test/s.png", "1234"] }, [
      "https://img.test/ref.png",
    ]);
    const final = await finished(adapter, adapter.imagine({ prompt: parsed }));
    expect(final.imageUrls).toHaveLength(4);
    expect(creates().at(-1)?.path).toBe("/v1/images/edits");
    expect(lastBody()).toEqual(
      setRequestBody(
        "Make a new picture that uses the given images as references for its subject, composition and style. The picture: a red fox",
        "1248x832",
        { images: [{ image_url: "https://img.test/ref.png" }, { image_url: "https://img.test/s.png" }] },
      ),
    );
    expect(adapter.check({ prompt: parsed }).warnings).toEqual([
      {
        type: "unsupported",
        feature: "--sref",
        details: "codes work on Midjourney only; links are sent as images",
      },
    ]);
    const imagesOnly = prompt("", {}, ["https://img.test/a.png", "https://img.test/b.png"]);
    await adapter.imagine({ prompt: imagesOnly });
    expect(lastBody().prompt).toBe(
      "Make a new picture that uses the given images as references for its subject, composition and style.",
    );
  });

  it("refuses --v, --niji, no words, 17 images, a DALL·E model and a long prompt before sending", async () => {
    const adapter = provider();
    const v7 = adapter.check({ prompt: prompt("a fox", { v: "7" }) }).error;
    expect(v7).toMatchObject({ kind: "invalid" });
    expect(v7?.message).toMatch(/--v 7 picks a Midjourney model, but this job runs on OpenAI gpt-image-2/);
    expect((await failure(adapter.imagine({ prompt: prompt("a fox", { niji: "7" }) }))).message).toMatch(
      /--niji 7/,
    );
    expect((await failure(adapter.imagine({ prompt: prompt("") }))).message).toMatch(/needs words/);
    const many = Array.from({ length: 17 }, (_, n) => `https://img.test/${n}.png`);
    expect((await failure(adapter.imagine({ prompt: prompt("a fox", {}, many) }))).message).toMatch(
      /at most 16/,
    );
    const dalle = await failure(provider({ model: "dall-e-3" }).imagine({ prompt: prompt("a fox") }));
    expect(dalle.message).toMatch(/OPENAI_IMAGE_MODEL is dall-e-3/);
    const long = await failure(adapter.imagine({ prompt: prompt("x".repeat(32_001)) }));
    expect(long.message).toContain("32000");
    expect(emulator.apiRequests()).toHaveLength(0);
  });
});

describe("errors in OpenAI's terms", () => {
  it("a wrong key is auth naming OPENAI_API_KEY, sent once, without OpenAI's echo of the key", async () => {
    const adapter = provider({ apiKey: "sk-wrong-key-000000009999" });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "auth", advice: "admin", code: "invalid_api_key" });
    expect(error.message).toBe("OpenAI rejected the API key: check OPENAI_API_KEY.");
    expect(creates()).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect((await failure(adapter.verify?.() ?? Promise.resolve())).message).toMatch(/OPENAI_API_KEY/);
  });

  it("an unknown model is invalid, naming OPENAI_IMAGE_MODEL and the models, at start and at submit", async () => {
    const adapter = provider({ model: "gpt-image-9" });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "invalid", code: "model_not_found" });
    expect(error.message).toMatch(
      /gpt-image-9.*OPENAI_IMAGE_MODEL.*gpt-image-2, gpt-image-2-2026-04-21, gpt-image-1\.5/,
    );
    expect((await failure(adapter.verify?.() ?? Promise.resolve())).message).toMatch(/OPENAI_IMAGE_MODEL/);
    await expect(provider().verify?.()).resolves.toBeUndefined();
  });

  it("a wrong base URL fails the start-up check naming OPENAI_BASE_URL", async () => {
    const adapter = provider({ baseUrl: emulator.baseUrl.replace(/\/v1$/, "/v2") });
    expect((await failure(adapter.verify?.() ?? Promise.resolve())).message).toMatch(/OPENAI_BASE_URL/);
  });

  it("a blocked prompt is refused in OpenAI's words, with its categories, and not retried", async () => {
    emulator.knobs.refusePrompts = /gore/;
    emulator.knobs.moderationCategories = ["violence"];
    const error = await failure(provider().imagine({ prompt: prompt("so much gore") }));
    expect(error).toMatchObject({
      kind: "refused",
      advice: "rephrase",
      code: "moderation_blocked",
      reason: "violence",
    });
    expect(error.message).toBe(
      "OpenAI's safety system refused this: Your request was rejected by the safety system. Categories: violence.",
    );
    expect(creates()).toHaveLength(1);
  });

  it("a finished image blocked by the output check fails the task as refused, not sent again", async () => {
    emulator.knobs.refuseOutputs = /storm/;
    const final = await run({ prompt: prompt("a storm") });
    expect(final.status).toBe("failed");
    expect(final.error).toMatchObject({ kind: "refused", code: "moderation_blocked" });
    expect(final.error?.message).toMatch(/in the finished image/);
    expect(creates()).toHaveLength(1);
  });

  it("an account out of credit (429 insufficient_quota) is quota, and not retried", async () => {
    emulator.knobs.quotaExhausted = true;
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "quota", advice: "admin" });
    expect(error.message).toMatch(/no credit left/);
    expect(creates()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("a rate limit (429 rate_limit_exceeded) waits Retry-After and is sent again, as one task", async () => {
    const before = emulator.taskIds().length;
    emulator.failNext(2, 429, { method: "POST", retryAfter: "3" });
    const result = await provider().imagine({ prompt: prompt("a fox") });
    expect(sleeps).toEqual([3000, 3000]);
    expect(creates().map((request) => request.status)).toEqual([429, 429, 200]);
    expect(emulator.taskIds().slice(before)).toEqual([taskIdOf(result)]);
  });

  it("a rate limit that outlasts the retries is transient, for later", async () => {
    emulator.failNext(4, 429, { method: "POST" });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "transient", advice: "retry", code: "rate_limit_exceeded" });
    expect(creates()).toHaveLength(4);
  });

  it("the emulator answers n and size out of range as OpenAI does", async () => {
    const post = (body: unknown) =>
      fetch(`${emulator.baseUrl}/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const tooMany = await post({ model: "gpt-image-2", prompt: "a", n: 11 });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      error: { type: "invalid_request_error", param: "n", code: "integer_above_max_value" },
    });
    const size = await post({ model: "gpt-image-1.5", prompt: "a", size: "1360x768" });
    expect(((await size.json()) as { error: { param: string } }).error.param).toBe("size");
    expect((await post({ model: "gpt-image-2", prompt: "a", size: "1000x1000" })).status).toBe(400);
    expect((await post({ model: "gpt-image-2", prompt: "a", size: "1360x768" })).status).toBe(200);
  });

  it("a task lost to a restart says it may have been billed, and sends nothing", async () => {
    const error = await failure(provider().fetchTask("req_0000000000000000"));
    expect(error).toMatchObject({ kind: "internal", code: "interrupted", maybeSubmitted: true });
    expect(error.message).toMatch(/restarted.*may have billed it; it was not sent again/);
    expect(emulator.apiRequests()).toHaveLength(0);
  });
});

describe("streams cut short", () => {
  it("cut before any image is finished: sent once more (nothing billed), and the set completes", async () => {
    emulator.cutStreamNext(1, { method: "POST" });
    const final = await run({ prompt: prompt("a fox") });
    expect(final.status).toBe("completed");
    expect(final.imageUrls).toHaveLength(4);
    expect(creates().map((request) => request.fault ?? "ok")).toEqual(["cut", "ok"]);
    expect(warnLines()).toHaveLength(1);
  });

  it("cut twice before any image: reported, not sent a third time", async () => {
    emulator.cutStreamNext(1, { method: "POST" });
    emulator.cutStreamNext(1, { method: "POST" });
    const final = await run({ prompt: prompt("a fox") });
    expect(final.error).toMatchObject({ kind: "internal", code: "stream_cut", maybeSubmitted: true });
    expect(creates()).toHaveLength(2);
  });

  it("cut after an image was finished (billed): reported as maybe billed, not sent again", async () => {
    emulator.knobs.durationMs = 600;
    emulator.truncateNext({ method: "POST" });
    const final = await run({ prompt: prompt("a fox") });
    expect(final.status).toBe("failed");
    expect(final.error).toMatchObject({ kind: "internal", code: "stream_cut", maybeSubmitted: true });
    // Images are counted as they are read: a cut can lose what arrived just before it.
    expect(final.error?.message).toMatch(/broke off after [12] of 4 images; those were billed/);
    expect(creates()).toHaveLength(1);
  });

  it("an unreadable event before any image: sent once more", async () => {
    emulator.malformedNext({ method: "POST" });
    const final = await run({ prompt: prompt("a fox") });
    expect(final.status).toBe("completed");
    expect(creates()).toHaveLength(2);
    expect(warnLines().some((line) => /unreadable event/.test(line))).toBe(true);
  });

  it("a store that cannot keep an image fails the task without sending it again", async () => {
    const adapter = provider({
      blobs: { put: () => Promise.reject(new Error("disk full")), get: async () => undefined },
    });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "internal", code: "store" });
    expect(creates()).toHaveLength(1);
  });

  it("a stream that ends with fewer images than n asked for is topped up with the rest", async () => {
    emulator.knobs.imagesPerStream = 1;
    const final = await run({ prompt: prompt("a fox") });
    expect(final.status).toBe("completed");
    expect(final.imageUrls).toHaveLength(4);
    expect(creates().map((request) => (request.body as { n: number }).n)).toEqual([4, 3, 2, 1]);
  });

  it("a stream that stalls stays running, then ends as a timeout at the adapter's limit", async () => {
    emulator.knobs.stall = true;
    const adapter = provider({ maxTaskDurationMs: 400 });
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await adapter.fetchTask(taskId)).status).toBe("running");
    const { final } = await finish(adapter, taskId);
    expect(final.error).toMatchObject({ kind: "timeout", maybeSubmitted: true });
    expect(adapter.capabilities.maxTaskDurationMs).toBe(400);
  });

  it("cancel stops waiting: the task ends cancelled", async () => {
    emulator.knobs.stall = true;
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    await adapter.cancel?.(taskId);
    expect((await finish(adapter, taskId)).final.status).toBe("cancelled");
  });
});

type Upload = Omit<OpenAiUpload, "bytes"> & { bytes: Buffer };
const editBody = () => lastBody() as Record<string, string> & { "image[]": Upload[]; mask?: Upload };

describe("follow-ups", () => {
  let parent: ParentTask;
  let single: ParentTask;

  beforeEach(async () => {
    parent = await setOf(provider(), "a red fox", { ar: "3:2", chaos: 5 });
    single = { ...parent, taskId: `${parent.taskId}#U2`, imageUrls: [parent.imageUrls[1] as string] };
    emulator.requests.length = 0;
  });

  it("U picks image n as it is, without a request; an upscaler style is warned about", async () => {
    const adapter = provider();
    expect(adapter.capabilities.upscale).toBe("separate");
    const result = await adapter.followUp({ kind: "upscale", parent, index: 2, style: "creative" });
    expect(result).toMatchObject({
      kind: "done",
      snapshot: { status: "completed", imageUrls: [parent.imageUrls[1]] },
    });
    expect(result.warnings[0]).toMatchObject({ type: "unsupported", feature: "Upscale (creative)" });
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("V is a multipart edit of image n: subtle keeps the composition at high fidelity", async () => {
    const adapter = provider({ model: "gpt-image-1.5" });
    const final = await finished(
      adapter,
      adapter.followUp({ kind: "variation", parent, index: 3, strength: "subtle" }),
    );
    expect(final.imageUrls).toHaveLength(4);
    const body = editBody();
    expect(creates().at(-1)?.path).toBe("/v1/images/edits");
    expect(body).toMatchObject({
      model: "gpt-image-1.5",
      n: "4",
      size: "1536x1024",
      quality: "medium",
      stream: "true",
      partial_images: "2",
      input_fidelity: "high",
      prompt:
        "Make a subtle variation of this image: keep its composition, subject, colours and style, and change only small details. The picture: a red fox",
    });
    expect(body["image[]"]).toHaveLength(1);
    expect(body.mask).toBeUndefined();
    const sent = body["image[]"][0] as Upload;
    expect([sent.width, sent.height, sent.format]).toEqual([1248, 832, "png"]);
    expect((await decodePixels(sent.bytes)).centre()).toBe(2);
  });

  it("strong V asks for low fidelity and a looser change; gpt-image-2 gets no input_fidelity", async () => {
    await provider({ model: "gpt-image-1" }).followUp({
      kind: "variation",
      parent,
      index: 1,
      strength: "strong",
    });
    expect(editBody().input_fidelity).toBe("low");
    expect(editBody().prompt).toMatch(/^Make a strong variation of this image: keep its subject/);
    await provider().followUp({ kind: "variation", parent, index: 1, strength: "subtle" });
    expect(editBody().input_fidelity).toBeUndefined();
    expect(editBody().size).toBe("1248x832");
  });

  it("a remixed V uses the edited prompt; image links in it are not sent with the one image", async () => {
    const result = await provider().followUp({
      kind: "variation",
      parent,
      index: 1,
      strength: "strong",
      prompt: prompt("a blue fox", { ar: "3:2" }, ["https://img.test/ref.png"]),
    });
    expect(editBody().prompt).toMatch(/The picture: a blue fox$/);
    expect(editBody()["image[]"]).toHaveLength(1);
    expect(result.warnings).toEqual([
      {
        type: "unsupported",
        feature: "image prompts",
        details: "an edit of one image sends only that image, not the prompt's image links",
      },
    ]);
  });

  it("🔄 sends the same prompt again as a new request (no seed to repeat)", async () => {
    const adapter = provider();
    const result = await adapter.followUp({ kind: "reroll", parent });
    expect(taskIdOf(result)).not.toBe(parent.taskId);
    expect(lastBody()).toMatchObject({ prompt: "a red fox", n: 4, size: "1248x832" });
    expect(result.warnings).toEqual([
      { type: "unsupported", feature: "--chaos", details: "OpenAI gpt-image-2 has no such setting" },
    ]);
  });

  it("Run as HD is the prompt again at high quality, saying the set is new", async () => {
    const result = await provider().followUp({
      kind: "hd",
      parent: { ...parent, prompt: prompt("a fox", { quality: 0.5 }) },
    });
    expect(lastBody().quality).toBe("high");
    expect(result.warnings[0]).toMatchObject({ type: "changed", feature: "Run as HD" });
  });

  it("Zoom Out 2x: the image at half size in the middle of a transparent canvas, and its mask", async () => {
    const adapter = provider();
    const final = await finished(adapter, adapter.followUp({ kind: "zoom", parent: single, factor: 2 }));
    expect(final.imageUrls).toHaveLength(4);
    const body = editBody();
    expect(body).toMatchObject({ size: "1248x832", n: "4" });
    expect(body.prompt).toMatch(
      /^Extend this picture outward: fill the transparent area.*The picture: a red fox$/,
    );
    const canvas = await decodePixels((body["image[]"][0] as Upload).bytes);
    const mask = await decodePixels((body.mask as Upload).bytes);
    for (const image of [canvas, mask])
      expect([image.width, image.height, image.channels]).toEqual([1248, 832, 4]);
    expect(canvas.pixel(624, 416).slice(0, 3)).toEqual([60, 180, 75]); // image 2's colour, at 1/2 size
    expect(canvas.pixel(10, 10)[3]).toBe(0);
    expect(canvas.pixel(311, 416)[3]).toBe(0);
    expect(canvas.pixel(313, 416)[3]).toBe(255);
    expect(mask.pixel(624, 416)[3]).toBe(255);
    expect(mask.pixel(1240, 820)[3]).toBe(0);
  });

  it("Pan ⬅️ widens the canvas by half, the image on the right; Make Square centres it", async () => {
    const adapter = provider();
    await adapter.followUp({ kind: "pan", parent: single, direction: "left" });
    const panned = editBody();
    expect(panned.size).toBe("1536x688");
    const mask = await decodePixels((panned.mask as Upload).bytes);
    expect([mask.pixel(200, 344)[3], mask.pixel(1300, 344)[3]]).toEqual([0, 255]);
    await adapter.followUp({ kind: "square", parent: single });
    const squared = editBody();
    expect(squared.size).toBe("1024x1024");
    const square = await decodePixels((squared.mask as Upload).bytes);
    expect([square.pixel(512, 40)[3], square.pixel(512, 512)[3], square.pixel(512, 990)[3]]).toEqual([
      0, 255, 0,
    ]);
  });

  it("on a fixed-size model an outpaint takes the nearest size, saying so", async () => {
    const adapter = provider({ model: "gpt-image-1.5" });
    const result = await adapter.followUp({ kind: "pan", parent: single, direction: "right" });
    expect(editBody().size).toBe("1536x1024");
    expect(result.warnings).toContainEqual({
      type: "changed",
      feature: "Pan right",
      details: "9:4 → 1536×1024, the nearest size OpenAI gpt-image-1.5 makes",
    });
    // The whole wider canvas fits: the image keeps to the left, the rest is to fill.
    const mask = await decodePixels((editBody().mask as Upload).bytes);
    expect([mask.pixel(300, 512)[3], mask.pixel(1300, 512)[3], mask.pixel(300, 100)[3]]).toEqual([255, 0, 0]);
    await adapter.followUp({ kind: "pan", parent: single, direction: "up" });
    expect(editBody().size).toBe("1024x1024");
  });

  it("refuses what it cannot do, without a request", async () => {
    const adapter = provider();
    const square = {
      ...single,
      imageUrls: [await blobs.put(await makeResultImage({ width: 64, height: 64, index: 0 }), "image/png")],
    };
    expect((await failure(adapter.followUp({ kind: "square", parent: square }))).message).toMatch(
      /already square/,
    );
    expect(
      (await failure(adapter.followUp({ kind: "variation", parent, index: 7, strength: "strong" }))).kind,
    ).toBe("invalid");
    const gone = { ...parent, imageUrls: ["atelier-blob:gone", "atelier-blob:gone"] };
    const expired = await failure(
      adapter.followUp({ kind: "variation", parent: gone, index: 1, strength: "strong" }),
    );
    expect(expired.message).toMatch(/no longer kept/);
    expect((await failure(adapter.followUp({ kind: "action", parent, customId: "x" }))).kind).toBe("invalid");
    expect(emulator.apiRequests()).toHaveLength(0);
  });
});

describe("/blend", () => {
  it("sends every image to one edit in the shape asked; other formats go as PNG", async () => {
    const adapter = provider();
    const gif = await sharp(await makeResultImage({ width: 32, height: 32, index: 5 }))
      .gif()
      .toBuffer();
    const images = [
      { bytes: await makeResultImage({ width: 32, height: 48, index: 0 }), contentType: "image/png" },
      {
        bytes: await makeResultImage({ width: 40, height: 40, index: 1, format: "jpeg" }),
        contentType: "image/jpeg",
      },
      { bytes: gif, contentType: "image/gif" },
    ];
    const final = await finished(
      adapter,
      adapter.blend?.({ images, dimensions: "landscape" }) as Promise<SubmitResult>,
    );
    expect(final.imageUrls).toHaveLength(4);
    const body = editBody();
    expect(body).toMatchObject({ size: "1248x832", n: "4", quality: "medium" });
    expect(body.prompt).toMatch(/^Blend these images into one new picture/);
    expect(body["image[]"].map((image) => [image.format, image.width])).toEqual([
      ["png", 32],
      ["jpeg", 40],
      ["png", 32],
    ]);
  });
});
