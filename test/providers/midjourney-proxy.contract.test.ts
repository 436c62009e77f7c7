// The midjourney-proxy adapter against its in-repo emulator: the 2×2 grid and split images down to
// the pixels, the exact submits (notifyHook, mj-api-secret), follow-ups by button customId (trueai)
// and by /submit/change (original server), the submit codes, task failures and injected faults.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type MidjourneyProxyEmulator,
  makeResultImage,
  startMidjourneyProxyEmulator,
} from "../../emulators/index.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import {
  createMidjourneyProxyProvider,
  type MidjourneyProxyProvider,
  type MidjourneyProxyProviderOptions,
} from "../../src/providers/midjourney-proxy.ts";
import { type ParentTask, ProviderError } from "../../src/providers/types.ts";
import {
  failure,
  imageOf,
  pause,
  poller,
  prompt,
  recordingLogger,
  recordingSleeps,
  startReceiver,
  taskIdOf,
} from "./support.ts";

const apiSecret = "mjp-secret-0123456789-SECRET";
let emulator: MidjourneyProxyEmulator;
const extraEmulators: MidjourneyProxyEmulator[] = [];
const adapters: MidjourneyProxyProvider[] = [];
const { logger, lines: logLines } = recordingLogger();
const { sleeps, sleep } = recordingSleeps();
const finish = poller({ polls: 300, everyMs: 5 });

function provider(
  extra: Partial<MidjourneyProxyProviderOptions> = {},
  target: MidjourneyProxyEmulator = emulator,
): MidjourneyProxyProvider {
  const adapter = createMidjourneyProxyProvider({
    apiSecret,
    baseUrl: target.baseUrl,
    logger,
    http: { clock: { sleep } },
    ...extra,
  });
  adapters.push(adapter);
  return adapter;
}

async function extraEmulator(options: Parameters<typeof startMidjourneyProxyEmulator>[0]) {
  const started = await startMidjourneyProxyEmulator(options);
  extraEmulators.push(started);
  return started;
}

const submits = (target = emulator) => target.apiRequests("POST");
const lastSubmit = (target = emulator) => submits(target).at(-1);
const lastCustomId = () => String((lastSubmit()?.body as { customId?: string } | undefined)?.customId);

/** A finished set, as the job layer would store it for follow-ups. */
async function finishedSet(adapter: MidjourneyProxyProvider, parsed: ParsedPrompt): Promise<ParentTask> {
  const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: parsed })));
  expect(final.status).toBe("completed");
  return {
    taskId: final.taskId,
    prompt: parsed,
    imageUrls: final.imageUrls,
    ...(final.gridUrl ? { gridUrl: final.gridUrl } : {}),
    ...(final.buttons ? { buttons: final.buttons } : {}),
  };
}

beforeAll(async () => {
  emulator = await startMidjourneyProxyEmulator({ apiSecret, durationMs: 60, imageLongSide: 32 });
});

afterAll(async () => {
  await Promise.all(adapters.map((adapter) => adapter.close()));
  await Promise.all([emulator, ...extraEmulators].map((started) => started.stop()));
});

