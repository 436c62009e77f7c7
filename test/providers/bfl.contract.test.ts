// The Black Forest Labs adapter against the in-repo emulator of BFL's API: the shared provider
// contract, then what is particular to BFL: a set is four tasks (exact bodies, seeds, sizes), Kontext
// variations, expand pixels, credits, 402/422/429, moderation, expiring result links, restarts and
// webhooks. Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
//
// The contract counts creates and tasks per set (one create, one task on the other protocols). BFL
// makes a set from four tasks, so the contract sees the emulator through `setView`: the creates and
// tasks of one set (as named by the set id the adapter returned) count once. Retries and duplicates
// still show (a fifth task is not part of any set); the raw counts are asserted in the tests below.
import Keyv from "keyv";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BflEmulator, type BflKnobs, startBflEmulator } from "../../emulators/index.ts";
import { type BflProviderOptions, createBflProvider, decodeSetId } from "../../src/providers/bfl.ts";
import { Pollers } from "../../src/providers/bfl-sets.ts";
import { encodeSetId } from "../../src/providers/bfl-wire.ts";
import type { HttpClient } from "../../src/providers/http.ts";
import type { ImageProvider, SubmitResult, TaskSnapshot } from "../../src/providers/types.ts";
import { BlobStore } from "../../src/store/blobs.ts";
import { decodePixels } from "../support/pixels.ts";
import { finishedSet, runProviderContract, sampleImage } from "./contract.ts";
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

const defaultKnobs: Omit<BflKnobs, "refuseWords"> = {
  credits: undefined,
  maxActiveTasks: 24,
  taskDurationMs: 150,
  signedUrlTtlMs: 10 * 60_000,
  neverFinish: false,
  moderateResults: false,
  failTasksWith: undefined,
};

function resetKnobs(emulator: BflEmulator): void {
  Object.assign(emulator.knobs, defaultKnobs, { refuseWords: [] });
}

/** BFL task ids of each set an adapter started (set id → its four task ids). */
const setsSeen = new Map<string, string[]>();

function noteSet(result: SubmitResult): SubmitResult {
  if (result.kind === "task")
    setsSeen.set(result.taskId, decodeSetId(result.taskId)?.tasks.map((t) => t.id) ?? []);
  return result;
}

/** The adapter, noting the sets it starts. */
function noting(adapter: ImageProvider): ImageProvider {
  return {
    ...adapter,
    imagine: async (request, signal) => noteSet(await adapter.imagine(request, signal)),
    followUp: async (request, signal) => noteSet(await adapter.followUp(request, signal)),
    ...(adapter.blend
      ? {
          blend: async (request, signal) =>
            noteSet(await (adapter.blend as NonNullable<ImageProvider["blend"]>)(request, signal)),
        }
      : {}),
  };
}

/** The emulator as the contract counts: a set's creates and tasks once (see the note at the top). */
function setView(emulator: BflEmulator): BflEmulator {
  const setOfTask = () => {
    const sets = new Map<string, string>();
    for (const [set, ids] of setsSeen) for (const id of ids) sets.set(id, set);
    return sets;
  };
  return {
    ...emulator,
    apiRequests(method) {
      const sets = setOfTask();
      const counted: ReturnType<BflEmulator["apiRequests"]> = [];
      const place = new Map<string, number>();
      for (const request of emulator.apiRequests(method)) {
        const set = request.taskId === undefined ? undefined : sets.get(request.taskId);
        const at = set === undefined ? undefined : place.get(set);
        if (set !== undefined && at !== undefined) counted[at] = request;
        else {
          if (set !== undefined) place.set(set, counted.length);
          counted.push(request);
        }
      }
      return counted;
    },
    taskIds: () => [...new Set(emulator.taskIds().map((id) => setOfTask().get(id) ?? id))],
  };
}

