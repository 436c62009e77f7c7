// The `atelier` command as a newcomer runs it: the real bin script in a child process.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../emulators/index.ts";
import { decodePixels } from "./support/pixels.ts";

const run = promisify(execFile);
const bin = new URL("../bin/atelier.mjs", import.meta.url).pathname;

async function atelier(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      cwd: tmpdir(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("atelier check", () => {
  it("reads an em dash as a parameter marker and says so", async () => {
    const result = await atelier(["check", "a cat —ar 16:9 --s 250"]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.ok).toBe(true);
    expect(parsed.prompt.params).toMatchObject({ ar: "16:9", stylize: 250 });
    expect(parsed.prompt.warnings.join(" ")).toMatch(/—ar/);
  });

  it("exits 1 naming --ar and the expected form", async () => {
    const result = await atelier(["check", "a cat --ar banana"]);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.error.parameter).toBe("--ar");
    expect(parsed.error.message).toMatch(/W:H/);
  });

  it("exits 1 explaining that one image needs text", async () => {
    const result = await atelier(["check", "https://x.test/a.png"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.message).toMatch(/one image needs text/i);
  });
});

describe("atelier imagine", () => {
  const apiKey = "evk-cli-test-key-0123";
  let emulator: EvolinkEmulator;
  let out: string;

  beforeAll(async () => {
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 300, tileLongSide: 300 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a 2×2 grid twice the tile size and the four images, in order", async () => {
    const env = { EVOLINK_BASE_URL: emulator.baseUrl, EVOLINK_API_KEY: apiKey, POLL_INTERVAL_SECONDS: "0.1" };
    const result = await atelier(["imagine", "a red fox --ar 3:2", "--out", out], env);
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      "1.png",
      "2.png",
      "3.png",
      "4.png",
      expect.stringMatching(/^grid\.(jpg|webp|png)$/),
    ]);
    const tile = await sharp(join(out, "1.png")).metadata();
    const grid = await sharp(join(out, files[4] as string)).metadata();
    expect(tile.width).toBe(300);
    expect(tile.height).toBe(200);
    expect([grid.width, grid.height]).toEqual([600, 400]);
    for (let n = 0; n < 4; n += 1) {
      expect((await decodePixels(join(out, `${n + 1}.png`))).paletteIndexAt(150, 100)).toBe(n);
    }
  });

  it("fails with one clear line naming the setting when the key is wrong", async () => {
    const env = { EVOLINK_BASE_URL: emulator.baseUrl, EVOLINK_API_KEY: "evk-wrong-key-9999" };
    const result = await atelier(["imagine", "a red fox", "--out", out], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EVOLINK_API_KEY/);
    expect(result.stderr).not.toContain("evk-wrong-key-9999");
  });

  it("stops before anything is sent when the settings are missing", async () => {
    const result = await atelier(["imagine", "a red fox", "--out", out], {
      EVOLINK_BASE_URL: emulator.baseUrl,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EVOLINK_API_KEY is missing/);
  });
});
