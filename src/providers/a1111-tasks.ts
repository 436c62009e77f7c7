// AUTOMATIC1111 answers a txt2img only when the images are done (the request blocks; the server runs
// one job at a time), so the adapter keeps the task: it leases a machine from the pool (one job per
// machine), sends the request in the background, polls /sdapi/v1/progress meanwhile for the
// percentage and the live preview, and keeps the images as blobs. A machine that stops answering is
// marked down and the job starts again on another one, the progress line saying so. A task lives in
// this process only: after a restart the blocking request is gone and the task says so.
import sharp from "sharp";
import type { ResultBlobs } from "../store/blobs.ts";
import {
  emptySchema,
  imageBytes,
  imageTypeOf,
  type ProgressAnswer,
  parseInfo,
  progressSchema,
} from "./a1111-wire.ts";
import type { HttpClient, ProviderLogger } from "./http.ts";
import type { InstancePool, Lease } from "./pool.ts";
import { ProviderError, type TaskSnapshot } from "./types.ts";

/** One configured machine: a client for the long generation requests and one for quick reads. */
export interface A1111Instance {
  url: string;
  index: number;
  /** Headers timeout as long as a task may run: txt2img answers only when done. */
  job: HttpClient;
  read: HttpClient;
}

/** What a task runs on whichever machine it gets. */
export interface A1111Work {
  /** Sends the request; resolves with the answer's images (base64) and its `info`. */
  run(instance: A1111Instance, signal: AbortSignal): Promise<{ images: string[]; info?: string }>;
  /** Images the task must end with. */
  count: number;
  /** Poll /progress while it runs (generations; an upscale has no steps to show). */
  watch: boolean;
}

export interface A1111TasksOptions {
  pool: InstancePool;
  instances: readonly A1111Instance[];
  blobs: ResultBlobs;
  logger: ProviderLogger;
  pollIntervalMs: number;
  maxDurationMs: number;
  keepFinishedMs: number;
}

interface Task {
  id: string;
  snapshot: TaskSnapshot;
  control: AbortController;
  current?: A1111Instance;
  cancelled: boolean;
  lastPreview?: string;
}

/** Long side of a stored preview. */
const previewLongSide = 512;
/** Progress polls that fail in a row before the machine counts as gone. */
const maxPollFailures = 2;

class InstanceDown extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`${url} stopped answering`, { cause });
  }
}
class DeadlineReached extends Error {}

const answeredCodes = new Set(["unreadable_response", "bad_response"]);
const connectCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** The machine went away (connection refused, cut or silent), as opposed to an answer that said no. */
export function stoppedAnswering(error: unknown): boolean {
  if (error instanceof InstanceDown) return true;
  if (!(error instanceof ProviderError) || (error.kind !== "transient" && error.kind !== "timeout"))
    return false;
  // An HTTP status or a garbled body came from a machine that is there.
  return !/^\d+$/.test(error.code ?? "") && !answeredCodes.has(error.code ?? "");
}

/** An error in the admin's terms: a machine that cannot be reached names A1111_URL. */
function explained(error: unknown, url: string): ProviderError {
  if (error instanceof InstanceDown)
    return new ProviderError("transient", `A1111 at ${url} stopped answering during the job (A1111_URL).`, {
      code: "instance_down",
      cause: error,
    });
  if (error instanceof ProviderError && connectCodes.has(error.code ?? ""))
    return new ProviderError(
      "transient",
      `Could not connect to A1111 at ${url} (${error.code}): check A1111_URL, and that it runs with --api (and --listen when Atelier is on another machine).`,
      { code: error.code, cause: error },
    );
  if (error instanceof ProviderError) return error;
  return new ProviderError("internal", `Atelier could not keep A1111's images: ${String(error)}`, {
    cause: error,
  });
}

async function previewOf(encoded: string): Promise<Buffer | undefined> {
  try {
    return await sharp(imageBytes(encoded))
      .resize(previewLongSide, previewLongSide, { fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 75 })
      .toBuffer();
  } catch {
    return undefined;
  }
}

