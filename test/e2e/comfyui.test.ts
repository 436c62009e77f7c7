// The workflow end to end on ComfyUI: the real discord.js client, the fake Discord and the ComfyUI
// emulator. /imagine shows live preview frames while sampling, then the grid of the batch of four;
// U2 is a real 2× upscale through the server's upscale model; V1 is image-to-image of image 1; 🔄 a
// new seed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComfyUiEmulator, startComfyUiEmulator } from "../../emulators/index.ts";
import { createComfyUiProvider } from "../../src/providers/comfyui.ts";
import type { FakeMessage } from "../fake-discord/index.ts";
import { decodePixels } from "../support/pixels.ts";
import {
  buttonRows,
  centreColour,
  customIdOf,
  imagineGrid,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
  type WorldBackend,
} from "./world.ts";

let world: World;
let comfy: ComfyUiEmulator;
const backend: WorldBackend = async ({ blobs, logger, taskDurationMs }) => {
  comfy = await startComfyUiEmulator({ taskDurationMs });
  // A quarter megapixel (SD 1.5 sizes) keeps the test's images small.
  const provider = createComfyUiProvider({ urls: [comfy.baseUrl], blobs, logger, megapixels: 0.25 });
  return { provider, baseUrl: comfy.baseUrl, stop: () => comfy.stop() };
};

beforeAll(async () => {
  world = await startWorld({ backend, taskDurationMs: 1_500 });
});
afterAll(async () => {
  await world?.stop();
});

type Node = { class_type: string; inputs: Record<string, unknown> };
const lastGraph = () => comfy.prompts.at(-1)?.prompt as Record<string, Node>;

async function click(message: FakeMessage, label: string): Promise<FakeMessage> {
  const clicked = await world.fake.clickButton({ message, customId: customIdOf(message, label) });
  return clicked.waitForFollowUp((reply) => isFinished(reply), 20_000);
}

describe("on ComfyUI", () => {
  let grid: FakeMessage;

  it("/imagine shows live previews, then the 2×2 grid of the batch in reading order", async () => {
    grid = await imagineGrid(world, "a red fox --ar 3:2 --seed 9");
    const original = grid;
    const previews = world.fake
      .edits(original.id)
      .filter((revision) => /\(\d+%\)/.test(revision.content) && revision.attachmentIds.length > 0);
    expect(previews.length).toBeGreaterThan(0);
    expect(lastGraph()["5"]?.inputs).toEqual({ width: 576, height: 384, batch_size: 4 });
    expect(lastGraph()["3"]?.inputs.seed).toBe(9);
    expect(lastGraph()["6"]?.inputs.text).toBe("a red fox");
    expect(buttonRows(grid)).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
    expect(await quadrantColours(grid.attachments[0]?.bytes as Buffer)).toEqual({
      width: 1152,
      height: 768,
      tiles: [0, 1, 2, 3],
    });
  });

  it("U2 upscales image 2 to twice its size with the server's upscale model", async () => {
    const single = await click(grid, "U2");
    expect(Object.values(lastGraph()).map((node) => node.class_type)).toContain("ImageUpscaleWithModel");
    const bytes = single.attachments[0]?.bytes as Buffer;
    const image = await decodePixels(bytes);
    expect([image.width, image.height]).toEqual([1152, 768]);
    expect(await centreColour(bytes)).toBe(1);
  });

  it("V1 samples from image 1 and ends as a new grid", async () => {
    const varied = await click(grid, "V1");
    const graph = lastGraph();
    const load = Object.values(graph).find((node) => node.class_type === "LoadImage");
    expect((await decodePixels(comfy.inputs.get(String(load?.inputs.image)) as Buffer)).centre()).toBe(0);
    expect(graph["3"]?.inputs.denoise).toBe(0.65);
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
  });

  it("🔄 runs the prompt again with a new seed, in a new message", async () => {
    const rerolled = await click(grid, "🔄");
    expect(rerolled.id).not.toBe(grid.id);
    expect(lastGraph()["6"]?.inputs.text).toBe("a red fox");
    expect(lastGraph()["3"]?.inputs.seed).not.toBe(9);
  });
});
