// Faults that used to lose work, each through the real bot and the fake Discord: a stalled image
// host, a Discord outage, a cut-off poll answer, a tiny time limit, many jobs at once.
import { afterEach, describe, expect, it } from "vitest";
import type { FakeMessage } from "../fake-discord/index.ts";
import { buttonRows, isFinished, startWorld, type World } from "./world.ts";

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function imagine(current: World, prompt: string) {
  const run = await current.fake.runSlashCommand({ name: "imagine", options: { prompt } });
  return run.waitForOriginalMessage();
}

/** What a person reads on a message: its text and its embeds' titles and descriptions. */
function shownText(message: FakeMessage): string {
  const embeds = (message.embeds ?? []) as Array<{ title?: string; description?: string }>;
  return [message.content, ...embeds.flatMap((embed) => [embed.title ?? "", embed.description ?? ""])].join(
    "\n",
  );
}

describe("faults that must not lose or hold back work", () => {
  it("a stalled image host delays only its own jobs, which end with a clear error and 🔄", async () => {
    world = await startWorld({ renderer: "worker", downloadTimeoutMs: 4_000, taskDurationMs: 300 });
    const current = world;
    current.emulator.knobs.stallImages = /stalled/;
    const stalled = [];
    for (const n of [1, 2, 3]) stalled.push(await imagine(current, `a stalled host ${n}`));
    const healthy = [await imagine(current, "a calm lake"), await imagine(current, "a calm sky")];

    const grids = await Promise.all(
      healthy.map((message) =>
        current.fake.waitForMessage((m) => m.id === message.id && isFinished(m), 20_000),
      ),
    );
    // The healthy grids arrived while every stalled job was still waiting on its host.
    const stalledNow = stalled.map((message) => current.fake.messages().find((m) => m.id === message.id));
    expect(stalledNow.every((message) => message && !shownText(message).includes("(failed)"))).toBe(true);
    expect(grids.every((grid) => grid.attachments.length === 1)).toBe(true);

    const failed = await Promise.all(
      stalled.map((message) =>
        current.fake.waitForMessage(
          (m) => m.id === message.id && shownText(m).includes("did not answer"),
          20_000,
        ),
      ),
    );
    for (const message of failed) {
      expect(shownText(message)).toContain("the image host did not answer within 4 seconds");
      expect(buttonRows(message).flat()).toContain("🔄");
    }
  });

  it("a Discord outage on message routes delays the result, never loses it", async () => {
    world = await startWorld({ taskDurationMs: 300, deliveryRetryDelaysMs: [100, 300] });
    const current = world;
    const original = await imagine(current, "a lighthouse in a storm");
    current.fake.failFor(4_000, { status: 503, route: /\/messages\// });
    const done = await current.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 20_000);
    expect(buttonRows(done)[0]).toEqual(["U1", "U2", "U3", "U4", "🔄"]);
    expect(current.fake.requests.filter((request) => request.status === 503).length).toBeGreaterThan(4);
    expect((await current.jobs.openJobsOf(current.fake.defaultUser.id)).length).toBe(0);
  });

  it("a cut-off poll answer is waited out: the job completes and is sent once", async () => {
    world = await startWorld({ taskDurationMs: 400 });
    const current = world;
    current.emulator.truncateNext({ method: "GET", path: "/v1/tasks/" });
    current.emulator.malformedNext({ method: "GET", path: "/v1/tasks/" });
    const original = await imagine(current, "a harbour at noon");
    await current.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 15_000);
    expect(current.emulator.apiRequests("POST")).toHaveLength(1);
    expect(current.emulator.requests.filter((request) => request.fault !== undefined)).toHaveLength(2);
  });

  it("a time limit under a minute reads in seconds", async () => {
    world = await startWorld({ timeoutMs: 1_500 });
    const current = world;
    current.emulator.knobs.neverFinish = true;
    const original = await imagine(current, "a clock that never strikes");
    const failed = await current.fake.waitForMessage(
      (m) => m.id === original.id && shownText(m).includes("did not finish"),
      15_000,
    );
    expect(shownText(failed)).toContain("did not finish within 2 seconds");
  });

  it("many jobs at once leak no listeners", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      world = await startWorld({ taskDurationMs: 600 });
      const current = world;
      const originals = [];
      for (let n = 0; n < 14; n += 1) originals.push(await imagine(current, `crowd ${n}`));
      await Promise.all(
        originals.map((original) =>
          current.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 30_000),
        ),
      );
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
