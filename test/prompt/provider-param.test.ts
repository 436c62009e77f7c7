// `--provider NAME` (alias `--via`): Atelier's own parameter choosing the image service for one
// prompt. It parses like any parameter, survives permutations, and is checked against the names
// a caller gives (the CLI: every provider Atelier knows).
import { describe, expect, it } from "vitest";
import { checkPrompt } from "../../src/prompt/index.ts";

describe("--provider", () => {
  it("is read with its alias and kept for every permutation", () => {
    const result = checkPrompt("a {red, blue} fox --via openai --ar 3:2");
    expect(result.ok && result.expanded.map((prompt) => prompt.params.provider)).toEqual([
      "openai",
      "openai",
    ]);
  });

  it("names the known services when it names another", () => {
    const result = checkPrompt("a fox --provider dalle", { providerNames: ["evolink", "openai"] });
    expect(result).toEqual({
      ok: false,
      error: {
        code: "unknown-provider",
        values: { names: "evolink, openai", name: "“dalle”" },
        parameter: "--provider",
        message: "--provider must be one of: evolink, openai (got “dalle”)",
      },
    });
  });

  it("is accepted with any Midjourney version's parameters", () => {
    expect(checkPrompt("a fox --v 6.1 --provider evolink", { providerNames: ["evolink"] }).ok).toBe(true);
    expect(checkPrompt("a fox --niji 6 --provider evolink", { providerNames: ["evolink"] }).ok).toBe(true);
  });
});
