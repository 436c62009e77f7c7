// Reading a run back from what the fakes recorded: when each interaction was answered, when each
// job's grid reached Discord, when each provider task completed, how often messages were edited.
import type { EmulatedTask } from "../../emulators/evolink.ts";
import type { FakeDiscord, RecordedRequest } from "../../test/fake-discord/index.ts";

/** One /imagine as the bench sent it. */
export interface Dispatched {
  index: number;
  interactionId: string;
  token: string;
  /** When INTERACTION_CREATE was on the wire (ms). */
  at: number;
}

const webhookMessagePath = /^\/webhooks\/\d+\/([^/]+)\/messages\/[^/]+$/;
const channelMessagePath = /^\/channels\/\d+\/messages\/\d+$/;

export function isMessageEdit(request: RecordedRequest): boolean {
  return (
    request.method === "PATCH" &&
    (webhookMessagePath.test(request.path) || channelMessagePath.test(request.path))
  );
}

/** Interaction token → when the fake received the first edit carrying a file (the grid). */
export class GridEdits {
  readonly arrivals = new Map<string, number>();
  #scanned = 0;

  /** Counts only grids that arrive from now on. */
  constructor(private readonly fake: FakeDiscord) {
    this.#scanned = fake.requests.length;
  }

  /** Scans requests recorded since the last call; returns how many grids arrived so far. */
  update(): number {
    const requests = this.fake.requests;
    for (; this.#scanned < requests.length; this.#scanned++) {
      const request = requests[this.#scanned];
      if (request?.method !== "PATCH" || request.files.length === 0) continue;
      const token = webhookMessagePath.exec(request.path)?.[1];
      if (token && !this.arrivals.has(token)) this.arrivals.set(token, request.at);
    }
    return this.arrivals.size;
  }
}

/** Arrival times of every message edit (progress and final). */
export function editArrivals(fake: FakeDiscord): number[] {
  return fake.requests.filter(isMessageEdit).map((request) => request.at);
}

/** All REST calls the bot made (arrival times). */
export function restArrivals(fake: FakeDiscord): number[] {
  return fake.requests.map((request) => request.at);
}

/** Time between consecutive edits of the same message, for edits inside [from, to). */
export function editGaps(fake: FakeDiscord, from: number, to: number): number[] {
  const last = new Map<string, number>();
  const gaps: number[] = [];
  for (const request of fake.requests) {
    if (!isMessageEdit(request) || request.at < from || request.at >= to) continue;
    const previous = last.get(request.path);
    if (previous !== undefined) gaps.push(request.at - previous);
    last.set(request.path, request.at);
  }
  return gaps;
}

export interface TaskTiming {
  taskId: string;
  createdAt: number;
  /** The emulator's own clock: a task reads `completed` once max(1, duration) ms have passed. */
  completedAt: number;
}

/** Prompt marker (the job's index) → its provider task. */
export function tasksByIndex(tasks: Iterable<EmulatedTask>, marker: RegExp): Map<number, TaskTiming> {
  const byIndex = new Map<number, TaskTiming>();
  for (const task of tasks) {
    const index = marker.exec(task.prompt)?.[1];
    if (index === undefined) continue;
    byIndex.set(Number(index), {
      taskId: task.id,
      createdAt: task.createdAt,
      completedAt: task.createdAt + Math.max(1, task.durationMs),
    });
  }
  return byIndex;
}
