// Helpers shared by the provider tests: prompts, recording loggers and sleeps, polling a task to its
// end, catching a ProviderError, reading result pixels and a local receiver for callbacks.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { ParsedPrompt, PromptParams } from "../../src/prompt/types.ts";
import type { ProviderLogger } from "../../src/providers/http.ts";
import { ProviderError, type SubmitResult, type TaskSnapshot } from "../../src/providers/types.ts";
import { decodePixels } from "../support/pixels.ts";

export function prompt(text: string, params: PromptParams = {}, images: string[] = []): ParsedPrompt {
  return { images, text, params, warnings: [] };
}

/** A logger that keeps every line ("WARN message {fields}") for the test to look at. */
export function recordingLogger(): { logger: ProviderLogger; lines: string[] } {
  const lines: string[] = [];
  const logger: ProviderLogger = {
    warn: (message, fields) => lines.push(`WARN ${message} ${JSON.stringify(fields ?? {})}`),
    debug: (message, fields) => lines.push(`DEBUG ${message} ${JSON.stringify(fields ?? {})}`),
  };
  return { logger, lines };
}

/** Instant, recorded sleeps for the HTTP client's clock: retries are checked by count, not by waiting. */
export function recordingSleeps(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

export function taskIdOf(result: SubmitResult): string {
  if (result.kind !== "task") throw new Error(`expected a task, got ${result.kind}`);
  return result.taskId;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A `finish(adapter, taskId)` that polls until the task leaves queued/running, at most `polls`
 * times `everyMs` apart (bounded by a count, never asserted on time).
 */
export function poller({ polls, everyMs }: { polls: number; everyMs: number }) {
  return async function finish<S extends TaskSnapshot>(
    adapter: { fetchTask(taskId: string): Promise<S> },
    taskId: string,
  ): Promise<{ final: S; seen: S[] }> {
    const seen: S[] = [];
    for (let poll = 0; poll < polls; poll += 1) {
      const snapshot = await adapter.fetchTask(taskId);
      seen.push(snapshot);
      if (snapshot.status !== "queued" && snapshot.status !== "running") return { final: snapshot, seen };
      await pause(everyMs);
    }
    throw new Error(`task ${taskId} did not finish`);
  };
}

/** The ProviderError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error("expected a ProviderError");
}

/** Downloads an image; `colourAt` names the result-colour index of the pixel at (x, y). */
export async function imageOf(url: string) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const image = await decodePixels(Buffer.from(await response.arrayBuffer()));
  return { width: image.width, height: image.height, colourAt: image.paletteIndexAt };
}

/** An image's size and the result-colour index of its centre pixel. */
export async function pixelsOf(url: string) {
  const image = await imageOf(url);
  return {
    width: image.width,
    height: image.height,
    colourIndex: image.colourAt(image.width / 2, image.height / 2),
  };
}

/** A local HTTP server that keeps every JSON body POSTed to it (webhooks, callbacks, notifyHooks). */
export async function startReceiver() {
  const received: unknown[] = [];
  const server: Server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on("end", () => {
      received.push(JSON.parse(text));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    received,
    /** The receiver's URL for `path`, e.g. "/callbacks/mjapi". */
    url: (path: string) => `${origin}${path}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
