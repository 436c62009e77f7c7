// `atelier imagine --provider gemini` as a newcomer runs it: the real bin script in a child process,
// GEMINI_BASE_URL pointing at the Gemini emulator.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/index.ts";
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

describe("atelier imagine --provider gemini", () => {
  const apiKey = "gemini-cli-test-key-0123";
  let emulator: GeminiEmulator;
  let out: string;
  const settings = () => ({
    PROVIDER: "gemini",
    GEMINI_BASE_URL: emulator.baseUrl,
    GEMINI_API_KEY: apiKey,
    POLL_INTERVAL_SECONDS: "0.1",
  });

  beforeAll(async () => {
    emulator = await startGeminiEmulator({ apiKey, generationMs: 100, staggerMs: 50, tileLongSide: 300 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-gemini-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a grid twice the tile size and the four images, in order", async () => {
    const prompt = "a red fox --ar 3:2 --seed 7 --no fog";
    const result = await atelier(["imagine", prompt, "--provider", "gemini", "--out", out], settings());
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Left out --seed: Gemini gemini-3.1-flash-image takes no seed.");
    expect(result.stderr).toContain("Moved --no out of the prompt");
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
    expect([tile.width, tile.height]).toEqual([300, 200]);
    expect([grid.width, grid.height]).toEqual([600, 400]);
    for (let n = 0; n < 4; n += 1) {
      expect((await decodePixels(join(out, `${n + 1}.png`))).paletteIndexAt(150, 100)).toBe(n);
    }
    const gridPixels = await decodePixels(join(out, files[4] as string));
    expect(gridPixels.quadrants()).toEqual([0, 1, 2, 3]);
    const expected = {
      contents: [{ role: "user", parts: [{ text: "a red fox, without fog" }] }],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "3:2" } },
    };
    expect(emulator.generateBodies()).toEqual(Array(4).fill(expected));
  });

  it("fails with one clear line naming GEMINI_API_KEY when the key is wrong", async () => {
    const result = await atelier(["imagine", "a red fox", "--provider", "gemini", "--out", out], {
      ...settings(),
      GEMINI_API_KEY: "wrong-gemini-key-9999",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GEMINI_API_KEY/);
    expect(result.stderr).not.toContain("wrong-gemini-key-9999");
  });

  it("stops before anything is sent when the key is missing", async () => {
    const before = emulator.requests.length;
    const result = await atelier(["imagine", "a red fox", "--out", out], {
      ...settings(),
      GEMINI_API_KEY: "",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GEMINI_API_KEY is missing/);
    expect(emulator.requests).toHaveLength(before);
  });
});
