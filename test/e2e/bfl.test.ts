// Black Forest Labs end to end: the real bot and discord.js client, the fake Discord, the BFL
// emulator. /imagine → progress → a grid of four BFL tasks → U2 → V1 → 🔄 → Zoom Out 2x on U2.
// Results are copied into the bot's store as they finish (BFL's links expire), so the adapter is
// given the store's blobs, as `atelier start` does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BflEmulator, startBflEmulator } from "../../emulators/index.ts";
import { createBflProvider } from "../../src/providers/bfl.ts";
import { decodePixels } from "../support/pixels.ts";
import { clickFinished, expectGrid, expectSingleButtons, imagineWithProgress } from "./backend-flow.ts";
import { centreColour, quadrantColours, startWorld, type World, type WorldBackend } from "./world.ts";

let world: World;
let bfl: BflEmulator;

const backend: WorldBackend = async ({ apiKey, blobs, logger, taskDurationMs }) => {
  bfl = await startBflEmulator({ apiKey, taskDurationMs });
  const provider = createBflProvider({ apiKey, baseUrl: bfl.baseUrl, logger, blobs });
  return { provider, baseUrl: bfl.baseUrl, stop: () => bfl.stop() };
};

beforeAll(async () => {
  world = await startWorld({ backend, taskDurationMs: 400 });
});
afterAll(async () => {
  await world?.stop();
});

/** The bodies of the last `count` creates, and the model they went to. */
function lastCreates(count: number) {
  return bfl
    .apiRequests("POST")
    .slice(-count)
    .map((request) => ({ path: request.path, body: request.body as Record<string, unknown> }));
}

async function sentImage(body: Record<string, unknown>, field: string) {
  return decodePixels(Buffer.from(String(body[field]), "base64"));
}

describe("BFL through the bot", () => {
  it("/imagine shows progress, then a grid of the four tasks; U2, V1, 🔄 and Zoom Out 2x follow", async () => {
    const user = world.fake.makeUser("ada");
    const { grid, edits } = await imagineWithProgress(world, "a red fox --ar 3:2 --seed 11", user);
    expect(grid.content).toBe(`**a red fox --ar 3:2 --seed 11** - <@${user.id}> (fast)`);
    const progress = edits.map((revision) => revision.content);
    expect(progress.some((content) => /\(\d+%\) \(fast\)/.test(content))).toBe(true);
    await expectGrid(grid, [2496, 1664]);
    expect(lastCreates(4)).toEqual(
      [11, 12, 13, 14].map((seed) => ({
        path: "/v1/flux-pro-1.1",
        body: { prompt: "a red fox", width: 1248, height: 832, output_format: "jpeg", seed },
      })),
    );

    // U2: image 2 on its own, no call; its buttons include BFL's outpainting.
    const creates = bfl.apiRequests("POST").length;
    const single = await clickFinished(world, grid, "U2");
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(1);
    expectSingleButtons(single);
    expect(bfl.apiRequests("POST")).toHaveLength(creates);

    // V1: Kontext, given image 1's bytes; a new grid of four.
    const varied = await clickFinished(world, grid, "V1");
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
    const variations = lastCreates(4);
    expect(variations.map((create) => create.path)).toEqual(Array(4).fill("/v1/flux-kontext-pro"));
    expect(variations[0]?.body).toMatchObject({ aspect_ratio: "3:2" });
    expect(String(variations[0]?.body.prompt)).toMatch(/variation of this image.*The picture: a red fox$/);
    expect((await sentImage(variations[0]?.body ?? {}, "input_image")).centre()).toBe(0);

    // 🔄: the same prompt with new seeds.
    await clickFinished(world, grid, "🔄");
    const rerolled = lastCreates(4);
    expect(rerolled.map((create) => create.path)).toEqual(Array(4).fill("/v1/flux-pro-1.1"));
    expect(rerolled.map((create) => create.body.seed)).not.toEqual([11, 12, 13, 14]);

    // Zoom Out 2x on U2: expand, image 2 with half its size again on every side.
    const zoomed = await clickFinished(world, single, "Zoom Out 2x", 30_000);
    const expands = lastCreates(4);
    expect(expands.map((create) => create.path)).toEqual(Array(4).fill("/v1/flux-pro-1.0-expand"));
    expect(expands[0]?.body).toMatchObject({
      top: 416,
      bottom: 416,
      left: 624,
      right: 624,
      prompt: "a red fox",
    });
    const image = await sentImage(expands[0]?.body ?? {}, "image");
    expect([image.width, image.height, image.centre()]).toEqual([1248, 832, 1]);
    // Four 2496×1664 images: the grid keeps their 3:2 shape (within the renderer's side limit).
    const zoomedGrid = await quadrantColours(zoomed.attachments[0]?.bytes as Buffer);
    expect(zoomedGrid.tiles).toEqual([0, 1, 2, 3]);
    expect(zoomedGrid.width / zoomedGrid.height).toBeCloseTo(1.5, 2);
  });
});
