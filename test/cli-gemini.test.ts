// `atelier imagine --provider gemini` as a newcomer runs it: the real bin script in a child process,
// GEMINI_BASE_URL pointing at the Gemini emulator.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";

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
    const result = await runAtelier(["imagine", prompt, "--provider", "gemini", "--out", out], settings());
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Left out --seed: Gemini gemini-3.1-flash-image takes no seed.");
    expect(result.stderr).toContain("Moved --no out of the prompt");
    await expectSetWritten(out, { tile: [300, 200] });
    const expected = {
      contents: [{ role: "user", parts: [{ text: "a red fox, without fog" }] }],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "3:2" } },
    };
    expect(emulator.generateBodies()).toEqual(Array(4).fill(expected));
  });

  it("fails with one clear line naming GEMINI_API_KEY when the key is wrong", async () => {
    const result = await runAtelier(["imagine", "a red fox", "--provider", "gemini", "--out", out], {
      ...settings(),
      GEMINI_API_KEY: "wrong-gemini-key-9999",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GEMINI_API_KEY/);
    expect(result.stderr).not.toContain("wrong-gemini-key-9999");
  });

  it("stops before anything is sent when the key is missing", async () => {
    const before = emulator.requests.length;
    const result = await runAtelier(["imagine", "a red fox", "--out", out], {
      ...settings(),
      GEMINI_API_KEY: "",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/GEMINI_API_KEY is missing/);
    expect(emulator.requests).toHaveLength(before);
  });
});
