// Emulator of the simple hosted "Midjourney API" shape (seed 000, reference/image-apis.md §2):
//   POST {BASE}/imagine {prompt, webhook_url?} → {task_id}
//   GET  {BASE}/tasks/{id} → {task_id, status, progress, images, error?}
//   POST {BASE}/upscale {task_id, index 1–4} → {task_id}
// Bearer auth, tasks that progress over time, result images served by the emulator itself, webhooks
// on every change (to 127.0.0.1 only) and fault knobs for the contract tests.
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  asRecord,
  deliverWebhook,
  type EmulatorHandle,
  type Reply,
  type StuckAt,
  sendText,
  serveApi,
  type WebhookDelivery,
} from "./http.ts";
import { aspectOf, makeResultImage, sizeForAspect } from "./images.ts";

export type MjapiStatus = "pending" | "processing" | "completed" | "failed";

export interface MjapiEmulatorOptions {
  apiKey?: string;
  /** Time from create to completion; keep it short in tests. */
  durationMs?: number;
  /** Longer side of each result image in pixels (upscales are twice this). */
  imageLongSide?: number;
  maxPromptLength?: number;
}

export interface MjapiKnobs {
  /** Words that make /imagine answer 400 "rejected by moderation". */
  refuseWords: string[];
  /** Creates (imagine + upscale) allowed before 402; Infinity = unlimited. */
  credits: number;
  /** Tasks created while set stop progressing (at 93% processing, or pending). */
  neverFinish: StuckAt;
  /** Tasks created while set end `failed` with this error text (e.g. a mid-run moderation stop). */
  failTasksWith: string | undefined;
}

/** `baseUrl` includes the `/v1` prefix; truncated answers are 200 with half of the JSON. */
export interface MjapiEmulator extends EmulatorHandle<MjapiKnobs> {
  webhooks: WebhookDelivery[];
}

interface EmulatedTask {
  id: string;
  kind: "imagine" | "upscale";
  prompt: string;
  aspect: string | undefined;
  /** For upscales: the 1-based image of the parent that was upscaled. */
  upscaleIndex?: number;
  status: MjapiStatus;
  progress: number;
  error?: string;
  webhookUrl?: string;
  stuckAt: StuckAt;
  failWith: string | undefined;
  step: number;
}