afterEach(() => {
  // No log line may carry the secret, whatever the test did.
  for (const line of logLines) expect(line).not.toContain(apiSecret);
  emulator.requests.length = 0;
  Object.assign(emulator.knobs, {
    bannedWords: [],
    neverFinish: false,
    failTasksWith: undefined,
    buttons: true,
    splitImages: true,
  });
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("runs to Midjourney's 2×2 grid plus the 4 split images", async () => {
    const adapter = provider();
    const result = await adapter.imagine({ prompt: prompt("a red fox", { ar: "16:9" }) });
    const { final, seen } = await finish(adapter, taskIdOf(result));
    expect(seen.some((snapshot) => snapshot.status === "running" && snapshot.previewUrl !== undefined)).toBe(
      true,
    );
    expect(final).toMatchObject({ status: "completed", progress: 100 });
    const grid = await imageOf(final.gridUrl ?? "");
    expect([grid.width, grid.height]).toEqual([64, 36]);
    const quadrants = [
      grid.colourAt(grid.width * 0.25, grid.height * 0.25),
      grid.colourAt(grid.width * 0.75, grid.height * 0.25),
      grid.colourAt(grid.width * 0.25, grid.height * 0.75),
      grid.colourAt(grid.width * 0.75, grid.height * 0.75),
    ];
    expect(quadrants).toEqual([0, 1, 2, 3]);
    const tiles = await Promise.all(final.imageUrls.map(imageOf));
    expect(tiles.map((tile) => tile.colourAt(tile.width / 2, tile.height / 2))).toEqual([0, 1, 2, 3]);
    for (const tile of tiles) expect([tile.width, tile.height]).toEqual([32, 18]);
    expect(final.buttons?.map((button) => button.label || button.emoji)).toEqual([
      "U1",
      "U2",
      "U3",
      "U4",
      "🔄",
      "V1",
      "V2",
      "V3",
      "V4",
    ]);
  });

  it("sends the rendered prompt, the notifyHook and the mj-api-secret", async () => {
    const adapter = provider({ notifyHookUrl: "http://127.0.0.1:9/default-hook" });
    const parsed = prompt("a red fox", { ar: "3:2", weird: 100, p: [], repeat: 2 });
    await adapter.imagine({ prompt: parsed, callbackUrl: "http://127.0.0.1:9/job-hook" });
    expect(lastSubmit()).toMatchObject({
      path: "/mj/submit/imagine",
      hasAuthHeader: true,
      authorized: true,
      body: { prompt: "a red fox --ar 3:2 --weird 100 --p", notifyHook: "http://127.0.0.1:9/job-hook" },
    });
    await adapter.imagine({ prompt: prompt("a fox"), speed: "relax" });
    expect(lastSubmit()?.body).toEqual({
      prompt: "a fox --relax",
      notifyHook: "http://127.0.0.1:9/default-hook",
    });
    await adapter.imagine({ prompt: prompt("a fox", { turbo: true }), speed: "relax" });
    expect(lastSubmit()?.body).toMatchObject({ prompt: "a fox --turbo" });
  });

  it("sends no secret header when none is configured, and the open server accepts it", async () => {
    const open = await extraEmulator({ durationMs: 40, imageLongSide: 16 });
    const adapter = provider({ apiSecret: undefined }, open);
    const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    expect(final.status).toBe("completed");
    expect(open.requests.every((request) => !request.hasAuthHeader)).toBe(true);
  });

  it("notifyHook bodies on every change are understood by parseCallback", async () => {
    const receiver = await startReceiver();
    const { received } = receiver;
    try {
      const hook = receiver.url("/callbacks/midjourney-proxy");
      const adapter = provider();
      const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox"), callbackUrl: hook }));
      const { final } = await finish(adapter, taskId);
      for (let wait = 0; wait < 100 && !JSON.stringify(received).includes("SUCCESS"); wait += 1)
        await pause(10);
      const snapshots = received.map((body) => adapter.parseCallback?.(body));
      // Deliveries are concurrent POSTs, so their arrival order is not asserted.
      expect(snapshots.some((snapshot) => snapshot?.status === "queued")).toBe(true);
      expect(snapshots.some((snapshot) => snapshot?.status === "running")).toBe(true);
      expect(snapshots.find((snapshot) => snapshot?.status === "completed")).toEqual(final);
      expect(() => adapter.parseCallback?.({ status: 1 })).toThrow(ProviderError);
    } finally {
      await receiver.close();
    }
  });
});

describe("follow-ups with trueai buttons", () => {
  it("U2 presses MJ::JOB::upsample::2 and gives one larger image 2; pressing again answers code 21", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox", { ar: "16:9" }));
    const result = await adapter.followUp({ kind: "upscale", parent, index: 2 });
    const body = lastSubmit()?.body as { customId: string; taskId: string };
    expect(lastSubmit()?.path).toBe("/mj/submit/action");
    expect(body.taskId).toBe(parent.taskId);
    expect(body.customId).toMatch(/^MJ::JOB::upsample::2::/);
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.gridUrl).toBeUndefined();
    expect(final.imageUrls).toHaveLength(1);
    const image = await imageOf(final.imageUrls[0] ?? "");
    expect([image.width, image.height, image.colourAt(32, 18)]).toEqual([64, 36, 1]);
    expect(final.buttons?.map((button) => button.label)).toContain("Vary (Subtle)");
    const again = await adapter.followUp({ kind: "upscale", parent, index: 2 });
    expect(taskIdOf(again)).toBe(taskIdOf(result));
  });

  it("V3 presses the variation button; Vary (Subtle) on an upscale presses low_variation", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox"));
    const strong = await adapter.followUp({ kind: "variation", parent, index: 3, strength: "strong" });
    expect(lastCustomId()).toMatch(/^MJ::JOB::variation::3::/);
    expect(strong.warnings).toEqual([]);
    const { final: set } = await finish(adapter, taskIdOf(strong));
    expect(set.gridUrl).toBeDefined();
    const subtleOnGrid = await adapter.followUp({ kind: "variation", parent, index: 1, strength: "subtle" });
    expect(subtleOnGrid.warnings.join(" ")).toMatch(/Vary \(Subtle\)/);

    const upscaled = await finish(
      adapter,
      taskIdOf(await adapter.followUp({ kind: "upscale", parent, index: 4 })),
    );
    const single: ParentTask = {
      taskId: upscaled.final.taskId,
      prompt: parent.prompt,
      imageUrls: upscaled.final.imageUrls,
      buttons: upscaled.final.buttons ?? [],
    };
    const subtle = await adapter.followUp({
      kind: "variation",
      parent: single,
      index: 1,
      strength: "subtle",
    });
    expect(lastCustomId()).toMatch(/^MJ::JOB::low_variation::1::/);
    expect(subtle.warnings).toEqual([]);
    await adapter.followUp({ kind: "variation", parent: single, index: 1, strength: "strong" });
    expect(lastCustomId()).toMatch(/^MJ::JOB::high_variation::1::/);
  });

  it("🔄 presses the reroll button; any listed button can be pressed by customId", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox"));
    const reroll = await adapter.followUp({ kind: "reroll", parent });
    expect(lastCustomId()).toMatch(/^MJ::JOB::reroll::0::.*::SOLO$/);
    expect((await finish(adapter, taskIdOf(reroll))).final.status).toBe("completed");
    const v4 = parent.buttons?.find((button) => button.label === "V4");
    await adapter.followUp({ kind: "action", parent, customId: v4?.customId ?? "" });
    expect(lastSubmit()).toMatchObject({ path: "/mj/submit/action", body: { customId: v4?.customId } });
  });
});

