// The workflow end to end on OpenAI's Images API: the real discord.js client, the fake Discord and
// the OpenAI emulator. /imagine shows the image forming (partial images as the preview), then the
// grid; U2 picks an image without a request; V1, 🔄 and Zoom Out are new streamed requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAiEmulator, startOpenAiEmulator } from "../../emulators/index.ts";
import { createOpenAiProvider } from "../../src/providers/openai.ts";
import type { FakeMessage } from "../fake-discord/index.ts";
import { setRequestBody } from "../support/openai.ts";
import { decodePixels } from "../support/pixels.ts";
import {
  clickFinished,
  expectGrid,
  expectLivePreviews,
  expectSingleButtons,
  imagineWithProgress,
} from "./backend-flow.ts";
import {
  centreColour,
  evolinkKey,
  quadrantColours,
  startWorld,
  type World,
  type WorldBackend,
} from "./world.ts";

let world: World;
let openai: OpenAiEmulator;
const backend: WorldBackend = async ({ apiKey, blobs, logger, taskDurationMs }) => {
  openai = await startOpenAiEmulator({ apiKey, durationMs: taskDurationMs });
  const provider = createOpenAiProvider({ apiKey, baseUrl: openai.baseUrl, blobs, logger });
  return { provider, baseUrl: openai.baseUrl, stop: () => openai.stop() };
};

beforeAll(async () => {
  world = await startWorld({ backend, taskDurationMs: 1_500 });
});
afterAll(async () => {
  await world?.stop();
});

type Upload = { bytes: Buffer; width: number; height: number };
const lastRequest = () => openai.apiRequests("POST").at(-1);
/** The last POST's body; an edit's files (`image[]`, `mask`) as the emulator read them. */
const lastBody = () => lastRequest()?.body as Record<string, unknown> & { "image[]": Upload[]; mask: Upload };

const click = (message: FakeMessage, label: string) => clickFinished(world, message, label);

describe("on OpenAI", () => {
  let grid: FakeMessage;
  let single: FakeMessage;

  it("/imagine shows the image forming, then the 2×2 grid in reading order", async () => {
    const imagined = await imagineWithProgress(world, "a red fox --ar 3:2");
    grid = imagined.grid;
    expectLivePreviews(imagined.edits);
    expect(lastRequest()?.path).toBe("/v1/images/generations");
    expect(lastBody()).toEqual(setRequestBody("a red fox", "1248x832"));
    await expectGrid(grid, [2496, 1664]);
  });

  it("U2 is image 2 alone, with V, HD, Zoom Out, Pan and Make Square, and costs no request", async () => {
    const before = openai.apiRequests().length;
    single = await click(grid, "U2");
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(1);
    // (The views also add an "Open full size" link to the image's atelier-blob: link, which real
    // Discord refuses: only http(s) links are allowed. Left to src/discord/views.ts; see the report.)
    expectSingleButtons(single);
    expect(openai.apiRequests()).toHaveLength(before);
  });

  it("V1 sends image 1 to an edit and ends as a new grid", async () => {
    const varied = await click(grid, "V1");
    expect(lastRequest()?.path).toBe("/v1/images/edits");
    const body = lastBody();
    expect(body).toMatchObject({ n: "4", size: "1248x832", stream: "true" });
    expect(body.prompt).toMatch(/variation of this image.*The picture: a red fox$/);
    expect((await decodePixels((body["image[]"][0] as Upload).bytes)).centre()).toBe(0);
    expect((await quadrantColours(varied.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
  });

  it("🔄 sends the same prompt again as a new job in a new message", async () => {
    const rerolled = await click(grid, "🔄");
    expect(rerolled.id).not.toBe(grid.id);
    expect(lastBody()).toMatchObject({ prompt: "a red fox", n: 4, size: "1248x832" });
  });

  it("Zoom Out 2x on the single image sends it at half size on a transparent canvas with a mask", async () => {
    const zoomed = await click(single, "Zoom Out 2x");
    const body = lastBody();
    expect(lastRequest()?.path).toBe("/v1/images/edits");
    const canvas = await decodePixels((body["image[]"][0] as Upload).bytes);
    const mask = await decodePixels(body.mask.bytes);
    expect([canvas.width, canvas.height, mask.width, mask.height]).toEqual([1248, 832, 1248, 832]);
    expect([canvas.centre(), canvas.pixel(5, 5)[3], mask.pixel(624, 416)[3], mask.pixel(5, 5)[3]]).toEqual([
      1, 0, 255, 0,
    ]);
    expect((await quadrantColours(zoomed.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
  });

  it("never writes the key to the log", () => {
    expect(world.logLines.join("\n")).not.toContain(evolinkKey);
  });
});
