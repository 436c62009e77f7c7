// `atelier imagine … --provider openai` as a newcomer runs it, OPENAI_BASE_URL at the emulator: one
// streamed request makes the set; the CLI writes the grid (twice the tile size each way, in reading
// order) and the four images, and notes what OpenAI could not take.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAiEmulator, startOpenAiEmulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";
import { setRequestBody } from "./support/openai.ts";

const apiKey = "sk-cli-openai-test-0123456789";

describe("atelier imagine --provider openai", () => {
  let emulator: OpenAiEmulator;
  let out: string;
  const env = () => ({
    PROVIDER: "openai",
    OPENAI_BASE_URL: emulator.baseUrl,
    OPENAI_API_KEY: apiKey,
    POLL_INTERVAL_SECONDS: "0.1",
  });

  beforeAll(async () => {
    emulator = await startOpenAiEmulator({ apiKey, durationMs: 300 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-openai-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a grid twice the tile size and the four images in reading order, noting --seed and --no", async () => {
    const prompt = "a red fox --ar 3:2 --seed 7 --no fog";
    const result = await runAtelier(["imagine", prompt, "--provider", "openai", "--out", out], env());
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/--seed/);
    expect(result.stderr).toMatch(/--no/);
    await expectSetWritten(out, { tile: [1248, 832] });
    expect(emulator.apiRequests("POST").map((request) => request.body)).toEqual([
      setRequestBody("a red fox, without fog", "1248x832"),
    ]);
  });

  it("fails with one clear line naming OPENAI_API_KEY when the key is wrong, without the key", async () => {
    const wrong = "sk-wrong-openai-key-99999999";
    const result = await runAtelier(["imagine", "a red fox", "--provider", "openai", "--out", out], {
      ...env(),
      OPENAI_API_KEY: wrong,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/OPENAI_API_KEY/);
    expect(result.stderr).not.toContain(wrong);
    expect(result.stderr).not.toContain(wrong.slice(-4));
  });
});
