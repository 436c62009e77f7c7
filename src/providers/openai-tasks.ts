import type { ResultBlobs } from "../store/blobs.ts";
import type { ProviderLogger } from "./http.ts";
import { redactExcerpt } from "./http.ts";
import type { OpenedStream, SseMessage } from "./openai-stream.ts";
import {
  completedImageSchema,
  contentTypeOf,
  isErrorEvent,
  partialImageSchema,
  streamError,
} from "./openai-wire.ts";
import { previewOf } from "./shared.ts";
import { ProviderError, type TaskSnapshot } from "./types.ts";

/** One request as the adapter sends it, and again for the images still missing. */
export interface StreamedRequest {
  /** The set's size: the images this task must end with. */
  count: number;
  /** Partial images asked per image (0–3). */
  partials: number;
  /** Opens a stream for `count` images. */
  open(count: number, signal: AbortSignal): Promise<OpenedStream>;
}

export interface TaskBookOptions {
  blobs: ResultBlobs;
  logger: ProviderLogger;
  secrets: readonly string[];
  model: string;
  /** A task not finished by then ends as a timeout and its stream is closed. */
  maxDurationMs: number;
  /** How long a finished task stays readable. */
  retainMs: number;
}

/** How one stream ended. */
type Ending = { kind: "ended" } | { kind: "cut"; cause: unknown } | { kind: "failed"; error: ProviderError };

interface Task {
  snapshot: TaskSnapshot;
  images: string[];
  tokens: number;
  partialsSinceImage: number;
  control: AbortController;
}

export function interruptedError(taskId: string): ProviderError {
  return new ProviderError(
    "internal",
    `The OpenAI request behind task ${taskId} is no longer running here: Atelier was restarted (or the task ran in another process) while its images streamed in. OpenAI may have billed it; it was not sent again. Press 🔄 to run it again.`,
    { code: "interrupted", maybeSubmitted: true },
  );
}

function cutError(got: number, count: number, cause: unknown): ProviderError {
  const what =
    got === 0
      ? "OpenAI's stream broke off again before any image was finished, so it was not sent a third time (OpenAI may have billed it)."
      : `OpenAI's stream broke off after ${got} of ${count} images; those were billed, so the set was not sent again.`;
  return new ProviderError("internal", `${what} Try again.`, {
    code: "stream_cut",
    maybeSubmitted: true,
    cause,
  });
}

