// `atelier imagine --provider comfyui` as a newcomer runs it: the real bin script in a child process,
// COMFYUI_URL pointing at the ComfyUI emulator (a stock install: the default workflow, its first
// checkpoint). The workflow the server received carries the seed, the negative prompt and 3:2.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComfyUiEmulator, startComfyUiEmulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";

type Node = { class_type: string; inputs: Record<string, unknown> };

describe("atelier imagine --provider comfyui", () => {
  let emulator: ComfyUiEmulator;
  let out: string;

  beforeAll(async () => {
    emulator = await startComfyUiEmulator({ taskDurationMs: 200 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-comfyui-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes the grid and the four images; the workflow has the seed, the negative prompt and 3:2", async () => {
    const prompt = "a red fox --ar 3:2 --seed 7 --no fog";
    const result = await runAtelier(["imagine", prompt, "--provider", "comfyui", "--out", out], {
      PROVIDER: "comfyui",
      COMFYUI_URL: emulator.baseUrl,
    });
    expect(result.code).toBe(0);
    await expectSetWritten(out, { tile: [1344, 896] });
    expect(emulator.prompts).toHaveLength(1);
    const graph = emulator.prompts[0]?.prompt as Record<string, Node>;
    expect(graph["3"]?.inputs).toMatchObject({ seed: 7, positive: ["6", 0], negative: ["7", 0] });
    expect(graph["4"]?.inputs.ckpt_name).toBe("sd_xl_base_1.0.safetensors");
    expect(graph["5"]?.inputs).toEqual({ width: 1344, height: 896, batch_size: 4 });
    expect(graph["6"]?.inputs.text).toBe("a red fox");
    expect(graph["7"]?.inputs.text).toBe("fog");
  });

  it("fails with one clear line naming the URL when nothing answers there", async () => {
    const result = await runAtelier(["imagine", "a red fox", "--provider", "comfyui", "--out", out], {
      PROVIDER: "comfyui",
      COMFYUI_URL: "http://127.0.0.1:9",
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/Could not connect to ComfyUI at http:\/\/127\.0\.0\.1:9/),
    ]);
  });
});