export class A1111Tasks {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly options: A1111TasksOptions) {}

  /** Runs `work` in the background (on `lease`'s machine, or the first free one). */
  start(id: string, work: A1111Work, lease?: Lease): void {
    const task: Task = {
      id,
      snapshot: { taskId: id, status: lease ? "running" : "queued", progress: 0, imageUrls: [] },
      control: new AbortController(),
      cancelled: false,
    };
    this.tasks.set(id, task);
    const deadline = setTimeout(() => task.control.abort(new DeadlineReached()), this.options.maxDurationMs);
    deadline.unref();
    void this.drive(task, work, lease)
      .then(
        (change) => this.finish(task, change),
        (error: unknown) => this.finish(task, this.failure(task, error)),
      )
      .finally(() => clearTimeout(deadline));
  }

  snapshot(id: string): TaskSnapshot | undefined {
    const task = this.tasks.get(id);
    return task ? { ...task.snapshot, imageUrls: [...task.snapshot.imageUrls] } : undefined;
  }

  /** Stops the task: a running one is interrupted on its machine (A1111 then answers with what it has). */
  async cancel(id: string): Promise<boolean> {
    const task = this.tasks.get(id);
    if (!task) return false;
    task.cancelled = true;
    if (task.snapshot.status === "queued") task.snapshot = { ...task.snapshot, status: "cancelled" };
    if (task.current) await this.interrupt(task.current);
    return true;
  }

  abortAll(): void {
    for (const task of this.tasks.values()) task.control.abort(new Error("Atelier is shutting down."));
  }

  private async interrupt(instance: A1111Instance): Promise<void> {
    await instance.read
      .requestJson({ method: "POST", path: "/sdapi/v1/interrupt", schema: emptySchema, idempotent: true })
      .catch((error: unknown) =>
        this.options.logger.warn("A1111: could not interrupt", { url: instance.url, error: String(error) }),
      );
  }

  /** Leases a machine, runs the work there, and moves it to another machine when this one goes away. */
  private async drive(task: Task, work: A1111Work, first?: Lease): Promise<Partial<TaskSnapshot>> {
    const { pool } = this.options;
    let lease = first ?? (await pool.acquire());
    for (let moves = 0; ; moves += 1) {
      if (task.cancelled) {
        lease.release();
        return { status: "cancelled" };
      }
      const instance = this.options.instances[lease.instance.index] as A1111Instance;
      task.current = instance;
      task.snapshot.status = "running";
      let answer: { images: string[]; info?: string };
      try {
        answer = await this.runOn(task, work, instance);
      } catch (error) {
        task.current = undefined;
        const gone = !task.cancelled && stoppedAnswering(error);
        if (gone) pool.markDown(lease.instance);
        lease.release();
        if (!gone) throw explained(error, instance.url);
        if (moves >= pool.size - 1) throw explained(error, instance.url);
        const from = lease.instance;
        lease = await pool.acquire(from);
        task.snapshot.note = `restarted on ${lease.instance.url}: ${from.url} stopped answering`;
        this.options.logger.warn("A1111: a machine stopped answering; the job starts again elsewhere", {
          task: task.id,
          from: from.url,
          to: lease.instance.url,
        });
        continue;
      }
      task.current = undefined;
      pool.markUp(lease.instance);
      lease.release();
      return this.keep(task, work, answer);
    }
  }

  /** The request on one machine, its progress polled meanwhile; the machine counts as gone when polls fail. */
  private async runOn(task: Task, work: A1111Work, instance: A1111Instance) {
    const control = new AbortController();
    const onAbort = () => control.abort(task.control.signal.reason);
    task.control.signal.addEventListener("abort", onAbort);
    let settled = false;
    try {
      const generation = work.run(instance, control.signal).finally(() => {
        settled = true;
      });
      if (work.watch) void this.watch(task, instance, control, () => settled);
      const answer = await generation.catch((error: unknown) => {
        const reason: unknown = control.signal.reason;
        throw reason instanceof InstanceDown || reason instanceof DeadlineReached ? reason : error;
      });
      if (work.watch && !task.cancelled) await this.checkInterrupted(instance);
      return answer;
    } finally {
      settled = true;
      task.control.signal.removeEventListener("abort", onAbort);
    }
  }

  private async watch(task: Task, instance: A1111Instance, control: AbortController, done: () => boolean) {
    let failures = 0;
    while (!done()) {
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
      if (done()) return;
      try {
        const path = "/sdapi/v1/progress?skip_current_image=false";
        const answer = await instance.read.read(path, progressSchema, control.signal);
        failures = 0;
        if (!done()) await this.update(task, answer);
      } catch (error) {
        if (done() || control.signal.aborted) return;
        failures += 1;
        if (stoppedAnswering(error) && failures >= maxPollFailures) {
          control.abort(new InstanceDown(instance.url, error));
          return;
        }
      }
    }
  }

  private async update(task: Task, answer: ProgressAnswer): Promise<void> {
    if ((answer.state.job_count ?? 0) === 0) return;
    // An interrupt that reached the machine before the job began was lost (a job starts uninterrupted).
    if (task.cancelled && !answer.state.interrupted && task.current) void this.interrupt(task.current);
    const percent = Math.min(99, Math.round(answer.progress * 100));
    task.snapshot.progress = Math.max(task.snapshot.progress ?? 0, percent);
    const image = answer.current_image;
    if (!image || image === task.lastPreview) return;
    task.lastPreview = image;
    const preview = await previewOf(image);
    if (preview) task.snapshot.previewUrl = await this.options.blobs.put(preview, "image/jpeg");
  }

  /** A job interrupted on the machine itself (its web UI's Interrupt) still answers 200: ask. */
  private async checkInterrupted(instance: A1111Instance): Promise<void> {
    const answer = await instance.read
      .read("/sdapi/v1/progress?skip_current_image=true", progressSchema)
      .catch(() => undefined);
    if (answer?.state.interrupted)
      throw new ProviderError(
        "transient",
        `The job was interrupted on A1111 at ${instance.url} (someone pressed Interrupt there), so its images are unfinished. Press 🔄 to run it again.`,
        { code: "interrupted" },
      );
  }

  private async keep(task: Task, work: A1111Work, answer: { images: string[]; info?: string }) {
    if (task.cancelled) return { status: "cancelled" as const };
    const first = parseInfo(answer.info).index_of_first_image ?? 0;
    const images = answer.images.slice(first, first + work.count);
    if (images.length < work.count)
      throw new ProviderError(
        "internal",
        `A1111 answered with ${images.length} images instead of ${work.count}.`,
        { code: "missing_images" },
      );
    const imageUrls = await Promise.all(
      images.map((encoded) => {
        const bytes = imageBytes(encoded);
        return this.options.blobs.put(bytes, imageTypeOf(bytes));
      }),
    );
    return { status: "completed" as const, progress: 100, imageUrls };
  }

  private failure(task: Task, error: unknown): Partial<TaskSnapshot> {
    const reason: unknown = task.control.signal.aborted ? task.control.signal.reason : error;
    if (task.cancelled) return { status: "cancelled" };
    if (reason instanceof DeadlineReached) {
      if (task.current) void this.interrupt(task.current);
      const minutes = Math.round(this.options.maxDurationMs / 60_000);
      return {
        status: "failed",
        error: new ProviderError("timeout", `A1111 did not finish the images within ${minutes} minutes.`, {
          code: "deadline",
        }),
      };
    }
    const known = error instanceof ProviderError ? error : explained(error, task.current?.url ?? "?");
    return { status: "failed", error: known };
  }

  private finish(task: Task, change: Partial<TaskSnapshot>): void {
    const { taskId } = task.snapshot;
    task.snapshot = {
      ...task.snapshot,
      status: change.status ?? "failed",
      progress: change.progress ?? task.snapshot.progress,
      imageUrls: change.status === "completed" ? (change.imageUrls ?? []) : [],
      ...(change.error ? { error: change.error } : {}),
    };
    if (change.status !== "running") delete task.snapshot.previewUrl;
    const forget = setTimeout(() => this.tasks.delete(taskId), this.options.keepFinishedMs);
    forget.unref();
  }
}
