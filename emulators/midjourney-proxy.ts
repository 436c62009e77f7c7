// Emulator of the midjourney-proxy protocol (novicezk / trueai forks, reference/image-apis.md §3),
// mounted under `/mj`: submit/imagine|change|action|blend|describe, task/{id}/fetch,
// task/list-by-condition. Submit answers are HTTP 200 with a `code` (1 ok, 3 not found, 4 invalid,
// 21 exists, 22 queued, 23 queue full, 24 banned prompt); tasks run NOT_START → SUBMITTED →
// IN_PROGRESS "n%" → SUCCESS|FAILURE, with a real 2×2 grid at `imageUrl`, the split images at
// `imageUrls` and trueai-style `buttons` (both can be switched off, like the original server).
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import sharp from "sharp";
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

export type ProxyAction = "IMAGINE" | "UPSCALE" | "VARIATION" | "REROLL" | "BLEND" | "DESCRIBE";
export type ProxyStatus = "NOT_START" | "SUBMITTED" | "MODAL" | "IN_PROGRESS" | "SUCCESS" | "FAILURE";

export interface MidjourneyProxyEmulatorOptions {
  /** When set, every API call needs header `mj-api-secret: <apiSecret>`; when absent, none. */
  apiSecret?: string;
  /** Time from start to SUCCESS; keep it short in tests. */
  durationMs?: number;
  /** Longer side of one tile in pixels (the grid is twice that; upscales are twice that too). */
  imageLongSide?: number;
  /** Tasks running at once (a Midjourney account runs 3); further tasks wait (code 22). */
  concurrency?: number;
  /** Waiting tasks accepted before code 23 "queue full". */
  queueSize?: number;
}

export interface MidjourneyProxyKnobs {
  /** Words that make imagine answer code 24 naming the word. */
  bannedWords: string[];
  /** Tasks created while set stop progressing: at "93%" IN_PROGRESS, or in SUBMITTED. */
  neverFinish: StuckAt;
  /** Tasks created while set end FAILURE with this failReason. */
  failTasksWith: string | undefined;
  /** trueai-style `buttons` on finished tasks; false = the original novicezk server (none). */
  buttons: boolean;
  /** `imageUrls` (the 4 split images); false = only the grid at `imageUrl`. */
  splitImages: boolean;
}

/** `baseUrl` includes `/mj`; truncated answers are 200 with half of the JSON. */
export interface MidjourneyProxyEmulator extends EmulatorHandle<MidjourneyProxyKnobs> {
  webhooks: WebhookDelivery[];
}

interface ProxyTask {
  id: string;
  action: ProxyAction;
  prompt: string;
  description: string;
  state: string | undefined;
  status: ProxyStatus;
  /** 0..100; shown as "n%". */
  progress: number;
  failReason: string | undefined;
  submitTime: number;
  startTime?: number;
  finishTime?: number;
  aspect: string | undefined;
  /** What each finished image shows: index colours 1..4 for a set, one colour for an upscale. */
  tileIndexes: number[];
  /** The Discord message hash that button customIds carry. */
  hash: string;
  notifyHook: string | undefined;
  parentId?: string;
  parentIndex?: number;
  /** Upscales a little further ("Upscale (Subtle/Creative)") are twice the size again. */
  scale: number;
  sourceImage?: Buffer;
  stuckAt: StuckAt;
  failWith: string | undefined;
  step: number;
}

const progressSteps = [0, 15, 30, 42, 60, 78, 93];
const setActions = new Set<ProxyAction>(["IMAGINE", "VARIATION", "REROLL", "BLEND"]);
const blendAspects: Record<string, string> = { PORTRAIT: "2:3", SQUARE: "1:1", LANDSCAPE: "3:2" };

/** A submit answered with a non-1 code (still HTTP 200, as the proxy does). */
class SubmitRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly properties: Record<string, unknown> = {},
    readonly result?: string,
  ) {
    super(message);
  }
}

function buttonsFor(
  task: ProxyTask,
): { customId: string; emoji: string; label: string; type: 2; style: number }[] {
  const button = (customId: string, label: string, emoji = "", style = 2) => ({
    customId,
    emoji,
    label,
    type: 2 as const,
    style,
  });
  if (task.action === "DESCRIBE") return [];
  if (task.action === "UPSCALE") {
    return [
      button(`MJ::JOB::upsample_v6_2x_subtle::1::${task.hash}::SOLO`, "Upscale (Subtle)"),
      button(`MJ::JOB::upsample_v6_2x_creative::1::${task.hash}::SOLO`, "Upscale (Creative)"),
      button(`MJ::JOB::low_variation::1::${task.hash}::SOLO`, "Vary (Subtle)", "🪄"),
      button(`MJ::JOB::high_variation::1::${task.hash}::SOLO`, "Vary (Strong)", "🪄"),
    ];
  }
  return [
    ...[1, 2, 3, 4].map((n) => button(`MJ::JOB::upsample::${n}::${task.hash}`, `U${n}`)),
    button(`MJ::JOB::reroll::0::${task.hash}::SOLO`, "", "🔄", 1),
    ...[1, 2, 3, 4].map((n) => button(`MJ::JOB::variation::${n}::${task.hash}`, `V${n}`)),
  ];
}

