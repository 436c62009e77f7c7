// Grid buttons end to end: variations, re-rolls, double clicks, permutations and failures.
import { MessageFlags } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage } from "../fake-discord/index.ts";
import {
  buttonRows,
  customIdOf,
  imagineFailed,
  imagineGrid,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 300 });
});
afterAll(async () => {
  await world?.stop();
});

function imagine(prompt: string): Promise<FakeMessage> {
  return imagineGrid(world, prompt);
}

function createsSent(): Array<Record<string, unknown>> {
  return world.emulator.apiRequests("POST").map((request) => request.body as Record<string, unknown>);
}

describe("grid buttons", () => {
  it("V3 makes variations of image 3 in a new message with its own grid", async () => {
    const grid = await imagine("a paper boat --ar 1:1");
    const imageUrls =
      (await world.jobs.get(grid.components.length ? decodeJobId(grid) : ""))?.imageUrls ?? [];
    const clicker = world.fake.makeUser("linus");
    const click = await world.fake.clickButton({
      message: grid,
      customId: customIdOf(grid, "V3"),
      user: clicker,
    });
    const waiting = await click.waitForFollowUp(() => true);
    expect(waiting.content).toBe(
      `**a paper boat --ar 1:1** - Variations by <@${clicker.id}> (Waiting to start)`,
    );
    const varied = await world.fake.waitForMessage(
      (message) => message.id === waiting.id && isFinished(message),
      15_000,
    );
    expect(varied.content).toBe(`**a paper boat --ar 1:1** - Variations by <@${clicker.id}> (fast)`);
    expect(buttonRows(varied)).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
    const sent = createsSent().at(-1)?.prompt as string;
    expect(sent.startsWith(`${imageUrls[2]} `)).toBe(true);
    expect(sent).toContain("a paper boat");
  });

  it("🔄 runs the same prompt again as a new job in a new message", async () => {
    const grid = await imagine("a quiet harbour");
    const before = createsSent().length;
    const click = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "🔄") });
    const rerolled = await click.waitForFollowUp((message) => isFinished(message));
    expect(rerolled.id).not.toBe(grid.id);
    expect(rerolled.content).toMatch(/^\*\*a quiet harbour\*\* - <@\d+> \(fast\)$/);
    expect(createsSent()).toHaveLength(before + 1);
    expect(createsSent().at(-1)?.prompt).toBe("a quiet harbour");
  });

  it("a double click on the same button starts one job, not two", async () => {
    const grid = await imagine("a double click");
    const before = world.fake.messages().length;
    const customId = customIdOf(grid, "🔄");
    const [first, second] = await Promise.all([
      world.fake.clickButton({ message: grid, customId }),
      world.fake.clickButton({ message: grid, customId }),
    ]);
    await Promise.all([first.waitForCallback(), second.waitForCallback()]);
    await first.waitForFollowUp(() => true).catch(() => second.waitForFollowUp(() => true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(world.fake.messages().length).toBe(before + 1);
  });

  it("permutations start one job and one message each", async () => {
    const before = createsSent().length;
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a {red, blue} kite" },
    });
    const first = await run.waitForOriginalMessage();
    const second = await run.waitForFollowUp(() => true);
    expect(first.content).toMatch(/^\*\*a red kite\*\*/);
    expect(second.content).toMatch(/^\*\*a blue kite\*\*/);
    await world.fake.waitForMessage((message) => message.id === second.id && isFinished(message), 15_000);
    expect(
      createsSent()
        .slice(before)
        .map((body) => body.prompt),
    ).toEqual(["a red kite", "a blue kite"]);
  });

  it("a refused prompt turns red, says what to do, and its 🔄 runs it again", async () => {
    world.emulator.knobs.refusePrompts = /forbidden/;
    try {
      const failed = await imagineFailed(world, "a forbidden thing");
      expect(failed.content).toMatch(/\(failed\)$/);
      expect(failed.embeds[0]?.title).toBe("Prompt refused");
      expect(failed.embeds[0]?.color).toBe(0xed4245);
      expect(failed.embeds[0]?.description).toMatch(/What to do:\*\* Change the prompt/);
      expect(buttonRows(failed)).toEqual([["🔄"]]);

      world.emulator.knobs.refusePrompts = undefined;
      const retry = await world.fake.clickButton({ message: failed, customId: customIdOf(failed, "🔄") });
      const rerun = await retry.waitForFollowUp((message) => isFinished(message));
      expect(rerun.content).toMatch(/^\*\*a forbidden thing\*\* - <@\d+> \(fast\)$/);
    } finally {
      world.emulator.knobs.refusePrompts = undefined;
    }
  });

  it("a button whose job record is gone explains itself privately", async () => {
    const grid = await imagine("soon forgotten");
    const customId = customIdOf(grid, "U1");
    const jobId = customId.split(":")[1] ?? "";
    while (!(await world.jobs.get(jobId))?.delivered) await new Promise((resolve) => setTimeout(resolve, 20));
    await world.store.keyv.delete(`job:${jobId}`);
    const click = await world.fake.clickButton({ message: grid, customId });
    const callback = await click.waitForCallback();
    const data = callback.data as { content: string; flags: number };
    expect(data.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(data.content).toMatch(/no longer knows the job/);
  });

  it("never writes a secret to the log", () => {
    const joined = world.logLines.join("\n");
    expect(joined.length).toBeGreaterThan(0);
    expect(joined).not.toContain("evk-e2e-secret-key-42");
    expect(joined).not.toContain(world.fake.botToken);
  });
});

function decodeJobId(message: FakeMessage): string {
  return customIdOf(message, "U1").split(":")[1] ?? "";
}
