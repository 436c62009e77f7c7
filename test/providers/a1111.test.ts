// What is particular to the AUTOMATIC1111 adapter, against its emulator: the exact request bodies
// (txt2img for Midjourney syntax, V as a variation seed, U through the configured upscaler), progress
// with a live preview, basic auth and the errors an admin fixes, one job at a time per machine, a
// pool that moves a job off a machine that stopped answering, and a task cut off by a restart.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type A1111Emulator, startA1111Emulator } from "../../emulators/index.ts";
import { type A1111ProviderOptions, createA1111Provider } from "../../src/providers/a1111.ts";
import type { ImageProvider, ParentTask, TaskSnapshot } from "../../src/providers/types.ts";
import { decodePixels } from "../support/pixels.ts";
import { inlineBlobs } from "./inline-blobs.ts";
import { failure, pixelsOf, poller, prompt, recordingLogger, taskIdOf } from "./support.ts";

const auth = "atelier:a1111-password-0123456789";
const finish = poller({ polls: 600, everyMs: 10 });
const { logger, lines: logLines } = recordingLogger();
let emulator: A1111Emulator;
const started: ImageProvider[] = [];
const subseed = Math.floor(0.5 * (4_294_967_294 - 4));

function provider(extra: Partial<A1111ProviderOptions> = {}) {
  const made = createA1111Provider({
    urls: [emulator.baseUrl],
    auth,
    blobs: inlineBlobs,
    logger,
    nativeSide: 160,
    steps: 10,
    pollIntervalMs: 5,
    random: () => 0.5,
    http: { clock: { sleep: async () => {} } },
    ...extra,
  });
  started.push(made);
  return made;
}

async function run(adapter: ImageProvider, submitted: Promise<{ kind: string } & object>) {
  return finish(adapter, taskIdOf((await submitted) as never));
}

const fox = prompt("a red fox", { ar: "3:2", seed: 7, no: ["fog"] });

beforeAll(async () => {
  emulator = await startA1111Emulator({ auth, stepMs: 3 });
});
afterEach(() => {
  for (const line of logLines) expect(line).not.toContain("a1111-password-0123456789");
  logLines.length = 0;
  emulator.requests.length = 0;
  emulator.clearFaults();
  Object.assign(emulator.knobs, { stall: false, hang: false, interruptAtStep: undefined, stepMs: 3 });
});
afterAll(async () => {
  await Promise.all(started.map((adapter) => adapter.close?.()));
  await emulator.stop();
});

