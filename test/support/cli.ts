// The `atelier` command as a newcomer runs it: the real bin script in a child process, with only the
// environment given (plus PATH and HOME), in a temporary directory. Never throws: the exit code,
// stdout and stderr come back for the test to look at. `expectSetWritten` checks what `imagine --out`
// leaves behind: the four images and a 2×2 grid twice the tile size, in reading order.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { expect } from "vitest";
import { decodePixels } from "./pixels.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/atelier.mjs", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runAtelier(
  args: string[],
  env: Record<string, string> = {},
  cwd: string = tmpdir(),
): Promise<CliResult> {
  const options = {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    cwd,
  };
  return run(process.execPath, [bin, ...args], options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

/**
 * Asserts `out` holds exactly 1–4.<ext> and a grid, the tiles `tile` ([width, height]) pixels with
 * palette colours 0–3 at their centres, the grid twice the tile size each way with them in reading
 * order. Returns the sorted file names (the grid last).
 */
export async function expectSetWritten(
  out: string,
  { tile, ext = "png" }: { tile: [number, number]; ext?: "png" | "jpg" },
): Promise<string[]> {
  const files = readdirSync(out).sort();
  expect(files).toEqual([
    `1.${ext}`,
    `2.${ext}`,
    `3.${ext}`,
    `4.${ext}`,
    expect.stringMatching(/^grid\.(jpg|webp|png)$/),
  ]);
  const first = await sharp(join(out, `1.${ext}`)).metadata();
  const grid = await decodePixels(join(out, files[4] as string));
  expect([first.width, first.height]).toEqual(tile);
  expect([grid.width, grid.height]).toEqual([tile[0] * 2, tile[1] * 2]);
  for (let n = 0; n < 4; n += 1) expect((await decodePixels(join(out, `${n + 1}.${ext}`))).centre()).toBe(n);
  expect(grid.quadrants()).toEqual([0, 1, 2, 3]);
  return files;
}
