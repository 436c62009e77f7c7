// Where result images are fetched, composed and encoded. The bot runs this work in a child process
// at a lower CPU priority: a grid costs ~100 ms of CPU, and on a busy machine that work must not
// delay answering people (Discord wants a first response within 3 s) or the job store, which shares
// libuv's thread pool with sharp in one process.
import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { blobAsDataUrl, inlineBlobLinks, isBlobLink, type ResultBlobs } from "../store/blobs.ts";
import type { DownloadPolicy } from "./download.ts";
import { downloadImage } from "./download.ts";
import { type EncodedImage, encodeForDiscord } from "./encode.ts";
import { type ResultSource, renderResultSet } from "./result-set.ts";
import { imageSlots } from "./work-slots.ts";

export interface ImageRenderer {
  /** The picture a finished job's message shows (grid, contact sheet or single image). */
  renderResult(source: ResultSource, policy: DownloadPolicy): Promise<EncodedImage>;
  /** One image (a provider's preview, a described image), ready to attach. */
  renderImage(url: string, policy: DownloadPolicy, baseName: string): Promise<EncodedImage>;
  /** CPU and memory of the process doing the work (for benchmarks); undefined when it is this one. */
  usage(): Promise<{ pid: number; rssBytes: number; cpuMicros: number } | undefined>;
  close(): Promise<void>;
}

export type RenderRequest =
  | { op: "result"; source: ResultSource; policy: DownloadPolicy }
  | { op: "image"; url: string; policy: DownloadPolicy; baseName: string }
  | { op: "usage" };

/** Does one request in the current process; shared by the in-process renderer and the worker. */
export async function handleRenderRequest(request: RenderRequest): Promise<unknown> {
  switch (request.op) {
    case "result":
      return (await renderResultSet(request.source, request.policy)).shown;
    case "image": {
      const image = await downloadImage(request.url, request.policy);
      return imageSlots.run(() => encodeForDiscord(image.bytes, { baseName: request.baseName }));
    }
    case "usage": {
      const cpu = process.cpuUsage();
      return { pid: process.pid, rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system };
    }
  }
}

/**
 * A renderer that also reads `atelier-blob:` links (results a provider gave as bytes): they are
 * turned into `data:` URLs here, where the store is, before the work goes to the worker.
 */
export function withBlobLinks(renderer: ImageRenderer, blobs: ResultBlobs): ImageRenderer {
  const resolve = (url: string) => (isBlobLink(url) ? blobAsDataUrl(blobs, url) : Promise.resolve(url));
  return {
    ...renderer,
    renderResult: async (source, policy) =>
      renderer.renderResult(
        await inlineBlobLinks(blobs, { imageUrls: source.imageUrls, gridUrl: source.gridUrl }),
        policy,
      ),
    renderImage: async (url, policy, baseName) => renderer.renderImage(await resolve(url), policy, baseName),
  };
}

export function createInProcessRenderer(): ImageRenderer {
  return {
    renderResult: async (source, policy) => (await renderResultSet(source, policy)).shown,
    renderImage: (url, policy, baseName) =>
      handleRenderRequest({ op: "image", url, policy, baseName }) as Promise<EncodedImage>,
    usage: async () => undefined,
    close: async () => undefined,
  };
}

interface WorkerReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  reason?: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export interface WorkerRendererOptions {
  /**
   * The worker's nice value (higher = lower priority). Default 19, the lowest: at 50 /imagine/s
   * the grids want ~4× the cores of a 2-core machine, and the answers to people must not wait
   * behind them; on an idle machine the worker still gets every core.
   */
  niceness?: number;
  onExit?: (code: number | null, signal: string | null) => void;
}

const workerPath = fileURLToPath(new URL("./render-worker.ts", import.meta.url));

/** The worker is TypeScript too: it starts with the same loader the CLI uses. */
function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
}

/** Only data crosses to the worker: a test's custom resolver stays behind (the worker resolves itself). */
function portablePolicy(policy: DownloadPolicy): DownloadPolicy {
  const { resolveHost: _resolveHost, ...data } = policy;
  return data;
}

/**
 * The worker's heap, kept small. Its objects live as long as one image request, and each request's
 * pixels are buffers outside the heap: a 1 MB young generation (default up to 16 MB per half) and
 * old-space growth of 30% past the live data (default up to 4×) keep its heap near what it holds —
 * these were ~60 MB of its peak RSS when 1,000 finished jobs queued their grids (bench/bot.ts
 * scenario 3). Neither is a ceiling: a request that needs more still gets it.
 */
const workerHeapFlags = ["--max-semi-space-size=1", "--heap-growing-percent=30"];

/**
 * Renders in a child process, started on first use and again after a crash (its requests in flight
 * fail with a clear error; the presenter retries delivery).
 */
/** Starts the worker process at a lower CPU priority. */
function forkWorker(niceness: number): ChildProcess {
  const started = fork(workerPath, [], {
    execArgv: ["--import", tsxLoaderUrl(), ...workerHeapFlags],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    if (started.pid !== undefined) setPriority(started.pid, Math.min(19, niceness));
  } catch {
    // Not allowed to lower priority here (some containers): it still works, just less politely.
  }
  return started;
}

/** Hands a worker's reply to the request waiting for it. */
function settle(pending: Map<number, Pending>, message: WorkerReply): void {
  const waiter = pending.get(message.id);
  if (!waiter) return;
  pending.delete(message.id);
  if (message.ok) waiter.resolve(message.value);
  // The reason (e.g. a download's "timeout") crosses the process boundary with the message.
  else
    waiter.reject(Object.assign(new Error(message.error ?? "image work failed"), { reason: message.reason }));
}

export function createWorkerRenderer(options: WorkerRendererOptions = {}): ImageRenderer {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  function start(): ChildProcess {
    const started = forkWorker(options.niceness ?? 19);
    started.on("message", (message: WorkerReply) => settle(pending, message));
    started.on("exit", (code, signal) => {
      if (child === started) child = undefined;
      for (const waiter of pending.values())
        waiter.reject(new Error("The image worker stopped unexpectedly."));
      pending.clear();
      options.onExit?.(code, signal);
    });
    return started;
  }

  function ask<T>(request: RenderRequest): Promise<T> {
    child ??= start();
    const id = nextId++;
    const target = child;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      target.send({ id, request }, (error) => {
        if (!error) return;
        pending.delete(id);
        reject(error);
      });
    });
  }

  const asImage = (value: EncodedImage): EncodedImage => ({ ...value, bytes: Buffer.from(value.bytes) });

  return {
    renderResult: async (source, policy) =>
      asImage(await ask<EncodedImage>({ op: "result", source, policy: portablePolicy(policy) })),
    renderImage: async (url, policy, baseName) =>
      asImage(await ask<EncodedImage>({ op: "image", url, policy: portablePolicy(policy), baseName })),
    usage: () => ask({ op: "usage" }),
    close: async () => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill();
      await exited;
    },
  };
}
