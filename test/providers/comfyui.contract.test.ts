// The ComfyUI adapter against the in-repo ComfyUI emulator: the shared provider contract (minus what
// a self-hosted server without keys or filters cannot do), then what is particular to ComfyUI: the
// exact workflow JSON the server receives (prompt, negative, seed, size, batch; a user's workflow with
// placeholders; V's image-to-image rewiring and denoise; U's upscale nodes), live preview frames,
// node_errors in words, and the pool: spreading, fail-over when a machine dies, a restart.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ComfyUiEmulator, comfyUiDefaultKnobs, startComfyUiEmulator } from "../../emulators/index.ts";
import { type ComfyUiProviderOptions, createComfyUiProvider } from "../../src/providers/comfyui.ts";
import type { ImageProvider, ParentTask } from "../../src/providers/types.ts";
import type { ResultBlobs } from "../../src/store/blobs.ts";
import { decodePixels } from "../support/pixels.ts";
import { runProviderContract } from "./contract.ts";
import { failure, pixelsOf, poller, prompt, recordingLogger, recordingSleeps, taskIdOf } from "./support.ts";

/** The contract `fetch`es result links, so here the blobs are `data:` URLs. */
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

const notForSelfHosted: Record<string, string> = {
  "a wrong key is auth, names the setting, and is not retried":
    "ComfyUI has no keys: whoever reaches --listen may use it (put a proxy with auth in front if needed)",
  "a refused prompt is refused, naming the word, with advice to rephrase":
    "ComfyUI has no content filter; node_errors are its refusals: see 'node_errors'",
};

beforeEach((context) => {
  const why = notForSelfHosted[context.task.name];
  if (why) context.skip(why);
});

const checkpoint = "sd_xl_base_1.0.safetensors";
/** The node id a link input (`[id, slot]`) points at. */
const linkOf = (input: unknown) => String((input as [string] | undefined)?.[0]);

runProviderContract<ComfyUiEmulator>("comfyui", {
  // Task ids are `<machine index>:<prompt id>`; the contract compares them with the emulator's.
  start: async () => {
    const started = await startComfyUiEmulator({ taskDurationMs: 120 });
    return { ...started, taskIds: () => started.prompts.map((received) => `0:${received.promptId}`) };
  },
  adapter: (_emulator, { baseUrl, logger, sleep }) =>
    createComfyUiProvider({
      urls: [baseUrl],
      checkpoint,
      blobs: fetchableBlobs,
      logger,
      http: { clock: { sleep } },
    }),
  keySetting: "COMFYUI_URL",
  baseUrlSetting: "COMFYUI_URL",
  callbackField: "callback_url",
  unknownTaskId: "0:00000000-0000-4000-8000-000000000000",
  // 16:9 at a megapixel in steps of 64; U is 2× that.
  size: { set: [1344, 768], upscale: [2688, 1536] },
  refuse: () => {},
  refusalReasonIsWord: true,
  stall: (target) => {
    target.knobs.stall = true;
  },
  reset: (target) => {
    Object.assign(target.knobs, comfyUiDefaultKnobs(120));
  },
});