describe("follow-ups on the original server (no buttons, grid only)", () => {
  it("uses /submit/change for U, V and re-roll, and the bot gets only the grid", async () => {
    emulator.knobs.buttons = false;
    emulator.knobs.splitImages = false;
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox"));
    expect(parent.imageUrls).toEqual([]);
    expect(parent.gridUrl).toBeDefined();
    expect(parent.buttons).toBeUndefined();

    const upscale = await adapter.followUp({ kind: "upscale", parent, index: 1 });
    expect(lastSubmit()).toMatchObject({
      path: "/mj/submit/change",
      body: { taskId: parent.taskId, action: "UPSCALE", index: 1 },
    });
    const image = await imageOf((await finish(adapter, taskIdOf(upscale))).final.imageUrls[0] ?? "");
    expect(image.colourAt(16, 16)).toBe(0);
    await adapter.followUp({ kind: "variation", parent, index: 4, strength: "strong" });
    expect(lastSubmit()?.body).toEqual({ taskId: parent.taskId, action: "VARIATION", index: 4 });
    await adapter.followUp({ kind: "reroll", parent });
    expect(lastSubmit()?.body).toEqual({ taskId: parent.taskId, action: "REROLL" });
  });
});

describe("blend and describe", () => {
  const image = async (index: number) => ({
    bytes: await makeResultImage({ width: 8, height: 8, index }),
    contentType: "image/png",
  });

  it("blend makes a new set in the chosen dimensions", async () => {
    const adapter = provider();
    const images = [await image(0), await image(1)];
    const result = await adapter.blend({ images, dimensions: "landscape" });
    expect(lastSubmit()?.path).toBe("/mj/submit/blend");
    // The bytes travel as base64 data URLs, the dimension in the proxy's own spelling.
    expect(lastSubmit()?.body).toEqual({
      base64Array: images.map((input) => `data:image/png;base64,${input.bytes.toString("base64")}`),
      dimensions: "LANDSCAPE",
    });
    const { final } = await finish(adapter, taskIdOf(result));
    const grid = await imageOf(final.gridUrl ?? "");
    expect([grid.width, grid.height]).toEqual([64, 42]);
    expect((await failure(adapter.blend({ images: [await image(0)], dimensions: "square" }))).kind).toBe(
      "invalid",
    );
  });

  it("describe returns Midjourney's suggested prompts", async () => {
    const adapter = provider();
    const source = await image(2);
    const result = await adapter.describe({ image: source });
    expect(lastSubmit()?.body).toEqual({
      base64: `data:image/png;base64,${source.bytes.toString("base64")}`,
    });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.status).toBe("completed");
    expect(final.descriptions).toHaveLength(4);
    expect(final.descriptions?.[0]).toBe("a flat colour field --ar 1:1");
  });
});