runProviderContract<BflEmulator>("bfl", {
  start: async (key) =>
    setView(await startBflEmulator({ apiKey: key, taskDurationMs: 150, allowInsecureWebhooks: true })),
  adapter: (_emulator, { baseUrl, apiKey: key, logger: log, sleep: wait }) =>
    noting(createBflProvider({ apiKey: key, baseUrl, logger: log, http: { clock: { sleep: wait } } })),
  keySetting: "BFL_API_KEY",
  baseUrlSetting: "BFL_BASE_URL",
  callbackField: "webhook_url",
  unknownTaskId: "bfl:0:missing-1,missing-2,missing-3,missing-4",
  // 16:9 on FLUX1.1 [pro]: sides in steps of 32 near one megapixel.
  size: { set: [1376, 768] },
  refuse: (emulator, word) => {
    emulator.knobs.refuseWords = [word];
  },
  refusalReasonIsWord: true,
  stall: (emulator) => {
    emulator.knobs.neverFinish = true;
  },
  exhaust: (emulator) => {
    emulator.knobs.credits = 0;
  },
  reset: resetKnobs,
});

// --- what is particular to BFL --------------------------------------------------------------------

const apiKey = "bfl-test-0123456789-SECRETKEY";
let emulator: BflEmulator;
const adapters: ImageProvider[] = [];
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 300, everyMs: 10 });

