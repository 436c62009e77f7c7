import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ButtonAction, buttonActions, decodeButton, encodeButton } from "../../src/discord/custom-id.ts";

describe("button custom_id", () => {
  it("round-trips every action and stays far under Discord's 100 characters", () => {
    const actions = Object.keys(buttonActions) as ButtonAction[];
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-z]{10}$/),
        fc.constantFrom(...actions),
        fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined }),
        (jobId, action, index) => {
          const id = encodeButton({ jobId, action, index });
          expect(id.length).toBeLessThanOrEqual(30);
          expect(decodeButton(id)).toEqual(
            index === undefined ? { jobId, action } : { jobId, action, index },
          );
        },
      ),
    );
  });

  it("reads the Midjourney-style layout of a grid", () => {
    expect(encodeButton({ jobId: "k3x9q0a1b2", action: "upscale", index: 2 })).toBe("at:k3x9q0a1b2:u:2");
    expect(decodeButton("at:k3x9q0a1b2:r")).toEqual({ jobId: "k3x9q0a1b2", action: "reroll" });
  });

  it("ignores ids that are not ours", () => {
    for (const foreign of [
      "MJ::JOB::upsample::1::abc",
      "at:abc",
      "at:k3x9q0a1b2:zz:1",
      "at:K3X:u:1",
      "at:k3x9q0a1b2:u:1:2",
      "",
    ]) {
      expect(decodeButton(foreign)).toBeUndefined();
    }
  });
});