describe("request bodies", () => {
  let parent: ParentTask;

  it("/imagine --ar 3:2 --seed 7 --no fog is one txt2img of 4 with those fields", async () => {
    const adapter = provider();
    const submitted = await adapter.imagine({ prompt: fox });
    expect(submitted.warnings).toEqual([]);
    const { final } = await finish(adapter, taskIdOf(submitted));
    expect(emulator.bodies("txt2img")).toEqual([
      {
        prompt: "a red fox",
        negative_prompt: "fog",
        width: 192,
        height: 128,
        batch_size: 4,
        n_iter: 1,
        steps: 10,
        cfg_scale: 7,
        send_images: true,
        save_images: false,
        seed: 7,
        subseed,
        subseed_strength: 0,
      },
    ]);
    const images = await Promise.all(final.imageUrls.map(pixelsOf));
    expect(images).toEqual([0, 1, 2, 3].map((colourIndex) => ({ width: 192, height: 128, colourIndex })));
    expect(emulator.requests.every((request) => request.authorized)).toBe(true);
    parent = { taskId: final.taskId, prompt: fox, imageUrls: final.imageUrls };
  });

  it("V2 is image 2's seed with a variation seed: 0.15 subtle, 0.4 strong", async () => {
    const adapter = provider();
    for (const strength of ["subtle", "strong"] as const) {
      const { final } = await run(
        adapter,
        adapter.followUp({ kind: "variation", parent, index: 2, strength }),
      );
      expect(final.imageUrls).toHaveLength(4);
    }
    expect(
      emulator.bodies("txt2img").map(({ seed, subseed_strength, prompt: text, width }) => ({
        seed,
        subseed_strength,
        text,
        width,
      })),
    ).toEqual([
      { seed: 8, subseed_strength: 0.15, text: "a red fox", width: 192 },
      { seed: 8, subseed_strength: 0.4, text: "a red fox", width: 192 },
    ]);
  });

  it("U3 sends image 3 to extra-single-image with the configured upscaler at 2×", async () => {
    const adapter = provider({ upscaler: "ESRGAN_4x" });
    const { final } = await run(adapter, adapter.followUp({ kind: "upscale", parent, index: 3 }));
    const [body] = emulator.bodies("extra-single-image");
    expect({ ...body, image: undefined }).toEqual({
      image: undefined,
      resize_mode: 0,
      upscaling_resize: 2,
      upscaler_1: "ESRGAN_4x",
      show_extras_results: true,
    });
    expect((await decodePixels(Buffer.from(String(body?.image), "base64"))).centre()).toBe(2);
    expect(await pixelsOf(final.imageUrls[0] ?? "")).toEqual({ width: 384, height: 256, colourIndex: 2 });
  });

  it("🔄 is a new seed; --stylize becomes cfg_scale, --q steps, --chaos subseed_strength, :: weights (a:1.5); --v is an error", async () => {
    const adapter = provider({ random: () => 0.25 });
    await run(adapter, adapter.followUp({ kind: "reroll", parent }));
    expect(emulator.bodies("txt2img")[0]?.seed).not.toBe(7);
    const styled = adapter.check({ prompt: prompt("a fox", { stylize: 400 }) });
    expect(styled.warnings).toEqual([
      { type: "changed", feature: "--stylize", details: "as guidance: CFG 4 (7 is usual)" },
    ]);
    emulator.requests.length = 0;
    const weighted = prompt("a fox", { chaos: 50, quality: 2, seed: 3 });
    weighted.segments = [{ text: "a fox", weight: 3 }, { text: "snow" }];
    await run(adapter, adapter.imagine({ prompt: weighted }));
    expect(emulator.bodies("txt2img")[0]).toMatchObject({
      prompt: "(a fox:1.5), (snow:0.5)",
      seed: 3,
      subseed_strength: 0.6,
      steps: 40,
      cfg_scale: 7,
    });
    const v6 = adapter.check({ prompt: prompt("a fox", { v: "6" }) }).error;
    expect(v6?.kind).toBe("invalid");
    expect(v6?.message).toMatch(/--v 6 picks a Midjourney model, but this job runs on AUTOMATIC1111/);
  });
});

describe("progress and preview", () => {
  it("polls /progress while txt2img runs: the percentage rises and the preview shows the batch", async () => {
    emulator.knobs.stepMs = 25;
    const adapter = provider();
    const { seen, final } = await run(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.status).toBe("completed");
    const running = seen.filter((snapshot) => snapshot.status === "running");
    const percents = running.map((snapshot) => snapshot.progress ?? 0);
    expect(percents.some((percent) => percent > 0 && percent < 100)).toBe(true);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const preview = running.map((snapshot) => snapshot.previewUrl).find(Boolean);
    const pixels = await decodePixels(Buffer.from(String(preview).split(",")[1] ?? "", "base64"));
    expect(pixels.quadrants()).toEqual([0, 1, 2, 3]);
    expect(final.previewUrl).toBeUndefined();
    expect(emulator.apiRequests("GET").some((request) => request.path === "/sdapi/v1/progress")).toBe(true);
  });

  it("cancel interrupts the job on its machine", async () => {
    emulator.knobs.stall = true;
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    await adapter.cancel?.(taskId);
    expect((await finish(adapter, taskId)).final.status).toBe("cancelled");
    expect(emulator.apiRequests("POST").some((request) => request.path === "/sdapi/v1/interrupt")).toBe(true);
  });

  it("a job interrupted on the machine itself fails as interrupted, with 🔄 advice", async () => {
    emulator.knobs.interruptAtStep = 3;
    const adapter = provider();
    const { final } = await run(adapter, adapter.imagine({ prompt: prompt("a fox") }));
    expect(final.error).toMatchObject({ kind: "transient", code: "interrupted" });
    expect(final.error?.message).toMatch(/Press 🔄/);
  });
});

