// The midjourney-proxy adapter against its in-repo emulator: the shared provider contract, then what
// is particular to this protocol: Midjourney's own 2×2 grid and preview, the exact submits
// (notifyHook, mj-api-secret), follow-ups by button customId (trueai) and by /submit/change (original
// server), blend and describe bodies, the submit codes and task failures.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type MidjourneyProxyEmulator,
  type MidjourneyProxyKnobs,
  startMidjourneyProxyEmulator,
} from "../../emulators/index.ts";
import {
  createMidjourneyProxyProvider,
  type MidjourneyProxyProvider,
  type MidjourneyProxyProviderOptions,
} from "../../src/providers/midjourney-proxy.ts";
import type { ParentTask } from "../../src/providers/types.ts";
import { finishedSet, runProviderContract, sampleImage } from "./contract.ts";
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

const defaultKnobs: Omit<MidjourneyProxyKnobs, "bannedWords"> = {
  neverFinish: false,
  failTasksWith: undefined,
  buttons: true,
  splitImages: true,
};

runProviderContract<MidjourneyProxyEmulator>("midjourney-proxy", {
  start: (apiKey) => startMidjourneyProxyEmulator({ apiSecret: apiKey, durationMs: 60, imageLongSide: 32 }),
  adapter: (_emulator, { baseUrl, apiKey, logger, sleep }) =>
    createMidjourneyProxyProvider({ apiSecret: apiKey, baseUrl, logger, http: { clock: { sleep } } }),
  keySetting: "MIDJOURNEY_PROXY_API_KEY",
  baseUrlSetting: "MIDJOURNEY_PROXY_BASE_URL",
  callbackField: "notifyHook",
  unknownTaskId: "123",
  size: { set: [32, 18], upscale: [64, 36] },
  refuse: (emulator, word) => {
    emulator.knobs.bannedWords = [word];
  },
  refusalReasonIsWord: true,
  stall: (emulator) => {
    emulator.knobs.neverFinish = "in-progress";
  },
  reset: (emulator) => {
    Object.assign(emulator.knobs, defaultKnobs, { bannedWords: [] });
  },
});

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
  Object.assign(emulator.knobs, defaultKnobs, { bannedWords: [] });
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("runs to Midjourney's 2×2 grid (with a preview while running) and lists its buttons", async () => {
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

  it("warns about a draft speed or HD it cannot choose, and sends the prompt as typed", async () => {
    const adapter = provider();
    const request = { prompt: prompt("a fox"), speed: "draft", quality: "hd" } as const;
    const warnings = [
      {
        type: "unsupported",
        feature: "draft speed",
        details: "midjourney-proxy has no draft speed setting here, so the account's usual mode was used",
      },
      {
        type: "unsupported",
        feature: "HD",
        details: 'midjourney-proxy has no "Run as HD", so a standard set was made',
      },
    ];
    expect(adapter.check(request)).toEqual({ warnings });
    expect((await adapter.imagine(request)).warnings).toEqual(warnings);
    expect(lastSubmit()?.body).toEqual({ prompt: "a fox" });
  });

  it("sends no secret header when none is configured, and the open server accepts it", async () => {
    const open = await extraEmulator({ durationMs: 40, imageLongSide: 16 });
    const adapter = provider({ apiSecret: undefined }, open);
    const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: prompt("a fox") })));
    expect(final.status).toBe("completed");
    expect(open.requests.every((request) => !request.hasAuthHeader)).toBe(true);
  });

  it("notifies on every change: queued, running, and the completed task as a poll shows it", async () => {
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
    expect(subtleOnGrid.warnings).toEqual([
      {
        type: "unsupported",
        feature: "Vary (Subtle)",
        details: "midjourney-proxy cannot choose it here, so Midjourney used the account's variation mode",
      },
    ]);

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
  const image = sampleImage;

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
  it("a missing secret is auth, saying to set MIDJOURNEY_PROXY_API_KEY", async () => {
    const missing = await failure(provider({ apiSecret: undefined }).imagine({ prompt: prompt("a fox") }));
    expect(missing.kind).toBe("auth");
    expect(missing.message).toMatch(/set MIDJOURNEY_PROXY_API_KEY/);
    expect(submits()).toHaveLength(1);
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

  it("an unknown task id (the proxy answers an empty body) names the task", async () => {
    const error = await failure(provider().fetchTask("123"));
    expect(error).toMatchObject({ kind: "internal", code: "task_not_found" });
    expect(error.message).toContain("task 123");
  });
});

describe("stuck tasks", () => {
  it("a stuck task shows Midjourney's preview at 93%, or stays in SUBMITTED (the job layer times it out)", async () => {
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
