// The Gemini adapter against the in-repo emulator of Google's Gemini API: the shared provider contract
// (minus the cases that assume a task kept on the provider's side), then what is particular to
// Gemini: the exact generateContent bodies (four calls, aspect ratio, image size, the inline image and
// the words of V and /blend), refusals in Google's words, its error format, and the adapter's own
// task model (progress in quarters, a set fails whole, a task lost to a restart).
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GeminiEmulator, geminiRateLimitBody, startGeminiEmulator } from "../../emulators/index.ts";
import {
  createGeminiProvider,
  type GeminiProvider,
  type GeminiProviderOptions,
} from "../../src/providers/gemini.ts";
import { memoryBlobs } from "../../src/providers/index.ts";
import type { ImageProvider, ParentTask, SubmitResult, TaskSnapshot } from "../../src/providers/types.ts";
import { isBlobLink, type ResultBlobs } from "../../src/store/blobs.ts";
import { decodePixels } from "../support/pixels.ts";
import { runProviderContract } from "./contract.ts";
import { failure, poller, prompt, recordingLogger, recordingSleeps, taskIdOf } from "./support.ts";

/**
 * Blobs as `data:` URLs, so the contract suite (which `fetch`es result links) can read them; the bot
 * keeps them in its store under `atelier-blob:` links, as the tests further down use.
 */
const inlineBlobs: ResultBlobs = {
  put: async (bytes, contentType) => `data:${contentType};base64,${bytes.toString("base64")}`,
  get: async (link) => {
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(link);
    return match ? { contentType: match[1] ?? "", bytes: Buffer.from(match[2] ?? "", "base64") } : undefined;
  },
};

/**
 * Contract cases written for a service that keeps the task and is polled for it. Gemini answers each
 * call with a finished image, so the adapter keeps the task itself: `imagine` returns before any call
 * is answered and `fetchTask` makes no request. What each case protects is tested for Gemini below.
 */
const notForAdapterKeptTasks: Record<string, string> = {
  "a wrong key is auth, names the setting, and is not retried": "the set fails as auth: see 'a wrong key'",
  "an unknown task is a clear error naming the base URL setting":
    "an unknown task means a restart, not a wrong base URL: see 'a task lost to a restart'",
  "a 200 poll of an unexpected shape is internal, logged once without the key": "no polls",
  "a 429 burst on polling is retried and succeeds": "no polls",
  "a 429 with Retry-After on create is retried after that delay, making one task":
    "calls run after imagine returns: see 'rate limits'",
  "a 503 on create (not processed) is retried": "see 'a 503 on a call'",
  "a 500 after processing a create is NOT retried and says it may have started":
    "see 'a 500 after processing'",
  "a truncated or malformed create answer is internal, maybe submitted, and sent once":
    "see 'a truncated or malformed answer'",
  "a malformed or truncated poll answer is retried like a 5xx": "no polls",
  "polls cut off past the retry budget are waited out: the task still completes": "no polls",
  "a task that never finishes stays running at 93% (the job layer times it out)":
    "progress moves in quarters: see 'a call that never answers'",
};

beforeEach((context) => {
  const why = notForAdapterKeptTasks[context.task.name];
  if (why) context.skip(why);
});

runProviderContract<GeminiEmulator>("gemini", {
  start: (key) => startGeminiEmulator({ apiKey: key, generationMs: 40, staggerMs: 20, tileLongSide: 64 }),
  adapter: (_emulator, { baseUrl, apiKey: key, logger: log, sleep: wait }) =>
    createGeminiProvider({
      apiKey: key,
      baseUrl,
      model: "gemini-3.1-flash-image",
      blobs: inlineBlobs,
      logger: log,
      http: { clock: { sleep: wait } },
    }),
  keySetting: "GEMINI_API_KEY",
  baseUrlSetting: "GEMINI_BASE_URL",
  callbackField: "callback_url",
  unknownTaskId: "gemini-00000000-0000-4000-8000-000000000000",
  size: { set: [64, 36] },
  refuse: (target, word) => {
    target.knobs.refusePrompts = new RegExp(`\\b${word}\\b`, "i");
  },
  refusalReasonIsWord: false,
  stall: (target) => {
    target.knobs.hang = true;
  },
  reset: (target) => {
    target.knobs.refusePrompts = undefined;
    target.knobs.refusal = "text";
    target.knobs.hang = false;
  },
});

