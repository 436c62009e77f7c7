// The same workflow on a midjourney-proxy server: its preview while running, its own 2×2 grid
// shown as it is, and U buttons that call its real upscale.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buttonRows,
  centreColour,
  customIdOf,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ provider: "midjourney-proxy", taskDurationMs: 1_200 });
});
afterAll(async () => {
  await world?.stop();
});

describe("on midjourney-proxy", () => {
  it("shows the provider's preview while running and its grid when done", async () => {
    const proxy = world.proxy;
    if (!proxy) throw new Error("proxy world expected");
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a koi pond --ar 1:1" },
    });
    const original = await run.waitForOriginalMessage();
    const done = await world.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 20_000);

    const progressWithImage = world.fake
      .edits(original.id)
      .filter((revision) => /\(\d+%\)/.test(revision.content) && revision.attachmentIds.length > 0);
    expect(progressWithImage.length).toBeGreaterThan(0);

    expect(buttonRows(done)).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
    expect(await quadrantColours(done.attachments[0]?.bytes as Buffer)).toEqual({
      width: 192,
      height: 192,
      tiles: [0, 1, 2, 3],
    });
    // Shown as the provider made it: the very bytes of its grid, not a grid rebuilt from the splits.
    const taskId = proxy.taskIds().at(-1);
    const upstream = await fetch(`${new URL(proxy.baseUrl).origin}/attachments/${taskId}/grid.png`);
    expect(Buffer.from(await upstream.arrayBuffer()).equals(done.attachments[0]?.bytes as Buffer)).toBe(true);
    expect(proxy.apiRequests("POST").at(-1)?.body).toMatchObject({
      prompt: expect.stringContaining("a koi pond --ar 1:1"),
    });
  });

  it("U3 asks the proxy for a real upscale of image 3", async () => {
    const proxy = world.proxy;
    if (!proxy) throw new Error("proxy world expected");
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt: "a paper lantern" } });
    const original = await run.waitForOriginalMessage();
    const grid = await world.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 20_000);
    const click = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "U3") });
    const single = await click.waitForFollowUp((m) => isFinished(m), 20_000);
    expect(single.content).toMatch(/^\*\*a paper lantern\*\* - Image #3 <@\d+>$/);
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(2);
    const followUp = proxy.apiRequests("POST").at(-1);
    expect(followUp?.path).toMatch(/\/submit\/(action|change)$/);
    expect(JSON.stringify(followUp?.body)).toMatch(/upsample::3|"index":3/);
  });
});