/** Progress reported at each tick while processing; the task completes after the last one. */
const progressSteps = [0, 15, 30, 45, 60, 75, 93];
const stuckProgress = 93;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startMjapiEmulator(options: MjapiEmulatorOptions = {}): Promise<MjapiEmulator> {
  const apiKey = options.apiKey ?? "test-mjapi-key";
  const durationMs = options.durationMs ?? 400;
  const longSide = options.imageLongSide ?? 256;
  const maxPromptLength = options.maxPromptLength ?? 6000;
  const tickMs = Math.max(1, Math.round(durationMs / (progressSteps.length + 1)));

  const tasks = new Map<string, EmulatedTask>();
  const timers = new Set<NodeJS.Timeout>();
  const imageCache = new Map<string, Buffer>();
  const webhooks: WebhookDelivery[] = [];
  const knobs: MjapiKnobs = {
    refuseWords: [],
    credits: Number.POSITIVE_INFINITY,
    neverFinish: false,
    failTasksWith: undefined,
  };
  let origin = "";

  const imageUrlsOf = (task: EmulatedTask): string[] => {
    const count = task.kind === "upscale" ? 1 : 4;
    return Array.from({ length: count }, (_, n) => `${origin}/v1/files/${task.id}/${n + 1}.png`);
  };

  const taskView = (task: EmulatedTask) => ({
    task_id: task.id,
    status: task.status,
    progress: task.progress,
    images: task.status === "completed" ? imageUrlsOf(task) : [],
    ...(task.error === undefined ? {} : { error: task.error }),
  });

  function notify(task: EmulatedTask): void {
    const url = task.webhookUrl;
    if (url === undefined) return;
    webhooks.push(deliverWebhook(url, taskView(task)));
  }

  /** Moves a task one step on; reschedules itself until the task ends or gets stuck. */
  function advance(task: EmulatedTask): void {
    if (task.status === "pending") {
      if (task.stuckAt === "submitted") return;
      task.status = "processing";
      task.progress = 0;
    } else if (task.failWith !== undefined && task.step >= 2) {
      task.status = "failed";
      task.error = task.failWith;
    } else if (task.step < progressSteps.length - 1) {
      task.step += 1;
      task.progress = progressSteps[task.step] ?? 0;
    } else if (task.stuckAt === "in-progress") {
      task.progress = stuckProgress;
      return;
    } else {
      task.status = "completed";
      task.progress = 100;
    }
    notify(task);
    if (task.status === "processing") schedule(task);
  }

  function schedule(task: EmulatedTask): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      advance(task);
    }, tickMs);
    timers.add(timer);
  }

  function createTask(
    fields: Pick<EmulatedTask, "kind" | "prompt" | "aspect" | "upscaleIndex" | "webhookUrl">,
  ) {
    if (knobs.credits <= 0) throw new HttpProblem(402, "insufficient credits: top up your balance");
    knobs.credits -= 1;
    const task: EmulatedTask = {
      ...fields,
      id: randomUUID(),
      status: "pending",
      progress: 0,
      stuckAt: knobs.neverFinish,
      failWith: knobs.failTasksWith,
      step: 0,
    };
    tasks.set(task.id, task);
    schedule(task);
    return task;
  }

  function handleImagine(body: unknown) {
    const record = asRecord(body);
    const prompt = record.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") throw new HttpProblem(400, "prompt is required");
    if (prompt.length > maxPromptLength) {
      throw new HttpProblem(400, `prompt is too long (at most ${maxPromptLength} characters)`);
    }
    const webhookUrl = record.webhook_url;
    if (webhookUrl !== undefined && (typeof webhookUrl !== "string" || !URL.canParse(webhookUrl))) {
      throw new HttpProblem(400, "webhook_url must be a URL");
    }
    const aspect = aspectOf(prompt);
    if (aspect === null) throw new HttpProblem(422, "invalid --ar value: use width:height, e.g. 16:9");
    const banned = knobs.refuseWords.find((word) => prompt.toLowerCase().includes(word.toLowerCase()));
    if (banned !== undefined) {
      throw new HttpProblem(400, `prompt rejected by moderation: banned word "${banned}"`);
    }
    const task = createTask({ kind: "imagine", prompt, aspect, webhookUrl });
    return { task_id: task.id };
  }

  function handleUpscale(body: unknown) {
    const record = asRecord(body);
    const parent = typeof record.task_id === "string" ? tasks.get(record.task_id) : undefined;
    if (parent === undefined) throw new HttpProblem(404, "task not found");
    const index = record.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > 4) {
      throw new HttpProblem(400, "index must be 1, 2, 3 or 4");
    }
    if (parent.kind !== "imagine") throw new HttpProblem(400, "only an image set can be upscaled");
    if (parent.status !== "completed") throw new HttpProblem(400, "task is not completed yet");
    const task = createTask({
      kind: "upscale",
      prompt: parent.prompt,
      aspect: parent.aspect,
      upscaleIndex: index,
      webhookUrl: parent.webhookUrl,
    });
    return { task_id: task.id };
  }

  function handleFetch(id: string) {
    const task = tasks.get(id);
    if (task === undefined) throw new HttpProblem(404, "task not found");
    return taskView(task);
  }

  async function serveImage(response: ServerResponse, taskId: string, file: string): Promise<void> {
    const task = tasks.get(taskId);
    const n = Number(/^(\d)\.png$/.exec(file)?.[1]);
    if (task === undefined || task.status !== "completed" || !(n >= 1 && n <= imageUrlsOf(task).length)) {
      sendText(response, 404, "not found");
      return;
    }
    const key = `${taskId}/${n}`;
    let image = imageCache.get(key);
    if (image === undefined) {
      const upscale = task.kind === "upscale";
      const size = sizeForAspect(task.aspect, upscale ? longSide * 2 : longSide);
      image = await makeResultImage({ ...size, index: (upscale ? (task.upscaleIndex ?? 1) : n) - 1 });
      imageCache.set(key, image);
    }
    response.writeHead(200, { "content-type": "image/png", "content-length": image.length });
    response.end(image);
  }

  function route(method: string, path: string, body: unknown): unknown {
    if (method === "POST" && path === "/imagine") return handleImagine(body);
    if (method === "POST" && path === "/upscale") return handleUpscale(body);
    const fetchMatch = /^\/tasks\/([^/]+)$/.exec(path);
    if (method === "GET" && fetchMatch) return handleFetch(decodeURIComponent(fetchMatch[1] ?? ""));
    throw new HttpProblem(404, `no route for ${method} ${path}`);
  }

  /** The API's answer to an authorized request. */
  function answer(method: string, path: string, body: unknown): Reply {
    try {
      return { status: 200, body: route(method, path, body) };
    } catch (problem) {
      if (!(problem instanceof HttpProblem)) throw problem;
      return { status: problem.status, body: { error: problem.message } };
    }
  }

  const served = await serveApi(
    {
      prefix: "/v1",
      authorize: (request) => {
        const authHeader = request.headers.authorization;
        return { hasAuthHeader: authHeader !== undefined, authorized: authHeader === `Bearer ${apiKey}` };
      },
      answer,
      // Result images stand in for a CDN: public, and not part of the recorded API traffic.
      serveFile: async (pathname, response) => {
        if (!pathname.startsWith("/v1/files/")) return false;
        const [, , , taskId = "", file = ""] = pathname.split("/");
        await serveImage(response, taskId, file);
        return true;
      },
      notFound: { status: 404, body: { error: "not found" } },
      unauthorized: { status: 401, body: { error: "invalid or missing API key" } },
      notJson: { status: 400, body: { error: "body must be JSON" } },
      crashBody: (error) => ({ error: String(error) }),
    },
    timers,
  );
  origin = served.origin;

  return {
    ...served.handle,
    baseUrl: `${origin}/v1`,
    webhooks,
    knobs,
    taskIds: () => [...tasks.keys()],
  };
}
