// AUTOMATIC1111 end to end: the real bot and discord.js client, the fake Discord, the A1111 emulator.
// /imagine → progress with the live preview attached → a grid of the one txt2img of four → U2 (the
// configured upscaler, 2×) → V1 (image 1's seed with a variation seed) → 🔄 (a new seed). A1111
// answers in base64, so the adapter keeps the images in the bot's store (the world's blobs).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type A1111Emulator, startA1111Emulator } from "../../emulators/index.ts";
import { createA1111Provider } from "../../src/providers/a1111.ts";
import { decodePixels } from "../support/pixels.ts";
import { clickFinished, expectGrid, expectLivePreviews, imagineWithProgress } from "./backend-flow.ts";
import { quadrantColours, startWorld, type World, type WorldBackend } from "./world.ts";

let world: World;
let a1111: A1111Emulator;
const auth = "atelier:e2e-a1111-password";

const backend: WorldBackend = async ({ blobs, logger, taskDurationMs }) => {
  a1111 = await startA1111Emulator({ auth, stepMs: taskDurationMs / 10 });
  const provider = createA1111Provider({
    urls: [a1111.baseUrl],
    auth,
    blobs,
    logger,
    // 160² pixels: 3:2 is exactly 192×128 in multiples of 64, small images for the test.
    nativeSide: 160,
    steps: 10,
    pollIntervalMs: 50,
  });
  return { provider, baseUrl: a1111.baseUrl, stop: () => a1111.stop() };
};

beforeAll(async () => {
  world = await startWorld({ backend, taskDurationMs: 1_500, tileLongSide: 96 });
});
afterAll(async () => {
  await world?.stop();
});

const lastTxt2img = () => a1111.bodies("txt2img").at(-1) ?? {};

describe("AUTOMATIC1111 through the bot", () => {
  it("/imagine shows a live preview, then the grid; U2 upscales, V1 varies image 1's seed, 🔄 re-rolls", async () => {
    const { grid, edits } = await imagineWithProgress(world, "a red fox --ar 3:2 --seed 7 --no fog");
    expectLivePreviews(edits);
    expect(lastTxt2img()).toMatchObject({
      prompt: "a red fox",
      negative_prompt: "fog",
      seed: 7,
      subseed_strength: 0,
      width: 192,
      height: 128,
      batch_size: 4,
    });
    await expectGrid(grid, [384, 256]);

    // U2: image 2 through the upscaler at 2×.
    const single = await clickFinished(world, grid, "U2");
    const upscaled = await decodePixels(single.attachments[0]?.bytes as Buffer);
    expect([upscaled.width, upscaled.height, upscaled.centre()]).toEqual([384, 256, 1]);
    expect(a1111.bodies("extra-single-image").at(-1)).toMatchObject({
      upscaler_1: "R-ESRGAN 4x+",
      upscaling_resize: 2,
    });

    // V1: image 1's seed (7) with a variation seed; a new grid.
    const varied = await clickFinished(world, grid, "V1");
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
    expect(lastTxt2img()).toMatchObject({ prompt: "a red fox", seed: 7 });
    expect([0.15, 0.4]).toContain(lastTxt2img().subseed_strength);

    // 🔄: the same prompt with a new seed, in a new message.
    const rerolled = await clickFinished(world, grid, "🔄");
    expect(rerolled.id).not.toBe(grid.id);
    expect(lastTxt2img()).toMatchObject({ prompt: "a red fox", negative_prompt: "fog", subseed_strength: 0 });
    expect(lastTxt2img().seed).not.toBe(7);
    expect(a1111.bodies("txt2img")).toHaveLength(3);
    expect(world.logLines.join("\n")).not.toContain("e2e-a1111-password");
  });
});
