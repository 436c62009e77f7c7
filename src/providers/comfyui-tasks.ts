// ComfyUI tasks over a pool of machines. A task takes a lease on the least busy machine that is up
// (src/providers/pool.ts) and keeps it until it ends; its id is `<machine index>:<prompt id>`, so
// after a restart `/history` of that machine still answers for it. Progress and preview frames come
// from the machine's websocket (comfyui-live.ts), the result from `/history` + `/view`, kept as
// blobs. A machine that stops answering is marked down and its tasks are started again on another
// one (self-hosted: nobody pays twice), the progress line saying so.
import { z } from "zod";
import type { ResultBlobs } from "../store/blobs.ts";
import { download, type Machine, machineError, type Work } from "./comfyui-files.ts";
import {
  executionErrorText,
  type HistoryEntry,
  historySchema,
  outcomeOf,
  parseTaskId,
  queueSchema,
  resultImages,
  stoppedAnswering,
  taskIdOf,
} from "./comfyui-wire.ts";
import type { ProviderLogger } from "./http.ts";
import type { InstancePool, Lease, PoolInstance } from "./pool.ts";
import { previewOf } from "./shared.ts";
import { ProviderError, type TaskSnapshot } from "./types.ts";

interface Task {
  taskId: string;
  machine: Machine;
  promptId: string;
  lease?: Lease;
  /** Absent for a task found again after a restart: it cannot be moved. */
  work?: Work;
  started: boolean;
  progress: number;
  note?: string;
  moving: boolean;
  preview?: { bytes: Buffer; fresh: boolean };
  previewUrl?: string;
  result?: TaskSnapshot;
}

export interface TaskBookOptions {
  pool: InstancePool;
  machines: Machine[];
  blobs: ResultBlobs;
  logger: ProviderLogger;
  /** A lease is given back after this long whatever happened (the job layer times the task out). */
  maxTaskDurationMs: number;
}

const anything = z.unknown();

export class TaskBook {
  private readonly tasks = new Map<string, Task>();
  private readonly byPrompt = new Map<string, Task>();

  constructor(private readonly options: TaskBookOptions) {}

  /** Live events from a machine's websocket. */
  readonly events = {
    started: (promptId: string) => {
      const task = this.byPrompt.get(promptId);
      if (task) task.started = true;
    },
    progress: (promptId: string, value: number, max: number) => {
      const task = this.byPrompt.get(promptId);
      if (!task || !(max > 0)) return;
      task.started = true;
      task.progress = Math.max(task.progress, Math.min(99, Math.floor((100 * value) / max)));
    },
    preview: (promptId: string, image: Buffer) => {
      const task = this.byPrompt.get(promptId);
      if (task) task.preview = { bytes: image, fresh: true };
    },
  };

  /** Starts `work` on the least busy machine that is up; another one when that one does not answer. */
  async submit(work: Work, signal?: AbortSignal): Promise<string> {
    const { pool, machines } = this.options;
    let avoid: PoolInstance | undefined;
    for (let tries = 0; ; tries += 1) {
      const lease = await pool.acquire(avoid);
      const machine = machines[lease.instance.index] as Machine;
      try {
        await machine.live.ensure();
        const promptId = await work(machine, signal);
        pool.markUp(machine.instance);
        return this.register(machine, promptId, lease, work).taskId;
      } catch (error) {
        lease.release();
        if (!stoppedAnswering(error) || tries + 1 >= pool.size) throw error;
        pool.markDown(machine.instance);
        avoid = machine.instance;
        this.options.logger.warn("ComfyUI: a machine did not answer; trying another", {
          url: machine.instance.url,
        });
      }
    }
  }

  private register(
    machine: Machine,
    promptId: string,
    lease: Lease | undefined,
    work: Work | undefined,
  ): Task {
    const task: Task = {
      taskId: taskIdOf(machine.instance.index, promptId),
      machine,
      promptId,
      lease,
      work,
      started: false,
      progress: 0,
      moving: false,
    };
    this.tasks.set(task.taskId, task);
    this.byPrompt.set(promptId, task);
    if (lease) {
      const deadline = setTimeout(() => lease.release(), this.options.maxTaskDurationMs);
      deadline.unref();
    }
    return task;
  }

  async fetch(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
    const task = this.tasks.get(taskId) ?? (await this.findAgain(taskId, signal));
    if (task.result) return task.result;
    if (task.moving) return this.running(task);
    let history: Record<string, HistoryEntry>;
    try {
      history = await task.machine.http.read(
        `/history/${encodeURIComponent(task.promptId)}`,
        historySchema,
        signal,
      );
    } catch (error) {
      if (stoppedAnswering(error) && task.work && this.options.pool.size > 1) return this.move(task);
      throw error;
    }
    this.options.pool.markUp(task.machine.instance);
    const entry = history[task.promptId];
    if (entry) return this.finish(task, entry, signal);
    return this.running(task);
  }

