import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EditPacer } from "../../src/discord/pacing.ts";

describe("progress edit pacing", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function recorder() {
    const shown: string[] = [];
    const edit = (view: string) => async () => {
      shown.push(view);
    };
    return { shown, edit };
  }

  it("shows the newest progress at most once per interval", async () => {
    const pacer = new EditPacer({ intervalMs: 2000, now: () => Date.now() });
    const { shown, edit } = recorder();
    void pacer.edit("m", "10%", edit("10%"));
    await vi.advanceTimersByTimeAsync(0);
    for (const percent of ["20%", "30%", "40%"]) void pacer.edit("m", percent, edit(percent));
    await vi.advanceTimersByTimeAsync(1999);
    expect(shown).toEqual(["10%"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(shown).toEqual(["10%", "40%"]);
  });

  it("does not edit when the view did not change", async () => {
    const pacer = new EditPacer({ intervalMs: 2000, now: () => Date.now() });
    const { shown, edit } = recorder();
    await pacer.edit("m", "50%", edit("50%"));
    await vi.advanceTimersByTimeAsync(5000);
    await pacer.edit("m", "50%", edit("50%"));
    expect(shown).toEqual(["50%"]);
  });

  it("sends the final view without waiting, after the edit in flight, and replaces pending progress", async () => {
    const pacer = new EditPacer({ intervalMs: 2000, now: () => Date.now() });
    const { shown, edit } = recorder();
    await pacer.edit("m", "10%", edit("10%"));
    void pacer.edit("m", "90%", edit("90%"));
    const final = pacer.edit("m", "done", edit("done"), { final: true });
    await vi.advanceTimersByTimeAsync(0);
    await final;
    expect(shown).toEqual(["10%", "done"]);
  });

  it("keeps messages independent and forgets closed ones", async () => {
    const pacer = new EditPacer({ intervalMs: 2000, now: () => Date.now() });
    const { shown, edit } = recorder();
    await Promise.all([pacer.edit("a", "a1", edit("a1")), pacer.edit("b", "b1", edit("b1"))]);
    expect(shown).toEqual(["a1", "b1"]);
    pacer.close("a");
    pacer.close("b");
    expect(pacer.size).toBe(0);
  });

  it("passes a failed edit's error to everyone waiting on it", async () => {
    const pacer = new EditPacer({ intervalMs: 2000, now: () => Date.now() });
    const failing = pacer.edit("m", "x", async () => {
      throw new Error("Unknown Message");
    });
    await expect(failing).rejects.toThrow("Unknown Message");
  });
});