function provider(extra: Partial<BflProviderOptions> = {}): ImageProvider {
  const adapter = createBflProvider({
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
const bodies = () => creates().map((request) => request.body as Record<string, unknown>);
const polls = () => emulator.apiRequests("GET");

/** Blobs in memory, as the bot keeps them in its store. */
const memoryBlobs = () => new BlobStore(new Keyv());

async function blobPixels(blobs: BlobStore, link: string) {
  const blob = await blobs.get(link);
  if (!blob) throw new Error(`no blob ${link}`);
  return decodePixels(blob.bytes);
}

beforeAll(async () => {
  emulator = await startBflEmulator({ apiKey, taskDurationMs: 150, allowInsecureWebhooks: true });
  resetKnobs(emulator);
});

afterAll(async () => {
  await Promise.all(adapters.map((adapter) => adapter.close?.()));
  await emulator.stop();
});

afterEach(() => {
  for (const line of logLines) {
    expect(line).not.toContain(apiKey);
    expect(line).not.toMatch(/sig=/);
  }
  resetKnobs(emulator);
  emulator.clearFaults();
  emulator.requests.length = 0;
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine: one set is four tasks", () => {
  it("sends --ar 3:2 as 1248×832, seeds 7…10, --no folded into the words with a warning", async () => {
    const adapter = provider();
    const parsed = prompt("a red fox", { ar: "3:2", seed: 7, no: ["fog"] });
    const moved = [
      {
        type: "moved",
        feature: "--no",
        details: "BFL flux-pro-1.1 has no negative prompt; added to the text",
      },
    ];
    expect(adapter.check({ prompt: parsed })).toEqual({ warnings: moved });
    const result = await adapter.imagine({ prompt: parsed });
    expect(result).toMatchObject({ kind: "task", warnings: moved, usage: { credits: 16 } });
    expect(creates().map((request) => [request.path, request.hasAuthHeader, request.authorized])).toEqual(
      Array(4).fill(["/v1/flux-pro-1.1", true, true]),
    );
    expect(bodies()).toEqual(
      [7, 8, 9, 10].map((seed) => ({
        prompt: "a red fox, without fog",
        width: 1248,
        height: 832,
        output_format: "jpeg",
        seed,
      })),
    );
    expect(decodeSetId(taskIdOf(result))).toEqual({
      seed: 7,
      tasks: creates().map((request) => ({ id: request.taskId })),
    });
  });

  it("rounds a shape FLUX cannot make exactly, with a warning; --v and --niji are errors before sending", async () => {
    const adapter = provider();
    expect(adapter.check({ prompt: prompt("a fox", { ar: "16:9" }) }).warnings).toEqual([
      {
        type: "changed",
        feature: "--ar",
        details: "16:9 → 1376×768, the nearest size flux-pro-1.1 makes (sides in steps of 32, 256–1440)",
      },
    ]);
    for (const params of [{ v: "7" }, { niji: "6" }]) {
      const verdict = adapter.check({ prompt: prompt("a fox", params) });
      expect(verdict.error?.kind).toBe("invalid");
      expect(verdict.error?.message).toMatch(/picks a Midjourney model.*flux-pro-1\.1/);
      expect((await failure(adapter.imagine({ prompt: prompt("a fox", params) }))).kind).toBe("invalid");
    }
    expect(creates()).toHaveLength(0);
  });

  it("polls one task while the set runs (the last created), all four at the end, images in reading order", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a red fox", { ar: "1:1" }) }));
    const lastTask = creates().at(-1)?.taskId;
    const first = await adapter.fetchTask(taskId);
    expect(first.status).toMatch(/queued|running/);
    expect(polls().map((request) => request.search)).toEqual([`?id=${lastTask}`]);
    const { final } = await finish(adapter, taskId);
    expect(
      polls()
        .slice(-4)
        .map((request) => request.search),
    ).toEqual([...creates()].reverse().map((request) => `?id=${request.taskId}`));
    const images = await Promise.all(final.imageUrls.map(pixelsOf));
    expect(images.map((image) => [image.width, image.height])).toEqual(Array(4).fill([1024, 1024]));
    expect(new Set(images.map((image) => image.colourIndex)).size).toBe(4);
  });

  it("--hd runs on Ultra with aspect_ratio (raw with --style raw); other speeds are warned about", async () => {
    const adapter = provider();
    const result = await adapter.imagine({
      prompt: prompt("a fox", { ar: "16:9", hd: true, style: "raw" }),
      speed: "relax",
    });
    expect(creates()[0]).toMatchObject({ path: "/v1/flux-pro-1.1-ultra" });
    expect(bodies()[0]).toMatchObject({ prompt: "a fox", aspect_ratio: "16:9", raw: true });
    expect(result.warnings).toEqual([
      { type: "unsupported", feature: "relax speed", details: "BFL has one speed" },
    ]);
  });

  it("image prompts go to Kontext as input_image links", async () => {
    const adapter = provider();
    await adapter.imagine({
      prompt: prompt("the same at night", {}, ["https://example.test/a.png", "https://example.test/b.png"]),
    });
    expect(creates()[0]).toMatchObject({ path: "/v1/flux-kontext-pro" });
    expect(bodies()[0]).toMatchObject({
      prompt: "the same at night",
      aspect_ratio: "1:1",
      input_image: "https://example.test/a.png",
      input_image_2: "https://example.test/b.png",
    });
  });
});

describe("follow-ups", () => {
  it("V2 sends Kontext image 2 with the subtle or strong instruction and the original words", async () => {
    const blobs = memoryBlobs();
    const adapter = provider({ blobs });
    const parent = await finishedSet(adapter, prompt("a red fox", { ar: "3:2" }));
    expect(parent.imageUrls.every((url) => url.startsWith("atelier-blob:"))).toBe(true);
    emulator.requests.length = 0;
    await adapter.followUp({ kind: "variation", parent, index: 2, strength: "subtle" });
    await adapter.followUp({
      kind: "variation",
      parent,
      index: 2,
      strength: "strong",
      prompt: prompt("a grey wolf"),
    });
    const [subtle, , , , strong] = bodies();
    expect(creates()[0]).toMatchObject({ path: "/v1/flux-kontext-pro" });
    expect(subtle?.prompt).toBe(
      "Make a subtle variation of this image: keep its subject, composition, colours and style, and change only small details. The picture: a red fox",
    );
    expect(strong?.prompt).toBe(
      "Make a strong variation of this image: keep its subject and style, but freely change the composition, pose, framing and details. The picture: a grey wolf",
    );
    expect(subtle?.aspect_ratio).toBe("3:2");
    const sent = await decodePixels(Buffer.from(String(subtle?.input_image), "base64"));
    const image2 = await blobPixels(blobs, parent.imageUrls[1] as string);
    expect([sent.width, sent.height, sent.centre()]).toEqual([1248, 832, image2.centre()]);
    expect(new Set(bodies().map((body) => body.seed)).size).toBe(8);
  });

  it("Zoom Out, Pan and Make Square send the expand model the image and the pixels to add", async () => {
    const blobs = memoryBlobs();
    const adapter = provider({ blobs });
    const set = await finishedSet(adapter, prompt("a red fox", { ar: "3:2" }));
    const picked = await adapter.followUp({ kind: "upscale", parent: set, index: 2 });
    if (picked.kind !== "done") throw new Error("U is a pick, not a task");
    const single = { taskId: "", prompt: set.prompt, imageUrls: picked.snapshot.imageUrls };
    emulator.requests.length = 0;
    const zoom = await adapter.followUp({ kind: "zoom", parent: single, factor: 2 });
    await adapter.followUp({ kind: "zoom", parent: single, factor: 1.5 });
    await adapter.followUp({ kind: "pan", parent: single, direction: "left" });
    await adapter.followUp({ kind: "square", parent: single });
    expect(creates()[0]).toMatchObject({ path: "/v1/flux-pro-1.0-expand" });
    const sides = bodies()
      .filter((_, index) => index % 4 === 0)
      .map(({ top, bottom, left, right, prompt: words }) => ({ top, bottom, left, right, words }));
    expect(sides).toEqual([
      { top: 416, bottom: 416, left: 624, right: 624, words: "a red fox" },
      { top: 208, bottom: 208, left: 312, right: 312, words: "a red fox" },
      { top: 0, bottom: 0, left: 624, right: 0, words: "a red fox" },
      { top: 208, bottom: 208, left: 0, right: 0, words: "a red fox" },
    ]);
    const image = await decodePixels(Buffer.from(String(bodies()[0]?.image), "base64"));
    const image2 = await blobPixels(blobs, set.imageUrls[1] as string);
    expect([image.width, image.height, image.centre()]).toEqual([1248, 832, image2.centre()]);
    const { final } = await finish(adapter, taskIdOf(zoom));
    const zoomed = await blobPixels(blobs, final.imageUrls[0] as string);
    expect([zoomed.width, zoomed.height]).toEqual([2496, 1664]);
  });

  it("re-roll drops --seed for new ones; Run as HD runs the prompt on Ultra", async () => {
    const adapter = provider({ random: () => 0.5 });
    const parent = await finishedSet(adapter, prompt("a fox", { seed: 7 }));
    emulator.requests.length = 0;
    await adapter.followUp({ kind: "reroll", parent });
    expect(bodies().map((body) => body.seed)).toEqual([1073741822, 1073741823, 1073741824, 1073741825]);
    const hd = await adapter.followUp({ kind: "hd", parent });
    expect(creates().at(-1)).toMatchObject({
      path: "/v1/flux-pro-1.1-ultra",
      body: { aspect_ratio: "1:1", seed: 10 },
    });
    expect(hd.warnings[0]).toMatchObject({ type: "changed", feature: "Run as HD" });
  });

  it("/blend sends every image to Kontext; more than four is refused before sending", async () => {
    const adapter = provider();
    const images = await Promise.all([0, 1, 2].map(sampleImage));
    await adapter.blend?.({ images, dimensions: "landscape" });
    expect(bodies()[0]).toMatchObject({
      aspect_ratio: "3:2",
      input_image_3: images[2]?.bytes.toString("base64"),
    });
    const five = await Promise.all([0, 1, 2, 3, 4].map(sampleImage));
    expect(
      (await failure(adapter.blend?.({ images: five, dimensions: "square" }) ?? Promise.resolve())).kind,
    ).toBe("invalid");
    expect(creates()).toHaveLength(4);
  });
});

describe("errors in BFL's terms", () => {
  it("402 is quota naming BFL_API_KEY's account; mid-set it says what had started", async () => {
    emulator.knobs.credits = 8;
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "quota", advice: "admin", maybeSubmitted: true });
    expect(error.message).toMatch(/BFL_API_KEY.*credits.*2 of the 4 images of this set had already started/);
    expect(creates().map((request) => request.status)).toEqual([200, 200, 402]);
  });

  it("429 (too many active tasks) is retried with backoff, and ends transient when it persists", async () => {
    const adapter = provider();
    emulator.failNext(2, 429, { method: "POST" });
    const result = await adapter.imagine({ prompt: prompt("a fox") });
    expect(creates().map((request) => request.status)).toEqual([429, 429, 200, 200, 200, 200]);
    expect(decodeSetId(taskIdOf(result))?.tasks).toHaveLength(4);
    expect(sleeps).toHaveLength(2);
    sleeps.length = 0;
    emulator.knobs.maxActiveTasks = 5;
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error).toMatchObject({ kind: "transient", advice: "retry" });
    expect(error.message).toMatch(/at once/);
    expect(sleeps).toHaveLength(3);
  });

  it("422 names the field FastAPI complained about", async () => {
    const error = await failure(provider({ webhookUrl: "not a link" }).imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toBe("BFL rejected the request: webhook_url: Input should be a valid URL");
    expect(creates()).toHaveLength(1);
  });

  it("moderation is refused in BFL's words; Error is internal", async () => {
    const adapter = provider();
    emulator.knobs.refuseWords = ["gore"];
    const request = await finish(
      adapter,
      taskIdOf(await adapter.imagine({ prompt: prompt("so much gore") })),
    );
    expect(request.final.error).toMatchObject({ kind: "refused", reason: "gore" });
    expect(request.final.error?.message).toBe("BFL refused the prompt (Request Moderated: gore).");
    emulator.knobs.refuseWords = [];
    emulator.knobs.moderateResults = true;
    const content = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    expect(content.final.error?.kind).toBe("refused");
    expect(content.final.error?.message).toMatch(/withheld image 4 .*Content Moderated/);
    emulator.knobs.moderateResults = false;
    emulator.knobs.failTasksWith = "GPU fell over";
    const broken = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    expect(broken.final.error).toMatchObject({ kind: "internal", advice: "admin" });
    expect(broken.final.error?.message).toBe("BFL failed to make image 4 (Error: GPU fell over).");
  });

  it("a task BFL does not know is a clear error", async () => {
    const error = await failure(provider().fetchTask("bfl:0:a,b,c,gone"));
    expect(error.message).toBe(
      "BFL does not know task gone (image 4 of this set): its results may have expired, or BFL_BASE_URL points at another service.",
    );
    expect((await failure(provider().fetchTask("task-unified-1"))).kind).toBe("internal");
  });
});