export async function startMidjourneyProxyEmulator(
  options: MidjourneyProxyEmulatorOptions = {},
): Promise<MidjourneyProxyEmulator> {
  const durationMs = options.durationMs ?? 400;
  const longSide = options.imageLongSide ?? 128;
  const concurrency = options.concurrency ?? 3;
  const queueSize = options.queueSize ?? 10;
  const tickMs = Math.max(1, Math.round(durationMs / (progressSteps.length + 1)));

  const tasks = new Map<string, ProxyTask>();
  const waiting: ProxyTask[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const imageCache = new Map<string, Promise<Buffer>>();
  const webhooks: WebhookDelivery[] = [];
  const knobs: MidjourneyProxyKnobs = {
    bannedWords: [],
    neverFinish: false,
    failTasksWith: undefined,
    buttons: true,
    splitImages: true,
  };
  let origin = "";

  const fileUrl = (task: ProxyTask, file: string) => `${origin}/attachments/${task.id}/${file}`;

  function imageUrlOf(task: ProxyTask): string | null {
    if (task.action === "DESCRIBE") return task.sourceImage ? fileUrl(task, "source.png") : null;
    if (task.status === "SUCCESS") return fileUrl(task, task.action === "UPSCALE" ? "1.png" : "grid.png");
    // While running, the proxy shows Midjourney's blurry in-progress grid.
    if (task.status === "IN_PROGRESS" && task.progress > 0 && setActions.has(task.action)) {
      return fileUrl(task, "preview.png");
    }
    return null;
  }

  function taskView(task: ProxyTask) {
    const done = task.status === "SUCCESS";
    const splitUrls =
      done && setActions.has(task.action) && knobs.splitImages
        ? { imageUrls: [1, 2, 3, 4].map((n) => fileUrl(task, `${n}.png`)) }
        : {};
    const buttons = knobs.buttons ? { buttons: done ? buttonsFor(task) : [] } : {};
    return {
      id: task.id,
      action: task.action,
      customId: "",
      botType: "MID_JOURNEY",
      prompt: task.prompt,
      promptEn: task.prompt,
      description: task.description,
      state: task.state ?? null,
      submitTime: task.submitTime,
      startTime: task.startTime ?? null,
      finishTime: task.finishTime ?? null,
      imageUrl: imageUrlOf(task),
      ...splitUrls,
      status: task.status,
      progress: `${task.progress}%`,
      failReason: task.failReason ?? null,
      ...buttons,
      properties: {
        finalPrompt: task.prompt,
        messageHash: task.hash,
        ...(task.notifyHook === undefined ? {} : { notifyHook: task.notifyHook }),
      },
    };
  }

  function notify(task: ProxyTask): void {
    if (task.notifyHook !== undefined) webhooks.push(deliverWebhook(task.notifyHook, taskView(task)));
  }

  const runningCount = () =>
    [...tasks.values()].filter((task) => task.status === "SUBMITTED" || task.status === "IN_PROGRESS").length;

  function schedule(task: ProxyTask): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      advance(task);
    }, tickMs);
    timers.add(timer);
  }

  function start(task: ProxyTask): void {
    task.status = "SUBMITTED";
    task.startTime = Date.now();
    notify(task);
    schedule(task);
  }

  function finish(task: ProxyTask, status: "SUCCESS" | "FAILURE"): void {
    task.status = status;
    task.finishTime = Date.now();
    if (status === "SUCCESS") task.progress = 100;
    notify(task);
    const next = waiting.shift();
    if (next !== undefined) start(next);
  }

  /** Moves a running task one step on; stuck tasks keep their slot, as on a real account. */
  function advance(task: ProxyTask): void {
    if (task.status === "SUBMITTED") {
      if (task.stuckAt === "submitted") return;
      task.status = "IN_PROGRESS";
      task.progress = 0;
    } else if (task.failWith !== undefined && task.step >= 2) {
      task.failReason = task.failWith;
      finish(task, "FAILURE");
      return;
    } else if (task.step < progressSteps.length - 1) {
      task.step += 1;
      task.progress = progressSteps[task.step] ?? 0;
    } else if (task.stuckAt === "in-progress") {
      return;
    } else {
      finish(task, "SUCCESS");
      return;
    }
    notify(task);
    schedule(task);
  }

  /** Creates a task and starts it or queues it; the answer's code says which. */
  function submitTask(
    fields: Omit<
      ProxyTask,
      "id" | "status" | "progress" | "submitTime" | "hash" | "step" | "failReason" | "stuckAt" | "failWith"
    >,
  ) {
    const mustWait = runningCount() >= concurrency;
    if (mustWait && waiting.length >= queueSize) {
      throw new SubmitRefusal(23, "queue is full, please try again later", {
        numberOfQueues: waiting.length,
      });
    }
    const task: ProxyTask = {
      ...fields,
      id: `${Date.now()}${String(tasks.size).padStart(4, "0")}`,
      status: "NOT_START",
      progress: 0,
      failReason: undefined,
      submitTime: Date.now(),
      hash: randomUUID(),
      stuckAt: knobs.neverFinish,
      failWith: knobs.failTasksWith,
      step: 0,
    };
    tasks.set(task.id, task);
    if (!mustWait) {
      start(task);
      return { code: 1, description: "Submit success", result: task.id, properties: {} };
    }
    const ahead = waiting.length;
    waiting.push(task);
    return {
      code: 22,
      description: `In queue, there are ${ahead} tasks ahead`,
      result: task.id,
      properties: { numberOfQueues: ahead },
    };
  }

  const notifyHookOf = (record: Record<string, unknown>) =>
    typeof record.notifyHook === "string" && record.notifyHook !== "" ? record.notifyHook : undefined;
  const stateOf = (record: Record<string, unknown>) =>
    typeof record.state === "string" ? record.state : undefined;

  function handleImagine(record: Record<string, unknown>) {
    const prompt = record.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") {
      throw new SubmitRefusal(4, "prompt must not be empty");
    }
    const images = record.base64Array ?? [];
    if (!Array.isArray(images) || !images.every(isDataUrl)) {
      throw new SubmitRefusal(4, "base64 format error: use data:image/png;base64,…");
    }
    const banned = knobs.bannedWords.find((word) => prompt.toLowerCase().includes(word.toLowerCase()));
    if (banned !== undefined) {
      throw new SubmitRefusal(24, "May contain sensitive words", { promptEn: prompt, bannedWord: banned });
    }
    const aspect = aspectOf(prompt);
    if (aspect === null) throw new SubmitRefusal(4, "invalid --ar parameter");
    return submitTask({
      action: "IMAGINE",
      prompt,
      description: `/imagine ${prompt}`,
      state: stateOf(record),
      aspect,
      tileIndexes: [1, 2, 3, 4],
      notifyHook: notifyHookOf(record),
      scale: 1,
    });
  }

  function parentOf(record: Record<string, unknown>): ProxyTask {
    const parent = typeof record.taskId === "string" ? tasks.get(record.taskId) : undefined;
    if (parent === undefined) throw new SubmitRefusal(3, "the related task does not exist or has expired");
    if (parent.status !== "SUCCESS") throw new SubmitRefusal(4, "the related task has not finished");
    return parent;
  }

  /** One follow-up on a finished task; `index` is 1-based (0 for a re-roll). */
  function followUp(
    parent: ProxyTask,
    kind: "upscale" | "variation" | "reroll",
    index: number,
    record: Record<string, unknown>,
  ) {
    const common = {
      state: stateOf(record),
      aspect: parent.aspect,
      notifyHook: notifyHookOf(record),
      parentId: parent.id,
      parentIndex: index,
      prompt: parent.prompt,
    };
    if (kind === "upscale") {
      const existing = [...tasks.values()].find(
        (task) => task.action === "UPSCALE" && task.parentId === parent.id && task.parentIndex === index,
      );
      // Upscaling the same image twice answers with the task that already did it.
      if (existing !== undefined) {
        return { code: 21, description: "Task already exists", result: existing.id, properties: {} };
      }
      const tile = parent.tileIndexes[index - 1] ?? index;
      const scale = parent.action === "UPSCALE" ? parent.scale * 2 : 2;
      return submitTask({
        ...common,
        action: "UPSCALE",
        description: `/up ${parent.id} U${index}`,
        tileIndexes: [tile],
        scale,
      });
    }
    const action = kind === "variation" ? "VARIATION" : "REROLL";
    const label = kind === "variation" ? `V${index}` : "R";
    return submitTask({
      ...common,
      action,
      description: `/up ${parent.id} ${label}`,
      tileIndexes: [1, 2, 3, 4],
      scale: 1,
    });
  }

  function handleChange(record: Record<string, unknown>) {
    const action = record.action;
    if (action !== "UPSCALE" && action !== "VARIATION" && action !== "REROLL") {
      throw new SubmitRefusal(4, "action must be UPSCALE, VARIATION or REROLL");
    }
    const index = record.index;
    const needsIndex = action !== "REROLL";
    if (needsIndex && (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > 4)) {
      throw new SubmitRefusal(4, "index must be 1 to 4");
    }
    const parent = parentOf(record);
    if (!setActions.has(parent.action)) throw new SubmitRefusal(4, "the related task cannot be changed");
    const kind = action === "UPSCALE" ? "upscale" : action === "VARIATION" ? "variation" : "reroll";
    return followUp(parent, kind, needsIndex ? (index as number) : 0, record);
  }

  function handleAction(record: Record<string, unknown>) {
    const customId = record.customId;
    if (typeof customId !== "string" || customId === "") {
      throw new SubmitRefusal(4, "customId must not be empty");
    }
    const parent = parentOf(record);
    if (!buttonsFor(parent).some((button) => button.customId === customId)) {
      throw new SubmitRefusal(4, "customId is not one of the task's buttons");
    }
    const [, , job = "", indexText = "0"] = customId.split("::");
    const index = Number(indexText);
    if (job.startsWith("upsample")) return followUp(parent, "upscale", index, record);
    if (job === "reroll") return followUp(parent, "reroll", 0, record);
    return followUp(parent, "variation", index, record);
  }

  function handleBlend(record: Record<string, unknown>) {
    const images = record.base64Array;
    if (!Array.isArray(images) || images.length < 2 || images.length > 5 || !images.every(isDataUrl)) {
      throw new SubmitRefusal(4, "base64Array must hold 2 to 5 images as data URLs");
    }
    const dimensions = record.dimensions ?? "SQUARE";
    const aspect = typeof dimensions === "string" ? blendAspects[dimensions] : undefined;
    if (aspect === undefined) throw new SubmitRefusal(4, "dimensions must be PORTRAIT, SQUARE or LANDSCAPE");
    return submitTask({
      action: "BLEND",
      prompt: "",
      description: `/blend ${images.length} images`,
      state: stateOf(record),
      aspect,
      tileIndexes: [1, 2, 3, 4],
      notifyHook: notifyHookOf(record),
      scale: 1,
    });
  }

  function handleDescribe(record: Record<string, unknown>) {
    if (!isDataUrl(record.base64)) throw new SubmitRefusal(4, "base64 must be an image data URL");
    const sourceImage = Buffer.from(record.base64.slice(record.base64.indexOf(",") + 1), "base64");
    return submitTask({
      action: "DESCRIBE",
      prompt: "",
      description: "/describe",
      state: stateOf(record),
      aspect: undefined,
      tileIndexes: [],
      notifyHook: notifyHookOf(record),
      scale: 1,
      sourceImage,
    });
  }

  /** A describe's text appears when it finishes, as Midjourney's four numbered suggestions. */
  function withDescription(task: ProxyTask): ProxyTask {
    if (task.action === "DESCRIBE" && task.status === "SUCCESS" && task.prompt === "") {
      task.prompt = ["1️⃣ a flat colour field", "2️⃣ a solid square", "3️⃣ minimalism", "4️⃣ a test card"]
        .map((line) => `${line} --ar 1:1`)
        .join("\n\n");
    }
    return task;
  }

  function submitRoute(path: string, record: Record<string, unknown>) {
    switch (path) {
      case "/submit/imagine":
        return handleImagine(record);
      case "/submit/change":
        return handleChange(record);
      case "/submit/action":
        // The original novicezk server has no buttons and no action endpoint.
        return knobs.buttons ? handleAction(record) : undefined;
      case "/submit/blend":
        return handleBlend(record);
      case "/submit/describe":
        return handleDescribe(record);
      default:
        return undefined;
    }
  }

  /** The JSON answer of a call, or undefined for no such route; null is a real "null" answer. */
  function route(method: string, path: string, body: unknown): { status: number; body: unknown } | undefined {
    if (method === "POST" && path.startsWith("/submit/")) {
      try {
        const answer = submitRoute(path, asRecord(body));
        return answer === undefined ? undefined : { status: 200, body: answer };
      } catch (refusal) {
        if (!(refusal instanceof SubmitRefusal)) throw refusal;
        const { code, message, properties, result } = refusal;
        return { status: 200, body: { code, description: message, result: result ?? null, properties } };
      }
    }
    const fetchMatch = /^\/task\/([^/]+)\/fetch$/.exec(path);
    if (method === "GET" && fetchMatch) {
      const task = tasks.get(decodeURIComponent(fetchMatch[1] ?? ""));
      // The Java server answers an unknown id with an empty 200 body (a null task).
      return { status: 200, body: task === undefined ? undefined : taskView(withDescription(task)) };
    }
    if (method === "POST" && path === "/task/list-by-condition") {
      const ids = asRecord(body).ids;
      const list = Array.isArray(ids) ? ids.flatMap((id) => tasks.get(String(id)) ?? []) : [];
      return { status: 200, body: list.map((task) => taskView(withDescription(task))) };
    }
    return undefined;
  }

  async function renderTile(task: ProxyTask, n: number): Promise<Buffer> {
    const size = sizeForAspect(task.aspect, longSide * task.scale);
    return makeResultImage({ ...size, index: (task.tileIndexes[n - 1] ?? n) - 1 });
  }

  /** Midjourney's own 2×2 grid: the four tiles side by side, composed with sharp. */
  async function renderGrid(task: ProxyTask, tileSide: number): Promise<Buffer> {
    const { width, height } = sizeForAspect(task.aspect, tileSide);
    const tiles = await Promise.all(
      [0, 1, 2, 3].map((i) => makeResultImage({ width, height, index: (task.tileIndexes[i] ?? i + 1) - 1 })),
    );
    return sharp({ create: { width: width * 2, height: height * 2, channels: 3, background: "#000" } })
      .composite(tiles.map((input, i) => ({ input, left: (i % 2) * width, top: Math.floor(i / 2) * height })))
      .png()
      .toBuffer();
  }

  function renderFile(task: ProxyTask, file: string): Promise<Buffer> | undefined {
    if (file === "source.png") return task.sourceImage ? Promise.resolve(task.sourceImage) : undefined;
    if (file === "preview.png" && task.status === "IN_PROGRESS") {
      return renderGrid(task, Math.max(8, longSide / 4));
    }
    if (task.status !== "SUCCESS") return undefined;
    if (file === "grid.png" && setActions.has(task.action)) return renderGrid(task, longSide);
    const n = Number(/^(\d)\.png$/.exec(file)?.[1]);
    if (n >= 1 && n <= task.tileIndexes.length) return renderTile(task, n);
    return undefined;
  }

  async function serveFile(response: ServerResponse, taskId: string, file: string): Promise<void> {
    const task = tasks.get(taskId);
    const key = `${taskId}/${file}`;
    const cached = file === "preview.png" ? undefined : imageCache.get(key);
    const rendering = cached ?? (task === undefined ? undefined : renderFile(task, file));
    if (rendering === undefined) return sendText(response, 404, "not found");
    if (file !== "preview.png") imageCache.set(key, rendering);
    const image = await rendering;
    response.writeHead(200, { "content-type": "image/png", "content-length": image.length });
    response.end(image);
  }

  /** The API's answer to an authorized request. */
  function answer(method: string, path: string, body: unknown): Reply {
    return route(method, path, body) ?? { status: 404, body: { code: 3, description: `no route ${path}` } };
  }

  const served = await serveApi(
    {
      prefix: "/mj",
      authorize: (request) => {
        const secretHeader = request.headers["mj-api-secret"];
        const authorized = options.apiSecret === undefined || secretHeader === options.apiSecret;
        return { hasAuthHeader: secretHeader !== undefined, authorized };
      },
      answer,
      // Result images stand in for Discord's CDN: public, and not part of the recorded API traffic.
      serveFile: async (pathname, response) => {
        if (!pathname.startsWith("/attachments/")) return false;
        const [, , taskId = "", file = ""] = pathname.split("/");
        await serveFile(response, taskId, file);
        return true;
      },
      notFound: { status: 404, body: { code: 3, description: "not found" } },
      unauthorized: { status: 401, body: { code: 401, description: "Unauthorized: wrong mj-api-secret" } },
      notJson: { status: 400, body: { code: 4, description: "request body must be JSON" } },
      crashBody: (error) => ({ code: 9, description: String(error) }),
    },
    timers,
  );
  origin = served.origin;

  return {
    ...served.handle,
    baseUrl: `${origin}/mj`,
    webhooks,
    knobs,
    taskIds: () => [...tasks.keys()],
  };
}

function isDataUrl(value: unknown): value is string {
  return typeof value === "string" && /^data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=]+$/i.test(value);
}
