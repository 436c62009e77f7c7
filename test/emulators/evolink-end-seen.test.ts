// The EvoLink emulator records when a client first learned that a task ended (`endSeenAt`): the
// multi-process tests hold the running limit to those spans, so an answer saying "ended" must mark it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";

const apiKey = "evk-end-seen-key";
const durationMs = 100;
let emulator: EvolinkEmulator;
/** Moves one millisecond at every reading, so two readings in one answer disagree at a task's end. */
let clock = 1_000_000;

beforeAll(async () => {
  emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: durationMs, now: () => clock++ });
});
afterAll(() => emulator?.stop());

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

it("marks a task's end seen whenever a query answers that it ended, also in its last millisecond", async () => {
  // Queries from a little before the end to a little after: each answer that says "completed" marks it.
  for (let early = -3; early <= 10; early += 1) {
    const created = await call("POST", "/v1/images/generations", {
      model: "mj-v8.1",
      prompt: `end ${early}`,
    });
    const task = emulator.tasks.get(created.id as string);
    if (!task) throw new Error("the emulator made no task");
    clock = task.createdAt + durationMs - early;
    const answer = await call("GET", `/v1/tasks/${task.id}`);
    expect({ early, ended: answer.status === "completed", seen: task.endSeenAt !== undefined }).toEqual({
      early,
      ended: answer.status === "completed",
      seen: answer.status === "completed",
    });
  }
});