describe("errors an admin fixes", () => {
  async function failed(adapter: ImageProvider): Promise<TaskSnapshot> {
    return (await run(adapter, adapter.imagine({ prompt: prompt("a fox") }))).final;
  }

  it("basic auth: every request carries it; none or a wrong one is auth naming A1111_AUTH", async () => {
    const none = await failed(provider({ auth: undefined }));
    expect(none.error).toMatchObject({ kind: "auth", advice: "admin" });
    expect(none.error?.message).toMatch(/started with --api-auth: set A1111_AUTH/);
    const wrong = await failed(provider({ auth: "atelier:not-the-password" }));
    expect(wrong.error?.message).toMatch(/check that A1111_AUTH is the user:password/);
    expect(wrong.error?.message).not.toContain("not-the-password");
    expect(emulator.apiRequests("POST").map((request) => request.hasAuthHeader)).toEqual([false, true]);
  });

  it("a 422 is invalid with the server's message", async () => {
    const detail = [{ type: "int_parsing", loc: ["body", "width"], msg: "Input should be a valid integer" }];
    emulator.failNext(1, 422, { method: "POST", body: { detail } });
    const final = await failed(provider());
    expect(final.error).toMatchObject({ kind: "invalid", advice: "rephrase" });
    expect(final.error?.message).toContain("refused the request: width: Input should be a valid integer.");
  });

  it("a machine that is not there is named with A1111_URL", async () => {
    const gone = await startA1111Emulator();
    await gone.stop();
    const final = await failed(provider({ urls: [gone.baseUrl] }));
    expect(final.error?.message).toMatch(
      /Could not connect to A1111 at http:\/\/127\.0\.0\.1:\d+ .*check A1111_URL/,
    );
  });

  it("a task cut off by a restart says so, where it ran, and that 🔄 costs nothing", async () => {
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
    await finish(adapter, taskId);
    const error = await failure(provider().fetchTask(taskId));
    expect(error.message).toContain(
      `interrupted by a restart of Atelier while it ran on ${emulator.baseUrl}`,
    );
    expect(error.message).toMatch(/costs nothing/);
  });

  it("the start-up check lists the models and names the upscalers there are", async () => {
    await provider().verify();
    const error = await failure(provider({ upscaler: "Magic 8x" }).verify());
    expect(error.message).toMatch(
      /^A1111_UPSCALER is "Magic 8x", which .* does not have; set it to one of: None, /,
    );
    expect((await failure(provider({ auth: undefined }).verify())).kind).toBe("auth");
  });
});

describe("one machine, one job at a time", () => {
  it("three sets at once on one machine are sent one after the other", async () => {
    const adapter = provider();
    const ids = await Promise.all(
      [1, 2, 3].map(async (n) => taskIdOf(await adapter.imagine({ prompt: prompt(`fox ${n}`) }))),
    );
    expect((await adapter.fetchTask(ids[2] as string)).status).toBe("queued");
    const finals = await Promise.all(ids.map(async (id) => (await finish(adapter, id)).final.status));
    expect(finals).toEqual(["completed", "completed", "completed"]);
    expect(emulator.maxWaiting()).toBe(0);
    expect(emulator.bodies("txt2img").map((body) => body.prompt)).toEqual(["fox 1", "fox 2", "fox 3"]);
  });
});

describe("a pool of machines", () => {
  it("a machine that stops answering mid-job: the job starts again on another, and the note says so", async () => {
    const first = await startA1111Emulator({ auth, stepMs: 40 });
    const second = await startA1111Emulator({ auth, stepMs: 3 });
    try {
      const adapter = provider({ urls: [first.baseUrl, second.baseUrl] });
      const taskId = taskIdOf(await adapter.imagine({ prompt: fox }));
      for (let wait = 0; wait < 200 && !first.busy(); wait += 1) await new Promise((r) => setTimeout(r, 5));
      await first.stop();
      const { final, seen } = await finish(adapter, taskId);
      expect(final.status).toBe("completed");
      const note = `restarted on ${second.baseUrl}: ${first.baseUrl} stopped answering`;
      expect(seen.some((snapshot) => snapshot.note === note)).toBe(true);
      expect(second.bodies("txt2img")).toEqual(first.bodies("txt2img"));
      // The machine that went away is skipped for the next job.
      await run(adapter, adapter.imagine({ prompt: prompt("a fox") }));
      expect(second.bodies("txt2img")).toHaveLength(2);
      expect(first.bodies("txt2img")).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
