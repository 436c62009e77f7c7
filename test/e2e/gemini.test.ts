// Google Gemini end to end: the real bot and discord.js client, the fake Discord, the Gemini emulator.
// /imagine → progress → a grid of four generateContent calls → U2 → V1 → 🔄. Gemini answers in
// base64, so the adapter keeps the images in the bot's store (as `atelier start` gives it the
// store's blobs) and the grid is composed from those blob links.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "../../emulators/index.ts";
import { createGeminiProvider } from "../../src/providers/gemini.ts";
import { decodePixels } from "../support/pixels.ts";
import { clickFinished, expectGrid, imagineWithProgress } from "./backend-flow.ts";
import {
  buttonRows,
  centreColour,
  imagineFailed,
  quadrantColours,
  startWorld,
  type World,
  type WorldBackend,
} from "./world.ts";

let world: World;
let gemini: GeminiEmulator;

const backend: WorldBackend = async ({ apiKey, blobs, logger, taskDurationMs, tileLongSide }) => {
  gemini = await startGeminiEmulator({
    apiKey,
    generationMs: taskDurationMs,
    staggerMs: taskDurationMs / 2,
    tileLongSide,
  });
  const provider = createGeminiProvider({
    apiKey,
    baseUrl: gemini.baseUrl,
    model: "gemini-3.1-flash-image",
    blobs,
    logger,
  });
  return { provider, baseUrl: gemini.baseUrl, stop: () => gemini.stop() };
};

beforeAll(async () => {
  world = await startWorld({ backend, taskDurationMs: 200, tileLongSide: 96 });
});
afterAll(async () => {
  await world?.stop();
});

type Part = { text?: string; inlineData?: { mimeType: string; data: string } };

/** The last `count` generateContent bodies: their parts and image config. */
function lastCalls(count: number) {
  return gemini
    .generateBodies()
    .slice(-count)
    .map((body) => ({
      parts: (body.contents as { parts: Part[] }[])[0]?.parts ?? [],
      imageConfig: (body.generationConfig as { imageConfig: unknown }).imageConfig,
    }));
}

describe("Gemini through the bot", () => {
  it("/imagine shows progress, then a grid of the four calls; U2, V1 and 🔄 follow", async () => {
    const user = world.fake.makeUser("ada");
    const { grid, edits } = await imagineWithProgress(world, "a red fox --ar 3:2 --seed 7", user);
    expect(grid.content).toMatch(
      new RegExp(`^\\*\\*a red fox --ar 3:2 --seed 7\\*\\* - <@${user.id}> \\(fast\\)`),
    );
    expect(grid.content).toContain("Left out --seed: Gemini gemini-3.1-flash-image takes no seed.");
    const progress = edits.map((revision) => revision.content);
    expect(progress.some((content) => /\((25|50|75)%\) \(fast\)/.test(content))).toBe(true);
    // Tiles of 96×64 (3:2), the grid twice that, images in reading order.
    await expectGrid(grid, [192, 128]);
    expect(lastCalls(4)).toEqual(
      Array(4).fill({ parts: [{ text: "a red fox" }], imageConfig: { aspectRatio: "3:2" } }),
    );

    // U2: image 2 on its own, picked from the set without a call.
    const calls = gemini.generateBodies().length;
    const single = await clickFinished(world, grid, "U2");
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(1);
    expect(buttonRows(single)[0]).toEqual(["Vary (Subtle)", "Vary (Strong)", "Run as HD"]);
    expect(gemini.generateBodies()).toHaveLength(calls);

    // V1: image 1's bytes sent back inline with the (default, strong) variation words; a new grid.
    const varied = await clickFinished(world, grid, "V1");
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([4, 5, 6, 7]);
    const variations = lastCalls(4);
    expect(gemini.generateBodies()).toHaveLength(calls + 4);
    const [image, words] = variations[0]?.parts ?? [];
    expect((await decodePixels(Buffer.from(image?.inlineData?.data ?? "", "base64"))).centre()).toBe(0);
    expect(words?.text).toMatch(/^Make a strong variation of this image: .* Prompt: a red fox$/);
    expect(variations[0]?.imageConfig).toEqual({ aspectRatio: "3:2" });

    // 🔄: the same prompt again, four new calls, a new message.
    const rerolled = await clickFinished(world, grid, "🔄");
    expect(rerolled.id).not.toBe(grid.id);
    expect((await quadrantColours(rerolled.attachments[0]?.bytes as Buffer)).tiles).toEqual([8, 9, 10, 11]);
    expect(lastCalls(4)).toEqual(
      Array(4).fill({ parts: [{ text: "a red fox" }], imageConfig: { aspectRatio: "3:2" } }),
    );
    expect(gemini.generateBodies()).toHaveLength(calls + 8);
  });

  it("a refused prompt ends as a refusal in Google's words", async () => {
    gemini.knobs.refusePrompts = /forbidden/;
    try {
      const failed = await imagineFailed(world, "a forbidden thing", 20_000);
      expect(failed.embeds[0]?.title).toBe("Prompt refused");
      expect(failed.embeds[0]?.description).toMatch(/I can't create images of forbidden/);
    } finally {
      gemini.knobs.refusePrompts = undefined;
    }
  });
});