const apiKey = "gemini-test-0123456789-SECRETKEY";
let emulator: GeminiEmulator;
let blobs: ResultBlobs;
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 300, everyMs: 10 });

function provider(extra: Partial<GeminiProviderOptions> = {}): GeminiProvider {
  return createGeminiProvider({
    apiKey,
    baseUrl: emulator.baseUrl,
    model: "gemini-3.1-flash-image",
    blobs,
    logger,
    http: { timeouts: { headersMs: 2_000, bodyMs: 2_000 }, clock: { sleep } },
    ...extra,
  });
}

/** The generateContent bodies of this test. */
const bodies = () => emulator.generateBodies();
const imageConfigs = () =>
  bodies().map((body) => (body.generationConfig as { imageConfig: unknown } | undefined)?.imageConfig);

/** The task a submit started, followed to its end. */
async function finished(adapter: ImageProvider, submitted: Promise<SubmitResult>): Promise<TaskSnapshot> {
  return (await finish(adapter, taskIdOf(await submitted))).final;
}

async function setOf(adapter: ImageProvider, text: string, params = {}): Promise<ParentTask> {
  const parsed = prompt(text, params);
  const final = await finished(adapter, adapter.imagine({ prompt: parsed }));
  expect(final.status).toBe("completed");
  return { taskId: final.taskId, prompt: parsed, imageUrls: final.imageUrls };
}

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey, generationMs: 30, staggerMs: 15, tileLongSide: 60 });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  blobs = memoryBlobs();
  emulator.requests.length = 0;
});

afterEach(() => {
  for (const line of logLines) expect(line).not.toContain(apiKey);
  emulator.clearFaults();
  emulator.knobs.refusePrompts = undefined;
  emulator.knobs.refusal = "text";
  emulator.knobs.hang = false;
  sleeps.length = 0;
  logLines.length = 0;
});

