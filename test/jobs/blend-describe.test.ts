// /blend and /describe jobs against the midjourney-proxy emulator: the images are fetched when the
// job starts (never stored), sent once, and the jobs survive restarts like /imagine jobs.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type MidjourneyProxyEmulator,
  makeResultImage,
  startMidjourneyProxyEmulator,
} from "../../emulators/index.ts";
import { blendPromptText } from "../../src/jobs/kinds.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import {
  createMidjourneyProxyProvider,
  type MidjourneyProxyProvider,
} from "../../src/providers/midjourney-proxy.ts";
import type { ImageInput } from "../../src/providers/types.ts";
import { openStore } from "../../src/store/index.ts";
import { JobsHarness, type OpenService } from "./harness.ts";

type Fetch = (url: string, signal?: AbortSignal) => Promise<ImageInput>;

let emulator: MidjourneyProxyEmulator;
let harness: JobsHarness<MidjourneyProxyProvider>;
const images = new Map<string, ImageInput>();

/** Serves the images put in `images`, as the bot's safe download would. */
const fetchFromMap: Fetch = async (url) => {
  const image = images.get(url);
  if (!image) throw new Error(`Could not download ${url} (404).`);
  return image;
};

async function openService(fetchSourceImage: Fetch | undefined = fetchFromMap) {
  return harness.open({ pollIntervalMs: 20, fetchSourceImage });
}

const close = (entry: OpenService<MidjourneyProxyProvider>) => harness.close(entry);

async function addImage(url: string, index: number): Promise<ImageInput> {
  const image = { bytes: await makeResultImage({ width: 8, height: 8, index }), contentType: "image/png" };
  images.set(url, image);
  return image;
}

const asker = { requesterId: "u1" };

const submits = () =>
  emulator.apiRequests("POST").filter((request) => request.path.startsWith("/mj/submit/"));
const dataUrl = (image: ImageInput) => `data:image/png;base64,${image.bytes.toString("base64")}`;

beforeEach(async () => {
  emulator = await startMidjourneyProxyEmulator({ durationMs: 200, imageLongSide: 16 });
  harness = new JobsHarness(() => createMidjourneyProxyProvider({ baseUrl: emulator.baseUrl }));
  images.clear();
});

afterEach(async () => {
  await harness.dispose();
  await emulator.stop();
});

