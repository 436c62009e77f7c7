// How queued and cancelled jobs read in Discord: position, ❌ Cancel where it can work, "(cancelled)".
import { describe, expect, it } from "vitest";
import { jobContent, jobView } from "../../src/discord/views.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { evolinkCapabilities } from "../../src/providers/evolink.ts";

const base: JobRecord = {
  id: "abcd1234",
  kind: "imagine",
  state: "queued",
  delivered: false,
  provider: "evolink",
  prompt: "a fox",
  warnings: [],
  providerWarnings: [],
  requesterId: "42",
  imageUrls: [],
  pressed: [],
  createdAt: 0,
  updatedAt: 0,
};

function labels(job: JobRecord, cancel = false): string[] {
  return jobView(job, { ...evolinkCapabilities, cancel }).components.flatMap((row) =>
    row.components.map((button) => ("label" in button ? (button.label ?? "") : "")),
  );
}

describe("queued job views", () => {
  it("shows how many jobs are ahead, or that it is next", () => {
    expect(jobContent({ ...base, queuePosition: 3 })).toBe("**a fox** - <@42> (Queued — 3 ahead)");
    expect(jobContent({ ...base, queuePosition: 0 })).toBe("**a fox** - <@42> (Waiting to start)");
    expect(jobContent(base)).toBe("**a fox** - <@42> (Waiting to start)");
  });

  it("offers ❌ Cancel while waiting, and while running only where the provider can cancel", () => {
    expect(labels(base)).toEqual(["Cancel"]);
    expect(labels({ ...base, state: "submitting" })).toEqual([]);
    expect(labels({ ...base, state: "running", progress: 40 })).toEqual([]);
    expect(labels({ ...base, state: "running", progress: 40 }, true)).toEqual(["Cancel"]);
  });

  it("reads a cancelled job as cancelled, with 🔄 to run it again", () => {
    const cancelled: JobRecord = {
      ...base,
      state: "failed",
      error: { kind: "cancelled", advice: "retry", message: "Cancelled by <@42> before it started." },
    };
    const view = jobView(cancelled, evolinkCapabilities);
    expect(view.content).toBe("**a fox** - <@42> (cancelled)");
    expect(view.embeds[0]?.title).toBe("Job cancelled");
    expect(
      view.components[0]?.components.map((button) => ("emoji" in button ? button.emoji?.name : "")),
    ).toEqual(["🔄"]);
  });
});