describe("a set is four generateContent calls", () => {
  it("sends the words, the nearest ratio and both modalities, four times, the key in a header", async () => {
    const adapter = provider();
    const submitted = await adapter.imagine({
      prompt: prompt("a red fox", { ar: "3:2", seed: 7, no: ["fog"] }),
    });
    expect(submitted.warnings).toEqual([
      {
        type: "moved",
        feature: "--no",
        details: "Gemini gemini-3.1-flash-image has no negative prompt; added to the text",
      },
      { type: "unsupported", feature: "--seed", details: "Gemini gemini-3.1-flash-image takes no seed" },
    ]);
    const final = (await finish(adapter, taskIdOf(submitted))).final;
    const expected = {
      contents: [{ role: "user", parts: [{ text: "a red fox, without fog" }] }],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "3:2" } },
    };
    expect(bodies()).toEqual([expected, expected, expected, expected]);
    const calls = emulator.apiRequests("POST");
    expect(calls.map((call) => call.path)).toEqual(
      Array(4).fill("/v1beta/models/gemini-3.1-flash-image:generateContent"),
    );
    expect(calls.every((call) => call.keyIn === "header" && call.authorized)).toBe(true);
    expect(final.imageUrls).toHaveLength(4);
    expect(final.imageUrls.every(isBlobLink)).toBe(true);
    const first = await decodePixels((await blobs.get(final.imageUrls[0] ?? ""))?.bytes ?? Buffer.alloc(0));
    expect([first.width, first.height]).toEqual([60, 40]);
  });

  it("reports progress in quarters, never going back", async () => {
    const adapter = provider();
    const { seen } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    const progress = seen.map((snapshot) => snapshot.progress ?? -1);
    expect(progress.every((value) => [0, 25, 50, 75, 100].includes(value))).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ status: "completed", progress: 100 });
  });

  it("rounds --ar to the ratios the model has, with a warning", async () => {
    const adapter = provider();
    const wide = adapter.check({ prompt: prompt("a fox", { ar: "2:1" }) });
    expect(wide.warnings).toEqual([
      {
        type: "changed",
        feature: "--ar",
        details: "2:1 → 16:9, the nearest Gemini gemini-3.1-flash-image offers",
      },
    ]);
    expect(adapter.check({ prompt: prompt("a tower", { ar: "1:4" }) }).warnings).toEqual([]);
    const older = provider({ model: "gemini-2.5-flash-image" });
    await finished(older, older.imagine({ prompt: prompt("a tower", { ar: "1:4" }) }));
    expect(imageConfigs()).toEqual(Array(4).fill({ aspectRatio: "9:16" }));
  });

  it("asks for the 2K size for HD, and says when the model has one size only", async () => {
    const adapter = provider();
    await finished(adapter, adapter.imagine({ prompt: prompt("a fox", { ar: "16:9" }), quality: "hd" }));
    expect(imageConfigs()).toEqual(Array(4).fill({ aspectRatio: "16:9", imageSize: "2K" }));
    expect(adapter.capabilities.hd).toBe(true);
    const older = provider({ model: "gemini-2.5-flash-image" });
    expect(older.capabilities.hd).toBe(false);
    const submitted = await older.imagine({ prompt: prompt("a fox", { hd: true }) });
    expect(submitted.warnings).toEqual([
      { type: "unsupported", feature: "HD", details: "gemini-2.5-flash-image makes one image size only" },
    ]);
    await finish(older, taskIdOf(submitted));
    expect(imageConfigs().at(-1)).toEqual({ aspectRatio: "1:1" });
  });

  it("refuses --v and --niji naming the configured model, sending nothing", async () => {
    const adapter = provider();
    const error = await failure(adapter.imagine({ prompt: prompt("a fox", { niji: "7" }) }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toMatch(/--niji 7 picks a Midjourney model.*gemini-3\.1-flash-image/);
    expect(adapter.check({ prompt: prompt("a fox", { v: "7" }) }).error?.message).toMatch(/Remove --v 7/);
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("never fetches a prompt's links: image prompts and --sref are left out with a warning", async () => {
    const adapter = provider();
    const links = prompt("a fox", { sref: ["https://img.test/s.png"] }, ["https://img.test/a.png"]);
    expect(adapter.check({ prompt: links }).warnings).toEqual([
      {
        type: "unsupported",
        feature: "--sref",
        details: "Midjourney codes and reference links are not used with Gemini; attach references to /blend",
      },
      {
        type: "unsupported",
        feature: "image prompts",
        details: "Atelier does not fetch links for Gemini; attach the images to /blend",
      },
    ]);
    const onlyLinks = prompt("", {}, ["https://img.test/a.png", "https://img.test/b.png"]);
    expect((await failure(adapter.imagine({ prompt: onlyLinks }))).message).toMatch(/\/blend/);
    expect(emulator.apiRequests()).toHaveLength(0);
  });
});

describe("follow-ups", () => {
  it("V sends the chosen image inline with the subtle or strong instruction", async () => {
    const adapter = provider();
    const parent = await setOf(adapter, "a red fox", { ar: "3:2", seed: 3 });
    const chosen = await blobs.get(parent.imageUrls[1] ?? "");
    for (const strength of ["subtle", "strong"] as const) {
      emulator.requests.length = 0;
      const submitted = await adapter.followUp({ kind: "variation", parent, index: 2, strength });
      expect(submitted.warnings).toEqual([]);
      expect((await finish(adapter, taskIdOf(submitted))).final.imageUrls).toHaveLength(4);
      const instruction =
        strength === "subtle"
          ? "Make a subtle variation of this image: keep its subject, composition, colours and style, and change only small details. Prompt: a red fox"
          : "Make a strong variation of this image: keep its subject and overall idea, but freely change the composition, pose, viewpoint, lighting and details. Prompt: a red fox";
      const expected = {
        contents: [
          {
            role: "user",
            parts: [
              { inlineData: { mimeType: "image/png", data: chosen?.bytes.toString("base64") } },
              { text: instruction },
            ],
          },
        ],
        generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "3:2" } },
      };
      expect(bodies()).toEqual([expected, expected, expected, expected]);
    }
  });

  it("a remixed V describes the new prompt; an image no longer kept is a clear error", async () => {
    const adapter = provider();
    const parent = await setOf(adapter, "a red fox");
    emulator.requests.length = 0;
    const remix = prompt("a blue fox", { ar: "2:3" });
    await finished(
      adapter,
      adapter.followUp({ kind: "variation", parent, index: 1, strength: "strong", prompt: remix }),
    );
    const parts = ((bodies()[0]?.contents ?? []) as { parts: { text?: string }[] }[])[0]?.parts ?? [];
    expect(parts.at(-1)?.text).toMatch(/Prompt: a blue fox$/);
    expect(imageConfigs()[0]).toEqual({ aspectRatio: "2:3" });
    const gone = { ...parent, imageUrls: ["atelier-blob:00000000-0000-4000-8000-000000000000"] };
    const error = await failure(
      adapter.followUp({ kind: "variation", parent: gone, index: 1, strength: "subtle" }),
    );
    expect(error).toMatchObject({ kind: "invalid", code: "image_expired" });
  });

  it("🔄 runs the prompt again, with a note that there is no seed", async () => {
    const adapter = provider();
    const parent = await setOf(adapter, "a quiet harbour", { seed: 9 });
    emulator.requests.length = 0;
    const submitted = await adapter.followUp({ kind: "reroll", parent });
    expect(submitted.warnings).toEqual([
      { type: "unsupported", feature: "--seed", details: "Gemini gemini-3.1-flash-image takes no seed" },
    ]);
    const final = (await finish(adapter, taskIdOf(submitted))).final;
    expect(final.imageUrls.some((url) => parent.imageUrls.includes(url))).toBe(false);
    expect(bodies()).toHaveLength(4);
  });

  it("Run as HD asks for 2K; zoom and provider buttons are refused without a call", async () => {
    const adapter = provider();
    const parent = await setOf(adapter, "a fox");
    emulator.requests.length = 0;
    const hd = await adapter.followUp({ kind: "hd", parent });
    expect(hd.warnings[0]).toMatchObject({ type: "changed", feature: "Run as HD" });
    await finish(adapter, taskIdOf(hd));
    expect(imageConfigs()).toEqual(Array(4).fill({ aspectRatio: "1:1", imageSize: "2K" }));
    emulator.requests.length = 0;
    const zoom = await failure(adapter.followUp({ kind: "zoom", parent, factor: 2 }));
    expect(zoom).toMatchObject({ kind: "invalid", code: "no_outpaint" });
    expect(adapter.capabilities.outpaint).toBe(false);
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("/blend sends the images inline with the blend instruction and the shape's ratio", async () => {
    const adapter = provider();
    const images = [
      { bytes: Buffer.from("first-image"), contentType: "image/png" },
      { bytes: Buffer.from("second-image"), contentType: "image/jpeg" },
    ];
    const final = await finished(adapter, adapter.blend({ images, dimensions: "portrait" }));
    expect(final.imageUrls).toHaveLength(4);
    expect(bodies()[0]).toEqual({
      contents: [
        {
          role: "user",
          parts: [
            { inlineData: { mimeType: "image/png", data: Buffer.from("first-image").toString("base64") } },
            { inlineData: { mimeType: "image/jpeg", data: Buffer.from("second-image").toString("base64") } },
            {
              text: "Blend these 2 images into one new image: combine their subjects, styles and colours into a single coherent picture.",
            },
          ],
        },
      ],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "2:3" } },
    });
    const one = await failure(adapter.blend({ images: images.slice(0, 1), dimensions: "square" }));
    expect(one.kind).toBe("invalid");
  });
});

