// Per-user preferences: settings become defaults beneath the prompt, /prefer options expand before
// checking, and a broken expansion is blamed on the option that caused it.
import Keyv from "keyv";
import { describe, expect, it } from "vitest";
import { preparePrompts } from "../../src/jobs/pipeline.ts";
import {
  appendSuffix,
  blamePreferences,
  checkPrompt,
  expandOptions,
  parsePrompt,
  promptError,
  renderPrompt,
} from "../../src/prompt/index.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import {
  applyPromptDefaults,
  chooseSetting,
  deleteOption,
  effectiveSettings,
  PreferenceStore,
  type Preferences,
  resolveJobSettings,
  type SettingsOffer,
  setOption,
  setSuffix,
  settingsOffer,
} from "../../src/team/preferences.ts";

const evolink = createEvolinkProvider({ apiKey: "unused", baseUrl: "http://127.0.0.1:9" });

const wideOffer: SettingsOffer = {
  models: [
    { id: "v8.1", label: "V8.1", params: { v: "8.1" } },
    { id: "v7", label: "V7", params: { v: "7" } },
    { id: "niji6", label: "Niji 6", params: { niji: "6" } },
  ],
  speeds: ["draft", "fast", "turbo", "relax"],
  hd: true,
  variation: ["subtle", "strong"],
  remix: true,
};

