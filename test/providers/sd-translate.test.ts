// The Midjourney → Stable Diffusion mapping ComfyUI and AUTOMATIC1111 share: the values it gives.
import { describe, expect, it } from "vitest";
import {
  cfgForStylize,
  nativePixels,
  sdSize,
  sdWeights,
  spreadForChaos,
  stepsForQuality,
  translateForSd,
} from "../../src/providers/sd-translate.ts";
import { prompt } from "./support.ts";

const size = (width: number, height: number, pixels?: number) => sdSize({ width, height }, pixels);

describe("--ar as width × height", () => {
  it("is the exact shape in multiples of 64 within a fifth of the native pixel count", () => {
    expect(size(1, 1)).toEqual({ width: 1024, height: 1024, exact: true });
    expect(size(3, 2)).toEqual({ width: 1344, height: 896, exact: true });
    expect(size(2, 3)).toEqual({ width: 896, height: 1344, exact: true });
    expect(size(4, 3)).toEqual({ width: 1280, height: 960, exact: true });
    expect(size(1, 2)).toEqual({ width: 704, height: 1408, exact: true });
  });

  it("is rounded to multiples of 64 around the native pixel count when no exact shape is near", () => {
    expect(size(16, 9)).toEqual({ width: 1344, height: 768, exact: false });
    expect(size(9, 16)).toEqual({ width: 768, height: 1344, exact: false });
    expect(size(21, 9)).toEqual({ width: 1536, height: 640, exact: false });
  });

  it("takes SD 1.5's 512² as the native size", () => {
    expect(size(1, 1, nativePixels.sd15)).toEqual({ width: 512, height: 512, exact: true });
    expect(size(3, 2, nativePixels.sd15)).toEqual({ width: 576, height: 384, exact: true });
    expect(size(16, 9, nativePixels.sd15)).toEqual({ width: 704, height: 384, exact: false });
  });

  it("notes a rounded shape, and only then", () => {
    const backend = { label: "ComfyUI" };
    expect(translateForSd(prompt("a fox", { ar: "3:2" }), backend).warnings).toEqual([]);
    expect(translateForSd(prompt("a fox", { ar: "16:9" }), backend).warnings).toEqual([
      { type: "changed", feature: "--ar", details: "16:9 → 1344×768 (sides are multiples of 64)" },
    ]);
  });
});

describe("the knobs", () => {
  it("--stylize is guidance: 100 → CFG 7, each doubling 1.5 less, 3–11.5", () => {
    expect([0, 25, 50, 100, 200, 400, 1000].map(cfgForStylize)).toEqual([11.5, 10, 8.5, 7, 5.5, 4, 3]);
  });

  it("--q is sampling steps: .25 → 10, .5 → 15, 1 → 25, 2 → 40, 4 → 50", () => {
    expect([0.25, 0.5, 1, 2, 4].map(stepsForQuality)).toEqual([10, 15, 25, 40, 50]);
  });

  it("--chaos is how far the four images spread: 0 → 0.2, 50 → 0.6, 100 → 1", () => {
    expect([0, 50, 100].map(spreadForChaos)).toEqual([0.2, 0.6, 1]);
  });

  it("maps seed, --no, --stylize, --q and --chaos without an 'unsupported' note", () => {
    const fox = prompt("a red fox", {
      ar: "3:2",
      seed: 7,
      no: ["fog", "rain"],
      stylize: 400,
      quality: 2,
      chaos: 50,
    });
    expect(translateForSd(fox, { label: "AUTOMATIC1111", spread: true })).toEqual({
      prompt: "a red fox",
      negativePrompt: "fog, rain",
      seed: 7,
      width: 1344,
      height: 896,
      cfg: 4,
      steps: 40,
      spread: 0.6,
      warnings: [
        { type: "changed", feature: "--stylize", details: "as guidance: CFG 4 (7 is usual)" },
        {
          type: "changed",
          feature: "--chaos",
          details: "as how far the four images spread from one seed: variation strength 0.6",
        },
      ],
    });
  });

  it("leaves the backend's own guidance and steps without --stylize and --q; --chaos is noted where there is no spread", () => {
    const plain = translateForSd(prompt("a fox", { chaos: 20 }), { label: "ComfyUI" });
    expect(plain).toEqual({
      prompt: "a fox",
      negativePrompt: "",
      width: 1024,
      height: 1024,
      warnings: [{ type: "unsupported", feature: "--chaos", details: "ComfyUI has no such setting" }],
    });
  });
});

describe(":: weights", () => {
  it("become (part:weight), relative to the mean weight; weight 1 stays plain text", () => {
    expect(sdWeights([{ text: "space", weight: 2 }, { text: "ship" }])).toEqual({
      text: "(space:1.33), (ship:0.67)",
      negative: [],
    });
    expect(sdWeights([{ text: "hot" }, { text: "dog" }])).toEqual({ text: "hot, dog", negative: [] });
  });

  it("go to the negative prompt when below zero, brackets in the text escaped", () => {
    const weighted = { ...prompt("still life (oil):: fruit::-0.5", { no: ["fog"] }) };
    weighted.segments = [
      { text: "still life (oil)", weight: 1 },
      { text: "fruit", weight: -0.5 },
    ];
    const sd = translateForSd(weighted, { label: "ComfyUI" });
    expect(sd.prompt).toBe("still life (oil)");
    expect(sd.negativePrompt).toBe("fog, (fruit:0.5)");
    expect(sd.warnings).toEqual([]);
    weighted.segments = [
      { text: "still life (oil)", weight: 3 },
      { text: "fruit", weight: 1 },
    ];
    expect(translateForSd(weighted, { label: "ComfyUI" }).prompt).toBe(
      "(still life \\(oil\\):1.5), (fruit:0.5)",
    );
  });
});