describe("comfyui: what is particular to ComfyUI", () => {
  let emulator: ComfyUiEmulator;
  const adapters: ImageProvider[] = [];
  const { logger } = recordingLogger();
  const { sleep } = recordingSleeps();
  const finish = poller({ polls: 500, everyMs: 10 });

  function provider(extra: Partial<ComfyUiProviderOptions> = {}): ImageProvider {
    const adapter = createComfyUiProvider({
      urls: [emulator.baseUrl],
      blobs: fetchableBlobs,
      logger,
      http: { clock: { sleep } },
      ...extra,
    });
    adapters.push(adapter);
    return adapter;
  }
  const lastGraph = () =>
    emulator.prompts.at(-1)?.prompt as Record<
      string,
      { class_type: string; inputs: Record<string, unknown> }
    >;

  async function finishedSet(adapter: ImageProvider, text = "a red fox"): Promise<ParentTask> {
    const parsed = prompt(text, { ar: "16:9" });
    const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: parsed })));
    expect(final.status).toBe("completed");
    return { taskId: final.taskId, prompt: parsed, imageUrls: final.imageUrls };
  }

  beforeAll(async () => {
    emulator = await startComfyUiEmulator({ taskDurationMs: 150 });
  });
  afterEach(() => {
    Object.assign(emulator.knobs, comfyUiDefaultKnobs(150));
  });
  afterAll(async () => {
    await Promise.all(adapters.map((adapter) => adapter.close?.()));
    await emulator.stop();
  });

  it("sends the default workflow with prompt, negative, seed, size, batch and the first checkpoint placed", async () => {
    const adapter = provider();
    const parsed = prompt("a red fox", { ar: "16:9", no: ["snow", "trees"], seed: 42 });
    const result = await adapter.imagine({ prompt: parsed });
    expect(result.warnings).toEqual([
      { type: "changed", feature: "--ar", details: "16:9 → 1344×768 (sides are multiples of 64)" },
    ]);
    expect(emulator.prompts.at(-1)?.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastGraph()).toEqual({
      "3": {
        class_type: "KSampler",
        inputs: {
          seed: 42,
          steps: 20,
          cfg: 7,
          sampler_name: "euler",
          scheduler: "normal",
          denoise: 1,
          model: ["4", 0],
          positive: ["6", 0],
          negative: ["7", 0],
          latent_image: ["5", 0],
        },
      },
      "4": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "sd_xl_base_1.0.safetensors" } },
      "5": { class_type: "EmptyLatentImage", inputs: { width: 1344, height: 768, batch_size: 4 } },
      "6": { class_type: "CLIPTextEncode", inputs: { text: "a red fox", clip: ["4", 1] } },
      "7": { class_type: "CLIPTextEncode", inputs: { text: "snow, trees", clip: ["4", 1] } },
      "8": { class_type: "VAEDecode", inputs: { samples: ["3", 0], vae: ["4", 2] } },
      "9": { class_type: "SaveImage", inputs: { filename_prefix: "atelier", images: ["8", 0] } },
    });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(final.imageUrls).toHaveLength(4);
  });

  it("places values in a user's workflow by placeholder, and names the node it cannot use", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atelier-comfy-"));
    const workflow = {
      "10": {
        class_type: "CheckpointLoaderSimple",
        inputs: { ckpt_name: "v1-5-pruned-emaonly.safetensors" },
      },
      "11": { class_type: "CLIPTextEncode", inputs: { text: "masterpiece, %prompt%", clip: ["10", 1] } },
      "12": { class_type: "CLIPTextEncode", inputs: { text: "%negative%, blurry", clip: ["10", 1] } },
      "13": {
        class_type: "EmptySD3LatentImage",
        inputs: { width: "%width%", height: "%height%", batch_size: "%batch%" },
      },
      "14": {
        class_type: "KSamplerAdvanced",
        inputs: {
          model: ["10", 0],
          add_noise: "enable",
          noise_seed: "%seed%",
          steps: 8,
          cfg: 4,
          sampler_name: "euler",
          scheduler: "normal",
          positive: ["11", 0],
          negative: ["12", 0],
          latent_image: ["13", 0],
          start_at_step: 0,
          end_at_step: 10000,
          return_with_leftover_noise: "disable",
        },
      },
      "15": { class_type: "VAEDecode", inputs: { samples: ["14", 0], vae: ["10", 2] } },
      "16": { class_type: "SaveImage", inputs: { images: ["15", 0], filename_prefix: "mine" } },
    };
    const path = join(dir, "workflow.json");
    writeFileSync(path, JSON.stringify(workflow));
    const adapter = provider({ workflowPath: path });
    const cat = prompt("a cat", { ar: "2:3", no: ["dogs"], seed: 7, stylize: 200, quality: 0.5 });
    cat.segments = [{ text: "a cat", weight: 2 }, { text: "a hat" }];
    const result = await adapter.imagine({ prompt: cat });
    const graph = lastGraph();
    expect(graph["11"]?.inputs.text).toBe("masterpiece, (a cat:1.33), (a hat:0.67)");
    expect(graph["12"]?.inputs.text).toBe("dogs, blurry");
    expect(graph["13"]?.inputs).toEqual({ width: 896, height: 1344, batch_size: 4 });
    expect(graph["14"]?.inputs).toMatchObject({ noise_seed: 7, cfg: 5.5, steps: 15 });
    expect(graph["10"]?.inputs.ckpt_name).toBe("v1-5-pruned-emaonly.safetensors");
    expect((await finish(adapter, taskIdOf(result))).final.imageUrls).toHaveLength(4);

    const broken = {
      ...workflow,
      "14": { ...workflow["14"], inputs: { ...workflow["14"].inputs, positive: ["13", 0] } },
    };
    (broken["11"].inputs as Record<string, unknown>).text = "no placeholder";
    writeFileSync(path, JSON.stringify(broken));
    const error = await failure(provider({ workflowPath: path }).imagine({ prompt: prompt("a cat") }));
    expect(error.message).toContain(
      "the positive input of KSamplerAdvanced (node 14) comes from EmptySD3LatentImage (node 13)",
    );
    expect(error.message).toContain("COMFYUI_WORKFLOW");
  });

  it("V uploads image n and samples from it at denoise 0.35 (subtle) or 0.65 (strong), four at a time", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter);
    for (const [strength, denoise] of [
      ["subtle", 0.35],
      ["strong", 0.65],
    ] as const) {
      const result = await adapter.followUp({ kind: "variation", parent, index: 3, strength });
      const graph = lastGraph();
      const sampler = graph["3"]?.inputs as Record<string, unknown>;
      expect(sampler.denoise).toBe(denoise);
      expect(sampler.seed).not.toBe(0);
      const repeat = graph[linkOf(sampler.latent_image)];
      expect(repeat).toMatchObject({ class_type: "RepeatLatentBatch", inputs: { amount: 4 } });
      const encode = graph[linkOf(repeat?.inputs.samples)];
      expect(encode).toMatchObject({ class_type: "VAEEncode", inputs: { vae: ["4", 2] } });
      const load = graph[linkOf(encode?.inputs.pixels)];
      expect(load?.class_type).toBe("LoadImage");
      const uploaded = emulator.inputs.get(String(load?.inputs.image)) as Buffer;
      expect((await decodePixels(uploaded)).centre()).toBe(2);
      const { final } = await finish(adapter, taskIdOf(result));
      expect((await Promise.all(final.imageUrls.map(pixelsOf))).map((image) => image.width)).toEqual([
        1344, 1344, 1344, 1344,
      ]);
    }
  });

  it("U upscales with the server's upscale model to exactly 2×, else resizes 2× and says so", async () => {
    const adapter = provider();
    const parent = await finishedSet(adapter);
    const result = await adapter.followUp({ kind: "upscale", parent, index: 4 });
    expect(Object.values(lastGraph()).map((node) => node.class_type)).toEqual([
      "LoadImage",
      "UpscaleModelLoader",
      "ImageUpscaleWithModel",
      "ImageScale",
      "SaveImage",
    ]);
    expect(lastGraph()["2"]?.inputs.model_name).toBe("4x-UltraSharp.pth");
    expect(lastGraph()["4"]?.inputs).toMatchObject({ width: 2688, height: 1536 });
    const { final } = await finish(adapter, taskIdOf(result));
    expect(await pixelsOf(final.imageUrls[0] ?? "")).toEqual({ width: 2688, height: 1536, colourIndex: 3 });

    emulator.knobs.upscaleModels = [];
    const plain = await provider().followUp({ kind: "upscale", parent, index: 1 });
    expect(lastGraph()["2"]).toMatchObject({ class_type: "ImageScaleBy", inputs: { scale_by: 2 } });
    expect(plain.warnings).toEqual([expect.objectContaining({ type: "changed", feature: "U1" })]);
  });

  it("shows the websocket's preview frames as a small preview image while sampling", async () => {
    emulator.knobs.taskDurationMs = 1_500;
    const adapter = provider();
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox", { ar: "16:9" }) }));
    const { seen } = await finish(adapter, taskId);
    const withPreview = seen.filter((snapshot) => snapshot.previewUrl !== undefined);
    expect(withPreview.length).toBeGreaterThan(0);
    expect(withPreview.every((snapshot) => snapshot.status === "running")).toBe(true);
    const preview = await decodePixels(
      Buffer.from(await (await fetch(withPreview[0]?.previewUrl ?? "")).arrayBuffer()),
    );
    expect([preview.width, preview.height, preview.centre()]).toEqual([256, 146, 0]);
    expect(new Set(seen.map((snapshot) => snapshot.progress)).size).toBeGreaterThan(3);
  });

  it("turns node_errors into an error naming the node, its class and the input; verify names the checkpoints", async () => {
    const adapter = provider({ checkpoint: "missing.safetensors" });
    const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
    expect(error.kind).toBe("invalid");
    expect(error.message).toContain("CheckpointLoaderSimple (node 4), input ckpt_name: Value not in list");
    expect(error.message).toContain("'missing.safetensors' not in");
    const start = await failure(adapter.verify?.() ?? Promise.resolve());
    expect(start.message).toBe(
      "COMFYUI_CHECKPOINT is missing.safetensors, which ComfyUI at " +
        `${emulator.baseUrl} does not have; it has: sd_xl_base_1.0.safetensors, v1-5-pruned-emaonly.safetensors.`,
    );
    await expect(provider().verify?.()).resolves.toBeUndefined();
  });

  it("cancel takes a waiting prompt out of the queue", async () => {
    emulator.knobs.taskDurationMs = 2_000;
    const adapter = provider({ concurrency: 2 });
    const first = taskIdOf(await adapter.imagine({ prompt: prompt("one") }));
    const second = taskIdOf(await adapter.imagine({ prompt: prompt("two") }));
    expect(emulator.queue().pending).toHaveLength(1);
    await adapter.cancel?.(second);
    expect(emulator.apiRequests("POST").at(-1)).toMatchObject({
      path: "/queue",
      body: { delete: [second.split(":")[1]] },
    });
    expect((await adapter.fetchTask(second)).status).toBe("cancelled");
    await adapter.cancel?.(first);
    expect((await finish(adapter, first)).final.status).toBe("cancelled");
  });

  it("finds a task again after a restart by its id (machine index + prompt id)", async () => {
    const before = provider();
    const taskId = taskIdOf(await before.imagine({ prompt: prompt("a fox") }));
    expect(taskId).toBe(`0:${emulator.prompts.at(-1)?.promptId}`);
    const after = provider();
    const { final } = await finish(after, taskId);
    expect(final.imageUrls).toHaveLength(4);
  });
});