describe("the start-up check", () => {
  it("proves the key and the URL with one get_result of a task that does not exist", async () => {
    await provider().verify?.();
    expect(polls()).toHaveLength(1);
    const key = await failure(provider({ apiKey: "bfl-wrong-0000000000" }).verify?.() ?? Promise.resolve());
    expect(key).toMatchObject({ kind: "auth" });
    expect(key.message).toMatch(/BFL_API_KEY/);
    const url = await failure(
      provider({ baseUrl: `${emulator.baseUrl}/nope` }).verify?.() ?? Promise.resolve(),
    );
    expect(url.message).toMatch(/BFL_BASE_URL/);
  });
});

describe("result links expire", () => {
  it("BFL's links stop working; images are copied at once, and a copy too late says so", async () => {
    emulator.knobs.signedUrlTtlMs = 300;
    const taskId = taskIdOf(await provider().imagine({ prompt: prompt("a fox") }));
    const { final } = await finish(provider(), taskId);
    expect((await fetch(final.imageUrls[0] as string)).status).toBe(200);
    await pause(350);
    expect((await fetch(final.imageUrls[0] as string)).status).toBe(403);
    const late = await failure(provider({ blobs: memoryBlobs() }).fetchTask(taskId));
    expect(late).toMatchObject({ kind: "internal", code: "result_expired" });
    expect(late.message).toMatch(/no longer works \(HTTP 403\).*10 minutes/);
    expect(logLines.some((line) => line.includes("/sample.jpeg"))).toBe(true);
  });

  it("after a restart, a fresh adapter polls the set from its id alone and keeps the images", async () => {
    const blobs = memoryBlobs();
    const before = provider({ blobs });
    const taskId = taskIdOf(await before.imagine({ prompt: prompt("a red fox", { ar: "3:2" }) }));
    await before.close?.();
    const after = provider({ blobs });
    const { final } = await finish(after, taskId);
    expect(final).toMatchObject({ taskId, status: "completed", progress: 100 });
    const colours = await Promise.all(
      final.imageUrls.map(async (link) => (await blobPixels(blobs, link)).centre()),
    );
    expect(new Set(colours).size).toBe(4);
    expect(creates()).toHaveLength(4);
  });
});

