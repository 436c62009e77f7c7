// Gemini answers each call with one finished image and keeps no task to ask about, so the adapter
// keeps the task itself: a set is four calls run together in the background, and `fetchTask` reads
// this process's snapshot of them (progress = images back / 4). Images are kept as blobs (links in
// the job record). A set finishes only with all four: the first call that fails for good fails the
// set (the other calls are abandoned), because a set of three would leave a hole in the grid and
// TaskSnapshot has no way to carry a warning about it. A task unknown here was cut off by a restart.
import { randomUUID } from "node:crypto";
import type { GeneratedImage } from "./gemini-wire.ts";
import type { ProviderLogger } from "./http.ts";
import { ProviderError, type TaskSnapshot } from "./types.ts";

interface Entry {
  id: string;
  count: number;
  /** Blob links in the order the images came back (a slot is taken when an answer arrives). */
  links: string[];
  arrived: number;
  stored: number;
  error?: ProviderError;
  controller: AbortController;
  finishedAt?: number;
  promptTokens: number;
  outputTokens: number;
}

export interface GeminiTasksOptions {
  /** Keeps an image's bytes; returns its `atelier-blob:` link. */
  store(image: GeneratedImage): Promise<string>;
  logger: ProviderLogger;
  now(): number;
  /** How long a finished task's snapshot stays readable. */
  keepFinishedMs: number;
}

/** Why a set that failed part-way shows nothing, added to the failing call's own message. */
function partial(error: ProviderError, entry: Entry): ProviderError {
  if (entry.arrived === 0) return error;
  return new ProviderError(
    error.kind,
    `${error.message} (${entry.arrived} of the ${entry.count} images had come back; a set is shown only whole.)`,
    { code: error.code, reason: error.reason, maybeSubmitted: error.maybeSubmitted, cause: error },
  );
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  return new ProviderError("internal", `Atelier could not keep Gemini's image: ${(error as Error).message}`, {
    cause: error,
  });
}

export class GeminiTasks {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: GeminiTasksOptions) {}

  /** Starts `count` calls of `generate` together; returns the task id at once. */
  start(count: number, generate: (signal: AbortSignal) => Promise<GeneratedImage>): string {
    this.forgetOld();
    const entry: Entry = {
      id: `gemini-${randomUUID()}`,
      count,
      links: [],
      arrived: 0,
      stored: 0,
      controller: new AbortController(),
      promptTokens: 0,
      outputTokens: 0,
    };
    this.entries.set(entry.id, entry);
    for (let call = 0; call < count; call += 1) void this.runCall(entry, generate);
    return entry.id;
  }

  /** The task as it stands; undefined when this process does not know it. */
  snapshot(taskId: string): TaskSnapshot | undefined {
    const entry = this.entries.get(taskId);
    if (!entry) return undefined;
    const complete = entry.stored === entry.count;
    const snapshot: TaskSnapshot = {
      taskId,
      status: entry.error ? "failed" : complete ? "completed" : "running",
      progress: Math.round((entry.stored / entry.count) * 100),
      imageUrls: complete && !entry.error ? [...entry.links] : [],
    };
    if (entry.error) snapshot.error = entry.error;
    return snapshot;
  }

  /** Abandons every running call (shutting down): their jobs are resumed, and found lost, at the next start. */
  abortAll(): void {
    for (const entry of this.entries.values()) {
      if (entry.finishedAt === undefined) entry.controller.abort(new Error("Atelier is shutting down."));
    }
  }

  private async runCall(entry: Entry, generate: (signal: AbortSignal) => Promise<GeneratedImage>) {
    try {
      const image = await generate(entry.controller.signal);
      if (entry.error) return;
      const slot = entry.arrived;
      entry.arrived += 1;
      entry.promptTokens += image.promptTokens;
      entry.outputTokens += image.outputTokens;
      entry.links[slot] = await this.options.store(image);
      entry.stored += 1;
      if (entry.stored === entry.count && !entry.error) this.finish(entry);
    } catch (error) {
      if (entry.error || entry.finishedAt !== undefined) return;
      entry.error = partial(asProviderError(error), entry);
      this.finish(entry);
      entry.controller.abort(entry.error);
    }
  }

  private finish(entry: Entry): void {
    entry.finishedAt = this.options.now();
    // Gemini bills by tokens; TaskSnapshot's usage has credits only, so the figures go to the log.
    this.options.logger.debug("Gemini: set finished", {
      task: entry.id,
      images: entry.stored,
      failed: entry.error?.code ?? entry.error?.kind,
      promptTokens: entry.promptTokens,
      outputTokens: entry.outputTokens,
    });
  }

  private forgetOld(): void {
    const before = this.options.now() - this.options.keepFinishedMs;
    for (const [id, entry] of this.entries) {
      if (entry.finishedAt !== undefined && entry.finishedAt < before) this.entries.delete(id);
    }
  }
}