describe("comfyui: a pool of machines", () => {
  let machines: ComfyUiEmulator[] = [];
  const adapters: ImageProvider[] = [];
  const finish = poller({ polls: 600, everyMs: 10 });

  beforeEach(async () => {
    machines = [
      await startComfyUiEmulator({ taskDurationMs: 400 }),
      await startComfyUiEmulator({ taskDurationMs: 400 }),
    ];
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.close?.()));
    await Promise.all(machines.map((machine) => machine.stop()));
  });

  function pooled(): ImageProvider {
    const { sleep } = recordingSleeps();
    const adapter = createComfyUiProvider({
      urls: machines.map((machine) => machine.baseUrl),
      checkpoint,
      blobs: fetchableBlobs,
      http: { clock: { sleep } },
    });
    adapters.push(adapter);
    return adapter;
  }

  it("spreads jobs over the least busy machines", async () => {
    const adapter = pooled();
    const ids = [
      taskIdOf(await adapter.imagine({ prompt: prompt("one") })),
      taskIdOf(await adapter.imagine({ prompt: prompt("two") })),
    ];
    expect(ids.map((id) => id.split(":")[0])).toEqual(["0", "1"]);
    expect(machines.map((machine) => machine.prompts.length)).toEqual([1, 1]);
    for (const id of ids) expect((await finish(adapter, id)).final.status).toBe("completed");
  });

  it("starts a job again on another machine when its machine dies, and says so", async () => {
    const adapter = pooled();
    const [gpu1, gpu2] = machines as [ComfyUiEmulator, ComfyUiEmulator];
    const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox", { seed: 5 }) }));
    expect(gpu1.prompts).toHaveLength(1);
    await adapter.fetchTask(taskId);
    await gpu1.stopAnswering();
    const { final, seen } = await finish(adapter, taskId);
    expect(final.status).toBe("completed");
    expect(final.imageUrls).toHaveLength(4);
    expect(final.taskId).toBe(taskId);
    expect(final.note).toBe(`restarted on ${gpu2.baseUrl}: ${gpu1.baseUrl} stopped answering`);
    expect(seen.some((snapshot) => snapshot.note?.startsWith("moving to another machine"))).toBe(true);
    expect(gpu2.prompts.map((received) => received.prompt)).toEqual([gpu1.prompts[0]?.prompt]);
    // The dead machine is skipped for the next job.
    const next = taskIdOf(await adapter.imagine({ prompt: prompt("another") }));
    expect(next.startsWith("1:")).toBe(true);
  });
});