describe("webhooks", () => {
  it("each task's webhook wakes its set; with blobs the poll completes it; failures end it at once", async () => {
    const receiver = await startReceiver();
    try {
      const adapter = provider({ blobs: memoryBlobs() });
      const taskId = taskIdOf(
        await adapter.imagine({ prompt: prompt("a fox"), callbackUrl: receiver.url("/callbacks/bfl") }),
      );
      for (let wait = 0; wait < 300 && receiver.received.length < 4; wait += 1) await pause(10);
      const snapshots = receiver.received.map((body) => adapter.parseCallback?.(body) as TaskSnapshot);
      expect(snapshots.map((snapshot) => [snapshot.taskId, snapshot.status])).toEqual(
        Array(4).fill([taskId, "running"]),
      );
      expect(snapshots.at(-1)?.progress).toBe(99);
      const [first] = creates();
      const refused = adapter.parseCallback?.({
        task_id: first?.taskId,
        status: "FAILED",
        error: "Request Moderated",
      });
      expect(refused).toMatchObject({ taskId, status: "failed", error: { kind: "refused" } });
      const guideShape = adapter.parseCallback?.({
        id: first?.taskId,
        status: "Ready",
        result: { sample: "https://x" },
      });
      expect(guideShape?.taskId).toBe(taskId);
      expect(adapter.parseCallback?.({ task_id: "someone-else", status: "SUCCESS" })?.taskId).not.toBe(
        taskId,
      );
    } finally {
      await receiver.close();
    }
  });
});

