// Following a task between polls: every job in flight waits here once per poll, so a wait must end
// for each reason it can (interval, pushed result, shutdown) and leave nothing behind on the
// shutdown signal, which lives as long as the bot.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { trackTask } from "../../src/jobs/track.ts";
import type { ImageProvider, TaskSnapshot } from "../../src/providers/types.ts";

const running = (progress: number): TaskSnapshot => ({
  taskId: "t1",
  status: "running",
  progress,
  imageUrls: [],
});
const completed: TaskSnapshot = {
  taskId: "t1",
  status: "completed",
  imageUrls: ["https://cdn.example/1.png"],
};

/** A provider whose task answers the given snapshots in turn; counts the polls. */
function providerAnswering(snapshots: TaskSnapshot[], onPoll: () => void = () => undefined) {
  let polls = 0;
  const provider = {
    fetchTask: async () => {
      onPoll();
      return snapshots[Math.min(polls++, snapshots.length - 1)] as TaskSnapshot;
    },
  } as unknown as ImageProvider;
  return { provider, polls: () => polls };
}

describe("trackTask between polls", () => {
  it("leaves no listener on the shutdown signal after each wait between polls", async () => {
    const shutdown = new AbortController();
    const listenersAtPolls: number[] = [];
    const { provider } = providerAnswering(
      [...Array.from({ length: 30 }, (_, i) => running(i * 3)), completed],
      () => listenersAtPolls.push(getEventListeners(shutdown.signal, "abort").length),
    );
    const snapshot = await trackTask(provider, "t1", {
      pollIntervalMs: 1,
      startedAt: Date.now(),
      timeoutMs: 60_000,
      signal: shutdown.signal,
    });
    expect(snapshot.status).toBe("completed");
    expect(listenersAtPolls).toHaveLength(31);
    expect(Math.max(...listenersAtPolls)).toBe(0);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });

  it("ends the wait when the result is pushed, without waiting for the next poll", async () => {
    const { provider, polls } = providerAnswering([running(10)]);
    let push: (snapshot: TaskSnapshot) => void = () => undefined;
    const tracking = trackTask(provider, "t1", {
      pollIntervalMs: 600_000,
      startedAt: Date.now(),
      timeoutMs: 3_600_000,
      nextPush: () => new Promise((resolve) => (push = resolve)),
    });
    while (polls() === 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    push(completed);
    await expect(tracking).resolves.toMatchObject({ status: "completed" });
    expect(polls()).toBe(1);
  });

  it("stops at once when the bot shuts down during a wait, leaving no listener", async () => {
    const shutdown = new AbortController();
    const { provider, polls } = providerAnswering([running(10)]);
    const tracking = trackTask(provider, "t1", {
      pollIntervalMs: 600_000,
      startedAt: Date.now(),
      timeoutMs: 3_600_000,
      signal: shutdown.signal,
    });
    while (polls() === 0) await new Promise((resolve) => setImmediate(resolve));
    shutdown.abort();
    await expect(tracking).rejects.toMatchObject({ name: "AbortError" });
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });

  it("fails the tracking with a push that fails, leaving no listener (never an unhandled rejection)", async () => {
    const shutdown = new AbortController();
    const { provider } = providerAnswering([running(10)]);
    const tracking = trackTask(provider, "t1", {
      pollIntervalMs: 600_000,
      startedAt: Date.now(),
      timeoutMs: 3_600_000,
      signal: shutdown.signal,
      nextPush: () => Promise.reject(new Error("callback channel closed")),
    });
    await expect(tracking).rejects.toThrow("callback channel closed");
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });
});