function parsed(text: string) {
  const result = parsePrompt(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.prompt;
}

function withDefaults(text: string, preferences: Preferences, offer = wideOffer): string {
  return renderPrompt(applyPromptDefaults(parsed(text), preferences, offer));
}

const check = (text: string) => {
  const result = checkPrompt(text);
  return result.ok ? undefined : result.error;
};

describe("settings as prompt defaults", () => {
  it("adds the stylize preset only when the prompt has no stylize", () => {
    expect(withDefaults("a fox", { stylize: "high" })).toBe("a fox --stylize 250");
    expect(withDefaults("a fox --s 20", { stylize: "high" })).toBe("a fox --stylize 20");
    expect(withDefaults("a fox", { stylize: "veryHigh" })).toBe("a fox --stylize 750");
  });

  it("treats the med preset as Midjourney's default and adds nothing", () => {
    expect(withDefaults("a fox", { stylize: "med" })).toBe("a fox");
  });

  it("adds style raw only when the prompt has no --style and its model knows raw", () => {
    expect(withDefaults("a fox", { raw: true })).toBe("a fox --style raw");
    expect(withDefaults("a fox --niji 5 --style cute", { raw: true })).toBe("a fox --niji 5 --style cute");
    expect(withDefaults("a fox --v 5", { raw: true })).toBe("a fox --v 5");
  });

  it("adds the chosen model unless the prompt picks one", () => {
    expect(withDefaults("a fox", { model: "niji6" })).toBe("a fox --niji 6");
    expect(withDefaults("a fox --v 7", { model: "niji6" })).toBe("a fox --v 7");
    expect(withDefaults("a fox", { model: "v8.1" })).toBe("a fox");
    expect(withDefaults("a fox", { model: "v7" }, settingsOffer(evolink))).toBe("a fox");
  });

  it("takes speed and quality from settings unless the prompt has a speed flag or --hd", () => {
    const defaults = { speed: "fast", quality: "standard" } as const;
    expect(resolveJobSettings({}, { speed: "turbo" }, wideOffer, defaults)).toEqual({
      speed: "turbo",
      quality: "standard",
    });
    expect(resolveJobSettings({ relax: true }, { speed: "turbo" }, wideOffer, defaults).speed).toBe("relax");
    expect(resolveJobSettings({}, { quality: "hd" }, wideOffer, defaults).quality).toBe("hd");
    expect(resolveJobSettings({ hd: true }, {}, wideOffer, defaults).quality).toBe("hd");
    expect(resolveJobSettings({}, {}, wideOffer, defaults)).toEqual(defaults);
  });

  it("never combines HD with draft: whichever the prompt asked for wins", () => {
    const defaults = { speed: "fast", quality: "standard" } as const;
    expect(resolveJobSettings({ draft: true }, { quality: "hd" }, wideOffer, defaults)).toEqual({
      speed: "draft",
      quality: "standard",
    });
    expect(resolveJobSettings({ hd: true }, { speed: "draft" }, wideOffer, defaults)).toEqual({
      speed: "fast",
      quality: "hd",
    });
  });

  it("ignores a speed the provider does not offer", () => {
    const offer = { ...wideOffer, speeds: ["fast" as const] };
    expect(resolveJobSettings({}, { speed: "relax" }, offer, { speed: "fast" }).speed).toBe("fast");
  });

  it("shows the values in effect, with defaults for what was never chosen", () => {
    expect(effectiveSettings({}, settingsOffer(evolink), { speed: "fast", quality: "standard" })).toEqual({
      model: { id: "v8.1", label: "V8.1", params: { v: "8.1" } },
      stylize: "med",
      raw: false,
      speed: "fast",
      quality: "standard",
      variation: "strong",
      remix: false,
    });
  });

  it("offers only the models the provider runs (EvoLink: V8.1)", () => {
    expect(settingsOffer(evolink).models.map((model) => model.id)).toEqual(["v8.1"]);
  });

  it("a panel click stores the choice; reset keeps the suffix and options", () => {
    const chosen = chooseSetting(
      { suffix: "--ar 2:1", options: { wide: "--ar 16:9" } },
      {
        setting: "stylize",
        value: "high",
      },
    );
    expect(chosen.stylize).toBe("high");
    expect(chooseSetting(chosen, { setting: "reset" })).toEqual({
      suffix: "--ar 2:1",
      options: { wide: "--ar 16:9" },
    });
    expect(chooseSetting({ quality: "hd" }, { setting: "speed", value: "draft" })).toEqual({
      speed: "draft",
      quality: "standard",
    });
  });
});

describe("/prefer options and suffix", () => {
  it("expands known --name tokens, also inside permutations, and leaves the rest", () => {
    const options = { wide: "--ar 16:9 --s 300", dark: "moody lighting" };
    expect(expandOptions("a beach --wide", options)).toEqual({
      text: "a beach --ar 16:9 --s 300",
      used: [{ name: "wide", value: "--ar 16:9 --s 300" }],
    });
    expect(expandOptions("a beach {--wide, --dark}", options).text).toBe(
      "a beach {--ar 16:9 --s 300, moody lighting}",
    );
    expect(expandOptions("a beach—wide --WIDE", options).text).toBe("a beach—wide --ar 16:9 --s 300");
    expect(expandOptions("a beach --widest", options).used).toEqual([]);
  });

  it("rejects names that shadow parameters, bad names and too many options", () => {
    expect(setOption({}, "ar", "--ar 1:1")).toMatchObject({
      ok: false,
      message: /--ar is a Midjourney parameter/,
    });
    expect(setOption({}, "--raw", "--s 5")).toMatchObject({ ok: false });
    expect(setOption({}, "s", "--s 5")).toMatchObject({ ok: false });
    expect(setOption({}, "9lives", "--s 5")).toMatchObject({ ok: false });
    expect(setOption({}, "x".repeat(31), "--s 5")).toMatchObject({ ok: false });
    const full: Preferences = {
      options: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`o${i}`, "--s 1"])),
    };
    expect(setOption(full, "one-more", "--s 2")).toMatchObject({ ok: false, message: /20 options/ });
    expect(setOption(full, "o3", "--s 2")).toMatchObject({ ok: true });
  });

  it("checks a value when it is set, naming the parameter", () => {
    expect(setOption({}, "--Wide", "--ar 16:9")).toEqual({
      ok: true,
      preferences: { options: { wide: "--ar 16:9" } },
    });
    expect(setOption({}, "wide", "--ar 16:9x")).toMatchObject({
      ok: false,
      message: /--wide cannot expand .*--ar must be W:H/,
    });
    expect(setOption({}, "long", `--no ${"a".repeat(500)}`)).toMatchObject({
      ok: false,
      message: /limit is 500/,
    });
  });

  it("deletes options and sets or clears the suffix", () => {
    expect(deleteOption({ options: { wide: "--ar 2:1" } }, "--wide")).toEqual({
      ok: true,
      preferences: { options: {} },
    });
    expect(deleteOption({}, "wide")).toMatchObject({ ok: false, message: "You have no option --wide" });
    expect(setSuffix({}, " --ar 2:1 ")).toEqual({ ok: true, preferences: { suffix: "--ar 2:1" } });
    expect(setSuffix({ suffix: "--ar 2:1" }, undefined)).toEqual({ ok: true, preferences: {} });
    expect(setSuffix({}, "--chaos 500")).toMatchObject({ ok: false, message: /--chaos/ });
  });

  it("puts a suffix's words after the prompt's words and its parameters at the end", () => {
    expect(appendSuffix("a beach", "--ar 2:1")).toBe("a beach --ar 2:1");
    expect(appendSuffix("a beach --s 50", "cinematic --ar 2:1")).toBe("a beach cinematic --s 50 --ar 2:1");
    expect(appendSuffix("a {red, blue --ar 1:1} kite --tile", "soft")).toBe(
      "a {red, blue --ar 1:1} kite soft --tile",
    );
    expect(appendSuffix("a beach", undefined)).toBe("a beach");
  });

  // What the prompt's own check said; blamePreferences decides whether a preference is to blame.
  const anyError = promptError("empty-prompt", {});

  it("blames an option that is invalid on its own", () => {
    const preferences = { options: { wide: "--ar 16:9x" } };
    const error = blamePreferences(anyError, "a beach --wide", preferences, check);
    expect(error.message).toMatch(/^Your option --wide expands to “--ar 16:9x”; --ar must be W:H/);
    expect(error.parameter).toBe("--ar");
  });

  it("blames an option that does not fit the prompt it is used in", () => {
    const preferences = { options: { sketch: "--draft" } };
    const full = check("a cat --hd --draft");
    const error = blamePreferences(full ?? anyError, "a cat --hd --sketch", preferences, check);
    expect(error.message).toMatch(/^Your option --sketch expands to “--draft”; --hd and --draft/);
  });

  it("leaves errors of the prompt itself alone", () => {
    const own = check("a cat --ar banana") ?? anyError;
    expect(blamePreferences(own, "a cat --ar banana", { options: { wide: "--ar 1:1" } }, check)).toBe(own);
  });
});

