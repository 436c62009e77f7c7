import { describe, expect, it } from "vitest";
import { checkPrompt } from "../../src/prompt/index.ts";
import { CORPUS } from "./corpus.ts";

describe("a corpus of realistic prompts", () => {
  it("has at least 100 prompts", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CORPUS.map((entry) => [entry.input.slice(0, 90), entry] as const))("%s", (_, entry) => {
    const result = checkPrompt(entry.input);
    if (entry.error !== undefined) {
      expect(result.ok, "expected an error").toBe(false);
      if (result.ok) return;
      expect(result.error.parameter ?? "").toBe(entry.error);
      if (entry.message) expect(result.error.message).toContain(entry.message);
      return;
    }
    if (!result.ok) throw new Error(`unexpected error: ${result.error.message}`);
    if (entry.text !== undefined) expect(result.prompt.text).toBe(entry.text);
    expect(result.prompt.images).toEqual(entry.images ?? []);
    if (entry.params) expect(result.prompt.params).toEqual(entry.params);
    expect(result.expanded).toHaveLength(entry.jobs ?? 1);
    if (entry.warning) expect(result.prompt.warnings.join("\n")).toContain(entry.warning);
  });
});
