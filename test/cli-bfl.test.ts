// `atelier imagine … --provider bfl` as a newcomer runs it: the real bin script in a child process,
// BFL_BASE_URL at the emulator. Four BFL tasks make the set; the CLI writes the grid and the images.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BflEmulator, startBflEmulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";

const apiKey = "bfl-cli-test-key-0123";

describe("atelier imagine --provider bfl", () => {
  let emulator: BflEmulator;
  let out: string;
  const env = () => ({
    PROVIDER: "bfl",
    BFL_BASE_URL: emulator.baseUrl,
    BFL_API_KEY: apiKey,
    POLL_INTERVAL_SECONDS: "0.1",
  });

  beforeAll(async () => {
    emulator = await startBflEmulator({ apiKey, taskDurationMs: 300 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-bfl-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a grid twice the tile size and the four images in reading order, noting --no", async () => {
    const prompt = "a red fox --ar 3:2 --seed 7 --no fog";
    const result = await runAtelier(["imagine", prompt, "--provider", "bfl", "--out", out], env());
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/--no/);
    await expectSetWritten(out, { tile: [1248, 832], ext: "jpg" });
    const bodies = emulator.apiRequests("POST").map((request) => request.body as Record<string, unknown>);
    expect(bodies.map((body) => [body.prompt, body.width, body.height, body.seed])).toEqual(
      [7, 8, 9, 10].map((seed) => ["a red fox, without fog", 1248, 832, seed]),
    );
  });

  it("fails with one clear line naming BFL_API_KEY when the key is wrong", async () => {
    const result = await runAtelier(["imagine", "a red fox", "--provider", "bfl", "--out", out], {
      ...env(),
      BFL_API_KEY: "bfl-wrong-key-9999",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/BFL_API_KEY/);
    expect(result.stderr).not.toContain("bfl-wrong-key-9999");
  });
});