export class TaskBook {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly options: TaskBookOptions) {}

  has(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  /** The task's snapshot now; an unknown id is a task this process never ran or no longer remembers. */
  get(taskId: string): TaskSnapshot {
    const task = this.tasks.get(taskId);
    if (!task) throw interruptedError(taskId);
    return { ...task.snapshot, imageUrls: [...task.snapshot.imageUrls] };
  }

  /** Follows `first` (and any stream sent for missing images) in the background. */
  start(
    taskId: string,
    request: StreamedRequest,
    first: OpenedStream,
    control = new AbortController(),
  ): void {
    const task: Task = {
      snapshot: { taskId, status: "running", progress: 0, imageUrls: [] },
      images: [],
      tokens: 0,
      partialsSinceImage: 0,
      control,
    };
    this.tasks.set(taskId, task);
    const deadline = setTimeout(() => control.abort(new DeadlineReached()), this.options.maxDurationMs);
    deadline.unref();
    void this.follow(task, request, first)
      .then(
        () =>
          this.finish(task, {
            status: "completed",
            progress: 100,
            ...(task.tokens > 0 ? { usage: { tokens: task.tokens } } : {}),
          }),
        (error: unknown) => this.finish(task, this.failure(task, error)),
      )
      .finally(() => clearTimeout(deadline));
  }

  /** Stops waiting for a running task (OpenAI may still finish, and bill, what it started). */
  cancel(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) throw interruptedError(taskId);
    task.control.abort(new Cancelled());
  }

  closeAll(): void {
    for (const task of this.tasks.values()) task.control.abort(new Cancelled());
  }

  private async follow(task: Task, request: StreamedRequest, first: OpenedStream): Promise<void> {
    let stream = first;
    let resentEmpty = false;
    for (;;) {
      const before = task.images.length;
      const ending = await this.read(task, request, stream);
      if (ending.kind === "failed") throw ending.error;
      const missing = request.count - task.images.length;
      if (missing <= 0) return;
      if (ending.kind === "cut" || task.images.length === before) {
        // Only a request that finished no image cost no image: it alone is sent once more.
        const cause = ending.kind === "cut" ? ending.cause : undefined;
        if (task.images.length > 0 || resentEmpty) throw cutError(task.images.length, request.count, cause);
        resentEmpty = true;
      }
      this.options.logger.warn("OpenAI: stream ended before the set was complete; asking for the rest", {
        task: task.snapshot.taskId,
        images: task.images.length,
        missing,
        cut: ending.kind === "cut",
      });
      stream = await request.open(missing, task.control.signal);
    }
  }

  /** Reads one stream to its end. Only the stream's own failures count as a cut; keeping an image can fail too. */
  private async read(task: Task, request: StreamedRequest, stream: OpenedStream): Promise<Ending> {
    const messages = stream.messages[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<SseMessage>;
        try {
          next = await messages.next();
        } catch (error) {
          if (task.control.signal.aborted) throw task.control.signal.reason;
          return { kind: "cut", cause: error };
        }
        if (next.done || next.value.data === "[DONE]") return { kind: "ended" };
        const ending = await this.take(task, request, next.value);
        if (ending) return ending;
      }
    } finally {
      // Whatever ended the reading, the connection is not read any further.
      void messages.return?.();
    }
  }

  /** One event: a partial image (the preview), a finished image, an error, or something to skip. */
  private async take(task: Task, request: StreamedRequest, message: SseMessage): Promise<Ending | undefined> {
    const data = this.parse(message);
    if (data === undefined) return { kind: "cut", cause: new Error("unreadable event") };
    if (isErrorEvent(message.event, data)) {
      return { kind: "failed", error: streamError(data, this.options.model, this.options.secrets) };
    }
    const completed = completedImageSchema.safeParse(data);
    if (completed.success) {
      const bytes = Buffer.from(completed.data.b64_json, "base64");
      task.images.push(await this.options.blobs.put(bytes, contentTypeOf(completed.data.output_format)));
      task.tokens += completed.data.usage?.total_tokens ?? 0;
      task.partialsSinceImage = 0;
      this.progress(task, request);
      return undefined;
    }
    const partial = partialImageSchema.safeParse(data);
    if (partial.success) {
      const preview = await previewOf(Buffer.from(partial.data.b64_json, "base64"));
      if (preview) task.snapshot.previewUrl = await this.options.blobs.put(preview, "image/jpeg");
      task.partialsSinceImage += 1;
      this.progress(task, request);
      return undefined;
    }
    this.options.logger.debug("OpenAI: skipped an event", { event: message.event });
    return undefined;
  }

  private parse(message: SseMessage): unknown {
    try {
      return JSON.parse(message.data);
    } catch {
      this.options.logger.warn("OpenAI: unreadable event in the stream", {
        event: message.event,
        excerpt: redactExcerpt(message.data, this.options.secrets, 120),
      });
      return undefined;
    }
  }

  /** Each image counts its partial images and itself; the set is done only when all are in. */
  private progress(task: Task, request: StreamedRequest): void {
    const steps = request.partials + 1;
    const done = task.images.length * steps + Math.min(request.partials, task.partialsSinceImage);
    const percent = Math.floor((100 * done) / (request.count * steps));
    task.snapshot.progress = Math.max(task.snapshot.progress ?? 0, Math.min(99, percent));
  }

  private failure(task: Task, error: unknown): Partial<TaskSnapshot> {
    const reason = task.control.signal.aborted ? task.control.signal.reason : error;
    if (reason instanceof Cancelled) return { status: "cancelled" };
    if (reason instanceof DeadlineReached) {
      const minutes = Math.round(this.options.maxDurationMs / 60_000);
      return {
        status: "failed",
        error: new ProviderError(
          "timeout",
          `OpenAI did not finish the images within ${minutes} minutes; the stream was closed (the request may have been billed).`,
          { code: "deadline", maybeSubmitted: true },
        ),
      };
    }
    const known = reason instanceof ProviderError ? reason : undefined;
    if (!known)
      this.options.logger.warn("OpenAI: task failed", { task: task.snapshot.taskId, error: String(reason) });
    return {
      status: "failed",
      error:
        known ?? new ProviderError("internal", "Atelier could not keep OpenAI's images.", { code: "store" }),
    };
  }

  private finish(task: Task, change: Partial<TaskSnapshot>): void {
    const { taskId } = task.snapshot;
    task.snapshot = {
      taskId,
      status: change.status ?? "failed",
      progress: change.progress ?? task.snapshot.progress,
      imageUrls: change.status === "completed" ? task.images : [],
      ...(change.usage ? { usage: change.usage } : {}),
      ...(change.error ? { error: change.error } : {}),
    };
    const forget = setTimeout(() => this.tasks.delete(taskId), this.options.retainMs);
    forget.unref();
  }
}

class DeadlineReached extends Error {}
class Cancelled extends Error {}