describe("refusals in Google's words", () => {
  it("a blocked prompt (promptFeedback.blockReason) is refused with the reason", async () => {
    emulator.knobs.refusePrompts = /gore/;
    emulator.knobs.refusal = "prompt";
    const adapter = provider();
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("so much gore") }));
    expect(final.status).toBe("failed");
    expect(final.error).toMatchObject({ kind: "refused", advice: "rephrase", reason: "PROHIBITED_CONTENT" });
    expect(final.error?.message).toBe("Gemini blocked the prompt (PROHIBITED_CONTENT): rephrase it.");
  });

  it("a filtered image (IMAGE_SAFETY) is refused with Google's finish message", async () => {
    emulator.knobs.refusePrompts = /gore/;
    emulator.knobs.refusal = "image";
    const adapter = provider();
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("so much gore") }));
    expect(final.error).toMatchObject({ kind: "refused", code: "IMAGE_SAFETY" });
    expect(final.error?.message).toMatch(
      /^Gemini refused the image \(IMAGE_SAFETY\): Unable to show the generated image/,
    );
  });

  it("one call of four blocked fails the whole set, and nothing is shown", async () => {
    emulator.blockNext(1, "image");
    const adapter = provider();
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final).toMatchObject({ status: "failed", imageUrls: [] });
    expect(final.error?.kind).toBe("refused");
  });

  it("no image and no words (NO_IMAGE) is worth another try", async () => {
    emulator.blockNext(4, "no-image");
    const adapter = provider();
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "transient", code: "NO_IMAGE" });
  });
});

