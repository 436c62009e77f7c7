// A crash in the middle of a job: the bot process is killed (SIGKILL, no clean shutdown) and
// started again on the same DATA_DIR. The job finishes on its message, nothing is sent twice,
// and buttons on messages made before the crash keep working.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { FakeDiscord } from "../fake-discord/index.ts";
import { type AtelierProcess, spawnAtelier } from "../support/atelier-process.ts";
import { customIdOf, isFinished, quadrantColours } from "./world.ts";

const apiKey = "evk-restart-secret-key";
let fake: FakeDiscord;
let emulator: EvolinkEmulator;
let dataDir: string;
const children: AtelierProcess[] = [];

async function startAtelier(): Promise<AtelierProcess> {
  const child = spawnAtelier({
    fake,
    emulator,
    apiKey,
    dataDir,
    env: { POLL_INTERVAL_SECONDS: "0.1", LOG_LEVEL: "debug" },
  });
  children.push(child);
  await child.running({ gateway: true });
  return child;
}

/** What every process started here has written. */
const output = () => children.map((child) => child.output()).join("");

beforeAll(async () => {
  fake = await FakeDiscord.start();
  emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 400, tileLongSide: 64 });
  dataDir = mkdtempSync(join(tmpdir(), "atelier-restart-"));
});

afterAll(async () => {
  for (const child of children) await child.kill();
  await emulator?.stop();
  await fake?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("restart in the middle of a job", () => {
  it("runs a job whose message was shown when the process died before starting it", async () => {
    const first = await startAtelier();
    // Discord shows the job's message (in place of "thinking…"), but the bot dies before it hears
    // back (and so before it starts the job).
    fake.holdNextAnswer({ method: "PATCH", route: /^\/webhooks\/[^/]+\/[^/]+\/messages\/@original$/ });
    const run = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a lantern in the fog" } });
    const original = await run.waitForOriginalMessage((message) => !message.loading);
    expect(original.content).toContain("Waiting to start");
    await first.kill();

    const second = await startAtelier();
    const done = await fake.waitForMessage((m) => m.id === original.id && isFinished(m), 30_000);
    expect(done.content).toMatch(/^\*\*a lantern in the fog\*\* - <@\d+> \(fast\)$/);
    const sent = emulator
      .apiRequests("POST")
      .filter((r) => (r.body as { prompt?: string }).prompt === "a lantern in the fog");
    expect(sent).toHaveLength(1);
    await second.kill();
  }, 90_000);

  it("finishes the job on its message, sends it once, and old buttons keep working", async () => {
    const first = await startAtelier();

    // A grid finished before the crash: its buttons must work after it.
    const earlier = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a finished sketch" } });
    const earlierMessage = await earlier.waitForOriginalMessage(() => true);
    const earlierGrid = await fake.waitForMessage((m) => m.id === earlierMessage.id && isFinished(m), 20_000);

    // A job still running when the process dies.
    emulator.knobs.taskDurationMs = 4_000;
    const run = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a comet over the sea" } });
    const original = await run.waitForOriginalMessage(() => true);
    await fake.waitForMessage((m) => m.id === original.id && /\(\d+%\)/.test(m.content), 20_000);
    await first.kill();
    const createsBeforeRestart = emulator.apiRequests("POST").length;

    const second = await startAtelier();
    const done = await fake.waitForMessage((m) => m.id === original.id && isFinished(m), 30_000);
    expect(done.content).toMatch(/^\*\*a comet over the sea\*\* - <@\d+> \(fast\)$/);
    expect((await quadrantColours(done.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
    expect(emulator.apiRequests("POST")).toHaveLength(createsBeforeRestart);
    expect(
      emulator
        .apiRequests("POST")
        .filter((r) => (r.body as { prompt?: string }).prompt === "a comet over the sea"),
    ).toHaveLength(1);

    emulator.knobs.taskDurationMs = 300;
    const click = await fake.clickButton({ message: earlierGrid, customId: customIdOf(earlierGrid, "U3") });
    const single = await click.waitForFollowUp((m) => isFinished(m), 20_000);
    expect(single.content).toMatch(/^\*\*a finished sketch\*\* - Image #3 <@\d+>$/);

    expect(output()).not.toContain(apiKey);
    expect(output()).not.toContain(fake.botToken);

    // A graceful stop (SIGTERM) closes everything and exits 0.
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    const records = second
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(records).toContainEqual(expect.objectContaining({ level: "info", msg: "stopped" }));
  }, 120_000);
});
