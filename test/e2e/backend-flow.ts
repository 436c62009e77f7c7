// The steps every backend's end-to-end test takes the same way: /imagine to a finished grid, a click
// to its finished follow-up, and the checks every backend shares (the grid's buttons and 2×2 layout,
// the live previews, the upscaled single's buttons). What each backend sends stays in its own test.
import type { APIUser } from "discord.js";
import { expect } from "vitest";
import type { FakeMessage, MessageRevision } from "../fake-discord/index.ts";
import { buttonRows, customIdOf, finishedReply, isFinished, quadrantColours, type World } from "./world.ts";

const timeoutMs = 20_000;

/** Runs /imagine (as `user` when given) and waits for its finished grid and the edits on the way. */
export async function imagineWithProgress(
  world: World,
  prompt: string,
  user?: APIUser,
): Promise<{ grid: FakeMessage; edits: MessageRevision[] }> {
  const run = await world.fake.runSlashCommand({
    name: "imagine",
    options: { prompt },
    ...(user ? { user } : {}),
  });
  const grid = await finishedReply(world, run, timeoutMs);
  return { grid, edits: world.fake.edits(grid.id) };
}

/** Clicks `label` on `message` and waits for the finished follow-up. */
export async function clickFinished(
  world: World,
  message: FakeMessage,
  label: string,
  timeout = timeoutMs,
): Promise<FakeMessage> {
  const clicked = await world.fake.clickButton({ message, customId: customIdOf(message, label) });
  return clicked.waitForFollowUp((reply) => isFinished(reply), timeout);
}

/** Asserts some of `edits` were progress revisions carrying a preview image. */
export function expectLivePreviews(edits: MessageRevision[]): void {
  const previews = edits.filter(
    (revision) => /\(\d+%\)/.test(revision.content) && revision.attachmentIds.length > 0,
  );
  expect(previews.length).toBeGreaterThan(0);
}

/** Asserts a grid's U/🔄/V buttons and that it is `[width, height]` with images 0–3 in reading order. */
export async function expectGrid(grid: FakeMessage, [width, height]: [number, number]): Promise<void> {
  expect(buttonRows(grid)).toEqual([
    ["U1", "U2", "U3", "U4", "🔄"],
    ["V1", "V2", "V3", "V4"],
  ]);
  expect(await quadrantColours(grid.attachments[0]?.bytes as Buffer)).toEqual({
    width,
    height,
    tiles: [0, 1, 2, 3],
  });
}

/** Asserts the first three button rows of an upscaled single: vary/HD, zoom/square, pan. */
export function expectSingleButtons(single: FakeMessage): void {
  expect(buttonRows(single).slice(0, 3)).toEqual([
    ["Vary (Subtle)", "Vary (Strong)", "Run as HD"],
    ["Zoom Out 2x", "Zoom Out 1.5x", "Make Square"],
    ["⬅️", "➡️", "⬆️", "⬇️"],
  ]);
}
