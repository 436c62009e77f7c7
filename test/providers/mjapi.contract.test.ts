// The MJAPI adapter (seed 000's simple protocol) against its in-repo emulator: the shared provider
// contract, then what is particular to this protocol: the exact requests (Bearer auth, webhook_url,
// /upscale, image-to-image variations), its warnings, status names and task failures.
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MjapiEmulator, type MjapiKnobs, startMjapiEmulator } from "../../emulators/index.ts";
import {
  createMjapiProvider,
  type MjapiProvider,
  type MjapiProviderOptions,
  toSnapshot,
} from "../../src/providers/mjapi.ts";
import { finishedSet, runProviderContract } from "./contract.ts";
import {
  failure,
  pause,
  poller,
  prompt,
  recordingLogger,
  recordingSleeps,
  startReceiver,
  taskIdOf,
} from "./support.ts";

const defaultKnobs: MjapiKnobs = {
  refuseWords: [],
  credits: Number.POSITIVE_INFINITY,
  neverFinish: false,
  failTasksWith: undefined,
};

runProviderContract<MjapiEmulator>("mjapi", {
  start: (apiKey) => startMjapiEmulator({ apiKey, durationMs: 80, imageLongSide: 64 }),
  adapter: (_emulator, { baseUrl, apiKey, logger, sleep }) =>
    createMjapiProvider({ apiKey, baseUrl, logger, http: { clock: { sleep } } }),
  keySetting: "MJAPI_API_KEY",
  baseUrlSetting: "MJAPI_BASE_URL",
  callbackField: "webhook_url",
  unknownTaskId: "no-such-task",
  size: { set: [64, 36], upscale: [128, 72] },
  refuse: (emulator, word) => {
    emulator.knobs.refuseWords = [word];
  },
  refusalReasonIsWord: false,
  stall: (emulator) => {
    emulator.knobs.neverFinish = "in-progress";
  },
  exhaust: (emulator) => {
    emulator.knobs.credits = 0;
  },
  reset: (emulator) => {
    Object.assign(emulator.knobs, defaultKnobs, { refuseWords: [] });
  },
});

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
  Object.assign(emulator.knobs, defaultKnobs, { refuseWords: [] });
  sleeps.length = 0;
  logLines.length = 0;
});

describe("imagine", () => {
  it("sends the rendered prompt with Bearer auth and the webhook, and drops what it cannot forward", async () => {
    const adapter = provider({ webhookUrl: "http://127.0.0.1:9/default-hook" });
    const parsed = prompt("a red fox", { ar: "3:2", stylize: 250, weird: 100, repeat: 3, niji: "6" });
    const leftOut = [{ type: "unsupported", feature: "--weird", details: "not supported by MJAPI" }];
    expect(adapter.check({ prompt: parsed }).warnings).toEqual(leftOut);
    const result = await adapter.imagine({ prompt: parsed, callbackUrl: "http://127.0.0.1:9/job-hook" });
    expect(result.kind === "task" && result.warnings).toEqual(leftOut);
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
    expect(warnings).toEqual([
      { type: "unsupported", feature: "relax speed", details: "MJAPI does not let Atelier choose the speed" },
      { type: "unsupported", feature: "HD", details: "MJAPI has no HD mode, so a standard set was made" },
    ]);
    expect(provider().check({ prompt: prompt("a fox"), speed: "fast" }).warnings).toEqual([]);
  });

  it("sends webhooks on every change, running ones too", async () => {
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
      const completed = snapshots.find((snapshot) => snapshot?.status === "completed");
      expect(completed).toMatchObject({ progress: 100 });
      expect(snapshots.some((snapshot) => snapshot?.status === "running")).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe("follow-ups", () => {
  it("U2 is a real upscale call with index 2; a style it does not have is warned about", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter, prompt("a fox", { ar: "16:9" }));
    const result = await adapter.followUp({ kind: "upscale", parent, index: 2 });
    expect(lastCreate()).toMatchObject({ path: "/v1/upscale", body: { task_id: parent.taskId, index: 2 } });
    expect(result.warnings).toEqual([]);
    const styled = await adapter.followUp({ kind: "upscale", parent, index: 3, style: "creative" });
    expect(lastCreate()?.body).toEqual({ task_id: parent.taskId, index: 3 });
    expect(styled.warnings).toEqual([
      { type: "unsupported", feature: "Upscale (creative)", details: "MJAPI has one upscaler" },
    ]);
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
    await adapter.followUp({ kind: "reroll", parent });
    expect(lastCreate()).toMatchObject({ path: "/v1/imagine", body: { prompt: "a fox --chaos 20" } });
  });
});

describe("error mapping", () => {
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

  it("a task may run 15 minutes before the job layer times it out", () => {
    expect(provider().capabilities.maxTaskDurationMs).toBe(15 * 60_000);
  });
});