describe("polling URLs", () => {
  const fake = (name: string) => ({ name }) as unknown as HttpClient;

  it("are kept in the set id when BFL names a regional host, and followed only within BFL's domain", () => {
    const base = "https://api.bfl.ai";
    const regional = "https://api.us1.bfl.ai/v1/get_result?id=b";
    const id = encodeSetId({ seed: 3, tasks: [{ id: "a" }, { id: "b", pollingUrl: regional }] }, base);
    expect(id).toBe(`bfl:3:a,b@${encodeURIComponent(regional)}`);
    expect(decodeSetId(`${id}#U2`)?.tasks).toEqual([{ id: "a" }, { id: "b", pollingUrl: regional }]);
    const made: string[] = [];
    const pollers = new Pollers(
      fake("main"),
      base,
      (origin) => {
        made.push(origin);
        return fake(origin);
      },
      logger,
    );
    expect(pollers.target({ id: "b", pollingUrl: regional })).toEqual({
      client: fake("https://api.us1.bfl.ai"),
      path: "/v1/get_result?id=b",
    });
    expect(pollers.target({ id: "c", pollingUrl: "https://evil.test/v1/get_result?id=c" })).toEqual({
      client: fake("main"),
      path: "/v1/get_result?id=c",
    });
    expect(made).toEqual(["https://api.us1.bfl.ai"]);
    expect(logLines.some((line) => line.includes("outside BFL's hosts"))).toBe(true);
  });
});