describe("errors in the admin's terms", () => {
  it("a wrong key fails the set as auth naming GEMINI_API_KEY, without retries", async () => {
    const adapter = provider({ apiKey: "wrong-key-0000000000" });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "auth", advice: "admin", code: "API_KEY_INVALID" });
    expect(final.error?.message).toContain("GEMINI_API_KEY");
    expect(final.error?.message).not.toContain("wrong-key-0000000000");
    // The first answer fails the set and the other calls are abandoned: at most one each was sent.
    const calls = emulator.apiRequests("POST");
    expect(calls.length).toBeLessThanOrEqual(4);
    expect(calls.every((call) => call.keyIn === "header" && !call.authorized)).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it("an unknown model names GEMINI_IMAGE_MODEL and the image models the key may use", async () => {
    for (const model of ["gemini-9-imagine", "gemini-2.5-flash"]) {
      const adapter = provider({ model });
      const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
      expect(final.error?.kind).toBe("internal");
      expect(final.error?.message).toContain(`GEMINI_IMAGE_MODEL is "${model}"`);
      expect(final.error?.message).toMatch(
        /set it to one of: gemini-2\.5-flash-image, gemini-3-pro-image, gemini-3\.1-flash-image\.$/,
      );
    }
    expect(emulator.apiRequests("GET").map((request) => request.path)).toEqual([
      "/v1beta/models",
      "/v1beta/models",
    ]);
  });

  it("a task lost to a restart is a clear error, and nothing is sent again", async () => {
    const error = await failure(provider().fetchTask("gemini-00000000-0000-4000-8000-000000000000"));
    expect(error).toMatchObject({ kind: "internal", code: "task_lost" });
    expect(error.message).toMatch(/restart/);
    expect(error.message).toMatch(/billed/);
    expect(emulator.apiRequests()).toHaveLength(0);
  });

  it("a base URL that already ends in /v1beta is understood", async () => {
    const adapter = provider({ baseUrl: `${emulator.baseUrl}/v1beta` });
    expect((await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }))).status).toBe("completed");
  });
});

