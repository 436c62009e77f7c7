// The image worker the bot uses: same pictures as in-process rendering, failures as readable
// errors, and a crashed worker replaced on the next request.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeResultImage } from "../../emulators/images.ts";
import type { DownloadPolicy } from "../../src/images/download.ts";
import {
  createInProcessRenderer,
  createWorkerRenderer,
  type ImageRenderer,
} from "../../src/images/renderer.ts";
import { decodePixels } from "../support/pixels.ts";

let server: Server;
let origin: string;
let policy: DownloadPolicy;
const worker: ImageRenderer = createWorkerRenderer();

beforeAll(async () => {
  const tiles = await Promise.all(
    [0, 1, 2, 3].map((index) => makeResultImage({ width: 60, height: 40, index })),
  );
  server = createServer((request, response) => {
    const index = Number(/\/(\d)\.png$/.exec(request.url ?? "")?.[1]);
    const tile = tiles[index];
    if (!tile) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": "image/png" }).end(tile);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  policy = { allowedHttpOrigins: [origin], maxBytes: 1024 * 1024, timeoutMs: 5_000 };
});

afterAll(async () => {
  await worker.close();
  await new Promise((resolve) => server.close(resolve));
});

describe("image worker", () => {
  const urls = () => [0, 1, 2, 3].map((index) => `${origin}/${index}.png`);

  it("composes the same grid as in-process rendering", async () => {
    const fromWorker = await worker.renderResult({ imageUrls: urls() }, policy);
    const inProcess = await createInProcessRenderer().renderResult({ imageUrls: urls() }, policy);
    expect(Buffer.isBuffer(fromWorker.bytes)).toBe(true);
    expect([fromWorker.width, fromWorker.height]).toEqual([120, 80]);
    expect((await decodePixels(fromWorker.bytes)).quadrants()).toEqual([0, 1, 2, 3]);
    expect(fromWorker.bytes.equals(inProcess.bytes)).toBe(true);
  });

  it("encodes a single image and reports a failed download as an error", async () => {
    const preview = await worker.renderImage(`${origin}/2.png`, policy, "preview");
    expect(preview.fileName).toMatch(/^preview\./);
    await expect(worker.renderImage(`${origin}/9.png`, policy, "preview")).rejects.toThrow(/404/);
  });

  it("reports its own CPU and memory, apart from this process", async () => {
    const usage = await worker.usage();
    expect(usage?.rssBytes).toBeGreaterThan(0);
    expect(await createInProcessRenderer().usage()).toBeUndefined();
  });

  it("replaces a worker that died, failing only what it was doing", async () => {
    const crashing = createWorkerRenderer();
    try {
      await crashing.renderImage(`${origin}/1.png`, policy, "warmup");
      const usage = await crashing.usage();
      expect(usage?.pid).not.toBe(process.pid);
      const inFlight = crashing.renderResult({ imageUrls: urls() }, policy);
      const failed = expect(inFlight).rejects.toThrow(/stopped unexpectedly/);
      process.kill(usage?.pid ?? 0, "SIGKILL");
      await failed;
      const again = await crashing.renderResult({ imageUrls: urls() }, policy);
      expect((await decodePixels(again.bytes)).quadrants()).toEqual([0, 1, 2, 3]);
    } finally {
      await crashing.close();
    }
  });
});
