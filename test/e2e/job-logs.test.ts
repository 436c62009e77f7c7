// An operator follows a job in the log: one info line each when it is created, submitted,
// completed (or failed, with the kind of error and its stack) and delivered, each naming the job,
// the person, the server and the provider — and never a secret.
import { afterEach, describe, expect, it, vi } from "vitest";
import { evolinkKey, isFinished, startWorld, type World } from "./world.ts";

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

type LogRecord = Record<string, unknown> & { level: string; msg: string };

function jobLines(current: World, jobId: string): LogRecord[] {
  return current.logLines
    .map((line) => JSON.parse(line) as LogRecord)
    .filter((record) => record.job === jobId && record.level !== "debug");
}

async function imagineJob(current: World, prompt: string) {
  const run = await current.fake.runSlashCommand({ name: "imagine", options: { prompt } });
  const original = await run.waitForOriginalMessage();
  // One job per world here: the job the log says was created.
  const created = current.logLines
    .map((line) => JSON.parse(line) as LogRecord)
    .find((r) => r.msg === "job created");
  return { original, jobId: created?.job as string };
}

describe("job logs", () => {
  it("a completed job: created, submitted, completed, delivered — with who, where and which provider", async () => {
    world = await startWorld({ taskDurationMs: 300 });
    const current = world;
    const { original, jobId } = await imagineJob(current, "a quiet harbour");
    await current.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 15_000);
    await vi.waitFor(() => expect(jobLines(current, jobId).at(-1)?.msg).toBe("job delivered"), {
      timeout: 5_000,
    });
    const lines = jobLines(current, jobId);
    expect(lines.map((record) => record.msg)).toEqual([
      "job created",
      "job submitted",
      "job completed",
      "job delivered",
    ]);
    for (const record of lines) {
      expect(record).toMatchObject({
        level: "info",
        user: current.fake.defaultUser.id,
        guild: current.fake.guildId,
        provider: "evolink",
      });
    }
    expect(lines[1]?.task).toMatch(/^task-/);
    expect(typeof lines[2]?.durationMs).toBe("number");
  });

  it("a failed job names the kind of error and carries its stack; no secret appears", async () => {
    world = await startWorld({ taskDurationMs: 300 });
    const current = world;
    current.emulator.knobs.refusePrompts = /forbidden/;
    const { original, jobId } = await imagineJob(current, "a forbidden door");
    await current.fake.waitForMessage((m) => m.id === original.id && m.content.includes("(failed)"), 15_000);
    const failed = jobLines(current, jobId).find((record) => record.msg === "job failed");
    expect(failed).toMatchObject({ level: "warn", errorKind: "refused", provider: "evolink" });
    expect((failed?.error as { stack?: string } | undefined)?.stack).toContain("ProviderError");
    expect(current.logLines.join("\n")).not.toContain(evolinkKey);
    expect(current.logLines.join("\n")).not.toContain(current.fake.botToken);
  });
});