describe("blend jobs", () => {
  it("fetch the images when they start and send them once, in order, with the dimension", async () => {
    const a = await addImage("https://cdn.example/a.png", 0);
    const b = await addImage("https://cdn.example/b.png", 1);
    const { jobs, recorder } = await openService();
    const job = await jobs.create(
      {
        kind: "blend",
        imageUrls: ["https://cdn.example/a.png", "https://cdn.example/b.png"],
        dimensions: "landscape",
      },
      asker,
    );
    expect(job.prompt).toBe("https://cdn.example/a.png https://cdn.example/b.png --ar 3:2");
    await jobs.shown(job.id);
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.state).toBe("completed");
    expect(finished?.gridUrl).toBeDefined();
    expect(submits().map((request) => request.body)).toEqual([
      { base64Array: [dataUrl(a), dataUrl(b)], dimensions: "LANDSCAPE" },
    ]);
  });

  it("fail clearly, sending nothing, when an image cannot be fetched", async () => {
    await addImage("https://cdn.example/a.png", 0);
    const { jobs, recorder } = await openService();
    const job = await jobs.create(
      {
        kind: "blend",
        imageUrls: ["https://cdn.example/a.png", "https://cdn.example/gone.png"],
        dimensions: "square",
      },
      asker,
    );
    await jobs.shown(job.id);
    const [finished] = await recorder.finishedCount(1);
    expect(finished?.state).toBe("failed");
    expect(finished?.error).toMatchObject({
      kind: "internal",
      advice: "retry",
      message:
        "Atelier could not fetch an image to send to the image service: Could not download https://cdn.example/gone.png (404).",
    });
    expect(submits()).toHaveLength(0);
  });

  it("stay queued when stopped while fetching, and run once at the next start", async () => {
    await addImage("https://cdn.example/a.png", 0);
    await addImage("https://cdn.example/b.png", 1);
    let fetching = false;
    // Never answers until the service stops (a slow CDN).
    const stalled: Fetch = (_url, signal) =>
      new Promise((_resolve, reject) => {
        fetching = true;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    const first = await openService(stalled);
    const job = await first.jobs.create(
      {
        kind: "blend",
        imageUrls: ["https://cdn.example/a.png", "https://cdn.example/b.png"],
        dimensions: "portrait",
      },
      asker,
    );
    await first.jobs.shown(job.id);
    while (!fetching) await new Promise((resolve) => setTimeout(resolve, 10));
    await close(first);
    expect((await openStoreRecord(job.id))?.state).toBe("queued");

    const second = await openService();
    await second.jobs.start();
    const [finished] = await second.recorder.finishedCount(1);
    expect(finished?.id).toBe(job.id);
    expect(finished?.state).toBe("completed");
    expect(submits()).toHaveLength(1);
  });

  it("caught mid-submit by a crash fail with 🔄, and 🔄 blends the same images again", async () => {
    await addImage("https://cdn.example/a.png", 0);
    await addImage("https://cdn.example/b.png", 1);
    const first = await openService();
    const job = await first.jobs.create(
      {
        kind: "blend",
        imageUrls: ["https://cdn.example/a.png", "https://cdn.example/b.png"],
        dimensions: "portrait",
      },
      asker,
    );
    await first.store.keyv.set(`job:${job.id}`, { ...job, state: "submitting", launchedAt: Date.now() });
    await close(first);

    const second = await openService();
    await second.jobs.start();
    const [failed] = await second.recorder.finishedCount(1);
    expect(failed?.error?.message).toMatch(/may or may not have started.*🔄/);
    expect(submits()).toHaveLength(0);

    const retry = await second.jobs.create({ kind: "retry", jobId: job.id }, { requesterId: "u2" });
    expect(retry).toMatchObject({ kind: "blend", sourceUrls: job.sourceUrls, dimensions: "portrait" });
    await second.jobs.shown(retry.id);
    const [, finished] = await second.recorder.finishedCount(2);
    expect(finished?.state).toBe("completed");
    expect(submits().map((request) => (request.body as { dimensions?: string }).dimensions)).toEqual([
      "PORTRAIT",
    ]);
  });
});

describe("describe jobs", () => {
  it("keep the suggested prompts, also when resumed after a restart", async () => {
    const image = await addImage("https://cdn.example/photo.png", 2);
    const first = await openService();
    const job = await first.jobs.create(
      { kind: "describe", imageUrl: "https://cdn.example/photo.png" },
      asker,
    );
    expect(job.prompt).toBe("https://cdn.example/photo.png");
    await first.jobs.shown(job.id);
    while ((await first.jobs.get(job.id))?.state !== "running") await new Promise((r) => setTimeout(r, 10));
    await close(first);

    const second = await openService();
    await second.jobs.start();
    const [finished] = await second.recorder.finishedCount(1);
    expect(finished?.state).toBe("completed");
    expect(finished?.descriptions).toEqual([
      "a flat colour field --ar 1:1",
      "a solid square --ar 1:1",
      "minimalism --ar 1:1",
      "a test card --ar 1:1",
    ]);
    expect(submits().map((request) => request.body)).toEqual([{ base64: dataUrl(image) }]);
  });
});

describe("blendPromptText", () => {
  it("writes the shape as Midjourney shows it: --ar for portrait and landscape, nothing for square", () => {
    expect(blendPromptText(["https://x/a.png", "https://x/b.png"], "portrait")).toBe(
      "https://x/a.png https://x/b.png --ar 2:3",
    );
    expect(blendPromptText(["https://x/a.png", "https://x/b.png"], "square")).toBe(
      "https://x/a.png https://x/b.png",
    );
  });
});

/** The stored record, read from a fresh store (the service that wrote it is closed). */
async function openStoreRecord(id: string): Promise<JobRecord | undefined> {
  const store = await openStore({ dataDir: harness.dataDir });
  try {
    return (await store.keyv.get(`job:${id}`)) as JobRecord | undefined;
  } finally {
    await store.close();
  }
}
