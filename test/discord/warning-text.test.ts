// Provider warnings in words: one short sentence per warning, from the data the adapters return.
import { describe, expect, it } from "vitest";
import { warningText } from "../../src/discord/warning-text.ts";
import { mergeWarnings, providerWarningSchema } from "../../src/providers/types.ts";

describe("warningText", () => {
  it("says what was left out, and why when the provider said", () => {
    expect(warningText({ type: "unsupported", feature: "--chaos" })).toBe(
      "Left out --chaos (not supported here).",
    );
    expect(
      warningText({
        type: "unsupported",
        feature: "--stop",
        details: "not supported by EvoLink's Midjourney V8.1",
      }),
    ).toBe("Left out --stop: not supported by EvoLink's Midjourney V8.1.");
  });

  it("says where a moved setting went", () => {
    expect(warningText({ type: "moved", feature: "--hd", details: "EvoLink's settings" })).toBe(
      "Moved --hd out of the prompt into EvoLink's settings.",
    );
    expect(warningText({ type: "moved", feature: "--fast" })).toBe("Moved --fast out of the prompt.");
  });

  it("says how a setting was changed, never doubling the full stop", () => {
    expect(
      warningText({
        type: "changed",
        feature: "speed",
        details: "EvoLink has no relax mode, so fast was used.",
      }),
    ).toBe("Changed speed: EvoLink has no relax mode, so fast was used.");
    expect(warningText({ type: "changed", feature: "--ar", details: "16:9 → 16:9 rounded…" })).toBe(
      "Changed --ar: 16:9 → 16:9 rounded…",
    );
  });
});

describe("provider warnings as data", () => {
  it("are validated by the schema the job record stores them with", () => {
    expect(providerWarningSchema.safeParse({ type: "moved", feature: "--hd" }).success).toBe(true);
    expect(providerWarningSchema.safeParse({ type: "dropped", feature: "--hd" }).success).toBe(false);
    expect(providerWarningSchema.safeParse({ type: "unsupported", feature: "" }).success).toBe(false);
  });

  it("merge without repeating what a check and its submit both report", () => {
    const hd = { type: "moved", feature: "--hd", details: "EvoLink's settings" } as const;
    const stop = { type: "unsupported", feature: "--stop" } as const;
    expect(mergeWarnings([hd], [{ ...hd }, stop], [])).toEqual([hd, stop]);
  });
});