describe("faults", () => {
  it("rate limits: a short burst is retried; past the client's budget Google's RetryInfo wait is honoured", async () => {
    const adapter = provider();
    emulator.failNext(16, 429, { method: "POST" });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.status).toBe("completed");
    expect(emulator.apiRequests("POST")).toHaveLength(20);
    expect(sleeps).toContain(7_000);
    expect(emulator.imagesMade()).toBeGreaterThanOrEqual(4);
  });

  it("a daily quota used up is quota, for an admin", async () => {
    const adapter = provider();
    const body = geminiRateLimitBody("gemini-3.1-flash-image", "day");
    emulator.failNext(40, 429, { method: "POST", body });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "quota", advice: "admin", code: "RESOURCE_EXHAUSTED" });
    expect(final.error?.message).toMatch(/daily quota/);
    expect(sleeps).not.toContain(7_000);
  });

  it("a 503 on a call (not processed) is retried and the set completes", async () => {
    const adapter = provider();
    emulator.failNext(2, 503, { method: "POST" });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.status).toBe("completed");
    expect(emulator.apiRequests("POST")).toHaveLength(6);
  });

  it("a 500 after processing is not sent again, and says the image may have been made", async () => {
    const adapter = provider();
    const before = emulator.imagesMade();
    emulator.failNext(1, 500, { method: "POST", afterProcessing: true });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "transient", maybeSubmitted: true, code: "INTERNAL" });
    expect(final.error?.message).toMatch(/may have started/);
    expect(emulator.apiRequests("POST")).toHaveLength(4);
    expect(emulator.imagesMade() - before).toBeGreaterThanOrEqual(1);
  });

  it("a truncated or malformed answer fails the set as internal, maybe billed, logged once each", async () => {
    const adapter = provider();
    emulator.truncateNext({ method: "POST" });
    const truncated = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(truncated.error).toMatchObject({ kind: "internal", maybeSubmitted: true });
    emulator.malformedNext({ method: "POST" });
    const malformed = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(malformed.error).toMatchObject({ kind: "internal", maybeSubmitted: true });
    expect(emulator.apiRequests("POST")).toHaveLength(8);
    expect(logLines.filter((line) => line.startsWith("WARN"))).toHaveLength(2);
  });

  it("a call that never answers ends the set as a timeout once the client's wait runs out", async () => {
    emulator.knobs.hang = true;
    const adapter = provider({ http: { timeouts: { headersMs: 150 }, clock: { sleep } } });
    const final = await finished(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "timeout", maybeSubmitted: true });
    expect(emulator.apiRequests("POST")).toHaveLength(4);
  });
});

describe("the start-up check", () => {
  it("reads the model: the key, the base URL and the model are each named when wrong", async () => {
    await provider().verify();
    expect(emulator.apiRequests().map((request) => request.path)).toEqual([
      "/v1beta/models/gemini-3.1-flash-image",
    ]);
    const key = await failure(provider({ apiKey: "wrong-key-0000000000" }).verify());
    expect(key).toMatchObject({ kind: "auth" });
    expect(key.message).toContain("GEMINI_API_KEY");
    const model = await failure(provider({ model: "gemini-9-imagine" }).verify());
    expect(model.message).toMatch(/GEMINI_IMAGE_MODEL is "gemini-9-imagine"; set it to one of: gemini-2\.5/);
    const url = await failure(provider({ baseUrl: `${emulator.baseUrl}/elsewhere` }).verify());
    expect(url.message).toMatch(/did not answer like its API at GEMINI_BASE_URL/);
    expect(emulator.apiRequests("POST")).toHaveLength(0);
  });
});

describe("the emulator, as Google's service answers", () => {
  it("takes the key as ?key= too, refuses a wrong one with API_KEY_INVALID and none with 403", async () => {
    const list = await fetch(`${emulator.baseUrl}/v1beta/models?key=${apiKey}`);
    expect(list.status).toBe(200);
    expect(emulator.requests.at(-1)?.keyIn).toBe("query");
    const wrong = await fetch(`${emulator.baseUrl}/v1beta/models`, { headers: { "x-goog-api-key": "nope" } });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({
      error: { code: 400, status: "INVALID_ARGUMENT", details: [{ reason: "API_KEY_INVALID" }, {}] },
    });
    expect((await fetch(`${emulator.baseUrl}/v1beta/models`)).status).toBe(403);
  });

  it("refuses an aspect ratio or image size the model does not take, and unknown fields", async () => {
    const post = (model: string, generationConfig: unknown) =>
      fetch(`${emulator.baseUrl}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": apiKey, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ parts: [{ text: "a fox" }] }], generationConfig }),
      });
    const ratio = await post("gemini-3-pro-image", {
      responseModalities: ["IMAGE"],
      imageConfig: { aspectRatio: "1:4" },
    });
    expect(ratio.status).toBe(400);
    const size = await post("gemini-2.5-flash-image", { imageConfig: { imageSize: "2K" } });
    expect(((await size.json()) as { error: { status: string } }).error.status).toBe("INVALID_ARGUMENT");
    const typo = await post("gemini-3-pro-image", { imageConfig: { aspect: "1:1" } });
    expect(((await typo.json()) as { error: { message: string } }).error.message).toMatch(
      /Unknown name "aspect"/,
    );
  });
});