  /** A task this process did not start (a restart): its machine's history, then its queue. */
  private async findAgain(taskId: string, signal?: AbortSignal): Promise<Task> {
    const { index, promptId } = parseTaskId(taskId);
    const machine = this.options.machines[index];
    if (!machine)
      throw new ProviderError(
        "internal",
        `Task ${taskId} ran on machine ${index + 1} of COMFYUI_URL, which now lists ${this.options.machines.length}.`,
        { code: "task_not_found" },
      );
    const history = await machine.http.read(
      `/history/${encodeURIComponent(promptId)}`,
      historySchema,
      signal,
    );
    if (!history[promptId]) {
      const queue = await machine.http.read("/queue", queueSchema, signal);
      const listed = [...queue.queue_running, ...queue.queue_pending].some((item) => item[1] === promptId);
      if (!listed)
        throw new ProviderError(
          "internal",
          `ComfyUI at ${machine.instance.url} has no task ${promptId} (not queued, running or in its history): was it restarted, or does COMFYUI_URL point elsewhere now?`,
          { code: "task_not_found" },
        );
      void machine.live.ensure();
    }
    return this.tasks.get(taskId) ?? this.register(machine, promptId, undefined, undefined);
  }

  private async running(task: Task): Promise<TaskSnapshot> {
    if (task.preview?.fresh) {
      task.preview.fresh = false;
      const small = await previewOf(task.preview.bytes);
      if (small) task.previewUrl = await this.options.blobs.put(small, "image/jpeg");
    }
    return {
      taskId: task.taskId,
      status: task.started || task.moving ? "running" : "queued",
      progress: task.progress,
      imageUrls: [],
      ...(task.previewUrl ? { previewUrl: task.previewUrl } : {}),
      ...(task.note ? { note: task.note } : {}),
    };
  }

  private async finish(task: Task, entry: HistoryEntry, signal?: AbortSignal): Promise<TaskSnapshot> {
    const outcome = outcomeOf(entry);
    let snapshot: TaskSnapshot;
    if (outcome === "interrupted") snapshot = { taskId: task.taskId, status: "cancelled", imageUrls: [] };
    else if (outcome === "error")
      snapshot = {
        taskId: task.taskId,
        status: "failed",
        imageUrls: [],
        error: new ProviderError("internal", executionErrorText(entry), { code: "execution_error" }),
      };
    else {
      const refs = resultImages(entry);
      if (refs.length === 0)
        throw machineError(
          task.machine,
          "the workflow finished without saving an image (add a SaveImage node).",
          "no_images",
        );
      const imageUrls: string[] = [];
      for (const ref of refs) {
        const image = await download(task.machine, ref, signal);
        imageUrls.push(await this.options.blobs.put(image.bytes, image.type));
      }
      snapshot = {
        taskId: task.taskId,
        status: "completed",
        progress: 100,
        imageUrls,
        ...(task.note ? { note: task.note } : {}),
      };
    }
    this.end(task, snapshot);
    return snapshot;
  }

  private end(task: Task, snapshot: TaskSnapshot): void {
    task.result = snapshot;
    task.lease?.release();
    this.byPrompt.delete(task.promptId);
    // Kept a while so late polls read it; forgotten after.
    const forget = setTimeout(() => this.tasks.delete(task.taskId), 30 * 60_000);
    forget.unref();
  }

  /** The task's machine stopped answering: start the same work on another one, in the background. */
  private move(task: Task): Promise<TaskSnapshot> {
    const { pool, machines, logger } = this.options;
    const from = task.machine.instance.url;
    pool.markDown(task.machine.instance);
    task.lease?.release();
    task.moving = true;
    task.note = `moving to another machine: ${from} stopped answering`;
    logger.warn("ComfyUI: a machine stopped answering; starting its task again on another", {
      url: from,
      task: task.taskId,
    });
    void (async () => {
      const lease = await pool.acquire(task.machine.instance);
      const machine = machines[lease.instance.index] as Machine;
      try {
        await machine.live.ensure();
        const promptId = await (task.work as Work)(machine);
        this.byPrompt.delete(task.promptId);
        Object.assign(task, {
          machine,
          promptId,
          lease,
          started: false,
          note: `restarted on ${machine.instance.url}: ${from} stopped answering`,
        });
        this.byPrompt.set(promptId, task);
      } catch (error) {
        lease.release();
        const reason = error instanceof ProviderError ? error.message : String(error);
        this.end(task, {
          taskId: task.taskId,
          status: "failed",
          imageUrls: [],
          error: new ProviderError(
            "transient",
            `${from} stopped answering and the task could not start on ${machine.instance.url}: ${reason}`,
            { code: "failover" },
          ),
        });
      } finally {
        task.moving = false;
      }
    })();
    return this.running(task);
  }

  /** ❌: out of the queue when waiting, interrupted when running. */
  async cancel(taskId: string, signal?: AbortSignal): Promise<void> {
    const task = this.tasks.get(taskId) ?? (await this.findAgain(taskId, signal));
    if (task.result) return;
    const { http } = task.machine;
    const queue = await http.read("/queue", queueSchema, signal);
    const listedIn = (items: unknown[][]) => items.some((item) => item[1] === task.promptId);
    if (listedIn(queue.queue_pending)) {
      await http.requestJson({
        method: "POST",
        path: "/queue",
        body: { delete: [task.promptId] },
        schema: anything,
        idempotent: true,
        signal,
      });
      this.end(task, { taskId, status: "cancelled", imageUrls: [] });
    } else if (listedIn(queue.queue_running)) {
      await http.requestJson({
        method: "POST",
        path: "/interrupt",
        body: { prompt_id: task.promptId },
        schema: anything,
        idempotent: true,
        signal,
      });
    }
  }

  closeAll(): void {
    for (const task of this.tasks.values()) task.lease?.release();
  }
}