describe("preparePrompts with preferences", () => {
  const options = { maxJobs: 10, speed: "fast", quality: "standard" } as const;

  it("expands options, appends the suffix, then applies settings beneath the prompt", () => {
    const preferences: Preferences = {
      options: { wide: "--ar 16:9" },
      suffix: "cinematic",
      stylize: "high",
      speed: "turbo",
    };
    const prepared = preparePrompts("a beach --wide", evolink, { ...options, preferences });
    expect(
      prepared.ok && prepared.jobs.map((job) => [renderPrompt(job.prompt), job.speed, job.quality]),
    ).toEqual([["a beach cinematic --ar 16:9 --stylize 250", "turbo", "standard"]]);
  });

  it("reports an invalid expansion naming the option", () => {
    const preferences: Preferences = { options: { wide: "--ar 16:9x" } };
    const prepared = preparePrompts("a beach --wide", evolink, { ...options, preferences });
    expect(prepared.ok ? "" : prepared.error.message).toMatch(/^Your option --wide expands to “--ar 16:9x”/);
  });

  it("without preferences behaves as before", () => {
    const prepared = preparePrompts("a beach --turbo", evolink, options);
    expect(prepared.ok && prepared.jobs[0]?.speed).toBe("fast");
    expect(prepared.ok && prepared.prompts.length).toBe(1);
  });
});

describe("PreferenceStore", () => {
  it("keeps each user's record under pref:<userId> and serializes updates", async () => {
    const keyv = new Keyv();
    const store = new PreferenceStore({ keyv });
    expect(await store.get("u1")).toEqual({});
    await Promise.all([
      store.update("u1", (current) => ({ ...current, raw: true })),
      store.update("u1", (current) => ({ ...current, remix: true })),
    ]);
    expect(await store.get("u1")).toEqual({ raw: true, remix: true });
    expect(await keyv.get("pref:u1")).toEqual({ raw: true, remix: true });
    await expect(store.update("u1", () => ({ stylize: "huge" }) as never)).rejects.toThrow();
    expect(await store.get("u1")).toEqual({ raw: true, remix: true });
  });
});