describe("submit codes and errors", () => {
  it("a wrong secret is auth, naming MIDJOURNEY_PROXY_API_KEY; a missing one says to set it", async () => {
    const wrong = await failure(
      provider({ apiSecret: "nope-nope-nope" }).imagine({ prompt: prompt("a fox") }),
    );
    expect(wrong.kind).toBe("auth");
    expect(wrong.message).toContain("MIDJOURNEY_PROXY_API_KEY");
    const missing = await failure(provider({ apiSecret: undefined }).imagine({ prompt: prompt("a fox") }));
    expect(missing.message).toMatch(/set MIDJOURNEY_PROXY_API_KEY/);
    expect(submits()).toHaveLength(2);
  });

  it("code 22 is accepted with the queue position; code 23 is transient", async () => {
    const busy = await extraEmulator({ durationMs: 40, imageLongSide: 16, concurrency: 1, queueSize: 1 });
    busy.knobs.neverFinish = "in-progress";
    const adapter = provider({}, busy);
    const running = await adapter.imagine({ prompt: prompt("first") });
    expect(running.kind === "task" && running.queuePosition).toBeUndefined();
    const queued = await adapter.imagine({ prompt: prompt("second") });
    expect(queued.kind === "task" && queued.queuePosition).toBe(1);
    expect((await adapter.fetchTask(taskIdOf(queued))).status).toBe("queued");
    const full = await failure(adapter.imagine({ prompt: prompt("third") }));
    expect(full).toMatchObject({ kind: "transient", code: "23", maybeSubmitted: false });
    expect(full.message).toBe("The Midjourney queue is full, try again in a few minutes.");
  });

  it("code 24 is refused, naming the banned word", async () => {
    emulator.knobs.bannedWords = ["gore"];
    const error = await failure(provider().imagine({ prompt: prompt("so much gore") }));
    expect(error).toMatchObject({ kind: "refused", code: "24", reason: "gore", advice: "rephrase" });
    expect(error.message).toContain('"gore"');
  });

  it("code 4 is invalid with the proxy's description; code 3 says the parent is gone", async () => {
    const invalid = await failure(provider().imagine({ prompt: prompt("a fox", { ar: "wide" }) }));
    expect(invalid).toMatchObject({ kind: "invalid", code: "4" });
    expect(invalid.message).toMatch(/invalid --ar/);
    const parent: ParentTask = { taskId: "gone", prompt: prompt("a fox"), imageUrls: [] };
    const gone = await failure(provider().followUp({ kind: "upscale", parent, index: 1 }));
    expect(gone).toMatchObject({ kind: "invalid", code: "3" });
  });

  it("FAILURE is refused for a banned prompt, internal otherwise", async () => {
    const adapter = provider();
    emulator.knobs.failTasksWith = "Banned prompt detected by Midjourney";
    const refused = (await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }))))
      .final;
    expect(refused).toMatchObject({ status: "failed", error: { kind: "refused" } });
    emulator.knobs.failTasksWith = "Unknown error in job";
    const broken = (await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }))))
      .final;
    expect(broken.error?.kind).toBe("internal");
    expect(broken.error?.message).toContain("Unknown error in job");
  });

  it("an unknown task id (the proxy answers an empty body) is internal", async () => {
    expect((await failure(provider().fetchTask("123"))).kind).toBe("internal");
  });
});

describe("faults", () => {
  it("a 429 burst on fetch is retried and succeeds", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.failNext(2, 429, { method: "GET" });
    expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
    expect(emulator.apiRequests("GET")).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("a 500 after processing a create is NOT retried and says it may have started", async () => {
    const before = emulator.taskIds().length;
    emulator.failNext(1, 500, { method: "POST", afterProcessing: true });
    const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
    expect(error.maybeSubmitted).toBe(true);
    expect(submits()).toHaveLength(1);
    expect(emulator.taskIds()).toHaveLength(before + 1);
    expect(sleeps).toEqual([]);
  });

  it("malformed or truncated JSON is internal", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.malformedNext({ method: "GET" });
    expect((await failure(adapter.fetchTask(taskId))).kind).toBe("internal");
    emulator.truncateNext({ method: "GET" });
    expect((await failure(adapter.fetchTask(taskId))).kind).toBe("internal");
    emulator.truncateNext({ method: "POST" });
    expect(await failure(adapter.imagine({ prompt: prompt("a fox") }))).toMatchObject({
      kind: "internal",
      maybeSubmitted: true,
    });
  });

  it("a stuck task stays at 93% or in SUBMITTED (the job layer times it out)", async () => {
    const adapter = provider();
    emulator.knobs.neverFinish = "in-progress";
    const atNinetyThree = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    emulator.knobs.neverFinish = "submitted";
    const submitted = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    let snapshot = await adapter.fetchTask(atNinetyThree);
    for (let poll = 0; poll < 200 && snapshot.progress !== 93; poll += 1) {
      await pause(10);
      snapshot = await adapter.fetchTask(atNinetyThree);
    }
    await pause(100);
    const stuck = await adapter.fetchTask(atNinetyThree);
    expect(stuck).toMatchObject({ status: "running", progress: 93 });
    // While running, imageUrl is Midjourney's in-progress preview of the grid.
    const preview = await imageOf(stuck.previewUrl ?? "");
    expect(preview.colourAt(preview.width * 0.75, preview.height * 0.75)).toBe(3);
    expect((await adapter.fetchTask(submitted)).status).toBe("queued");
    expect(adapter.capabilities.maxTaskDurationMs).toBe(10 * 60_000);
  });
});
