// `atelier imagine --provider a1111` as a newcomer runs it: the real bin script in a child process,
// A1111_URL pointing at the AUTOMATIC1111 emulator (started with --api-auth: A1111_AUTH set).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type A1111Emulator, startA1111Emulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";

describe("atelier imagine --provider a1111", () => {
  const auth = "atelier:cli-a1111-password";
  let emulator: A1111Emulator;
  let out: string;
  const settings = () => ({
    PROVIDER: "a1111",
    A1111_URL: emulator.baseUrl,
    A1111_AUTH: auth,
    POLL_INTERVAL_SECONDS: "0.1",
  });

  beforeAll(async () => {
    emulator = await startA1111Emulator({ auth, stepMs: 8 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-a1111-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a grid twice the tile size and the four images, in order", async () => {
    const prompt = "a red fox --ar 3:2 --seed 7 --no fog";
    const result = await runAtelier(["imagine", prompt, "--provider", "a1111", "--out", out], settings());
    expect(result.stderr).not.toContain("cli-a1111-password");
    expect(result.code).toBe(0);
    await expectSetWritten(out, { tile: [1344, 896] });
    expect(emulator.bodies("txt2img")).toEqual([
      expect.objectContaining({
        prompt: "a red fox",
        negative_prompt: "fog",
        seed: 7,
        width: 1344,
        height: 896,
        batch_size: 4,
        n_iter: 1,
        subseed_strength: 0,
      }),
    ]);
  });

  it("fails with one clear line naming A1111_AUTH when the login is wrong", async () => {
    const result = await runAtelier(["imagine", "a red fox", "--provider", "a1111", "--out", out], {
      ...settings(),
      A1111_AUTH: "atelier:wrong-password-9999",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/A1111_AUTH/);
    expect(result.stderr).not.toContain("wrong-password-9999");
  });
});
