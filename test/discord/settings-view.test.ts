// The /settings panel and the remix form: custom ids that never collide with job buttons, and a
// panel that shows only what the provider offers.
import type { APIActionRowComponent, APIButtonComponent } from "discord.js";
import { ButtonStyle } from "discord.js";
import { describe, expect, it } from "vitest";
import { decodeButton } from "../../src/discord/custom-id.ts";
import { decodeRemix, encodeRemix, remixModal } from "../../src/discord/remix-modal.ts";
import {
  decodeSettingsButton,
  encodeSettingsButton,
  isSettingsButton,
  settingsView,
} from "../../src/discord/settings-view.ts";
import { MODEL_CHOICES, type SettingChoice, type SettingsOffer } from "../../src/team/preferences.ts";

const evolinkLike: SettingsOffer = {
  models: MODEL_CHOICES.filter((model) => model.id === "v8.1"),
  speeds: ["draft", "fast", "turbo"],
  hd: true,
  variation: ["subtle", "strong"],
  remix: true,
};

function labels(rows: APIActionRowComponent<APIButtonComponent>[]): string[][] {
  return rows.map((row) => row.components.map((button) => ("label" in button ? (button.label ?? "") : "")));
}

describe("settings button ids", () => {
  it("round-trip every kind of choice under the st: prefix", () => {
    const choices: SettingChoice[] = [
      { setting: "model", value: "niji6" },
      { setting: "stylize", value: "veryHigh" },
      { setting: "raw", value: true },
      { setting: "remix", value: false },
      { setting: "speed", value: "turbo" },
      { setting: "quality", value: "hd" },
      { setting: "variation", value: "subtle" },
      { setting: "reset" },
    ];
    for (const choice of choices) {
      const id = encodeSettingsButton(choice);
      expect(isSettingsButton(id)).toBe(true);
      expect(decodeButton(id)).toBeUndefined();
      expect(decodeSettingsButton(id)).toEqual(choice);
    }
  });

  it("decode nothing malformed or foreign", () => {
    for (const id of [
      "st",
      "st:",
      "st:stylize",
      "st:stylize:huge",
      "st:raw:yes",
      "st:model:v99",
      "st:reset:now",
      "st:speed:fast:extra",
      "st:__proto__:x",
      "at:k3x9q0a1b2:u:2",
    ])
      expect(decodeSettingsButton(id)).toBeUndefined();
  });
});

describe("settings panel", () => {
  it("shows one row per setting with the value in effect highlighted", () => {
    const view = settingsView({ stylize: "high", remix: true }, evolinkLike, {
      speed: "fast",
      quality: "standard",
    });
    expect(labels(view.components)).toEqual([
      ["V8.1"],
      ["Stylize low", "Stylize med", "Stylize high", "Stylize very high", "RAW Mode"],
      ["Draft mode", "Fast mode", "Turbo mode", "HD"],
      ["High Variation Mode", "Low Variation Mode", "Remix mode", "Reset settings"],
    ]);
    const [model, stylize] = view.components;
    expect(model?.components[0]).toMatchObject({ disabled: true, style: ButtonStyle.Success });
    expect(stylize?.components[2]?.style).toBe(ButtonStyle.Success);
    expect(view.content).toContain(
      "Stylize **high** (--stylize 250) · Raw **off** · Speed **fast** · Quality **SD**",
    );
    expect(view.content).toContain("Remix **on**");
  });

  it("offers a model choice when the provider runs several, and leaves out what it cannot do", () => {
    const offer: SettingsOffer = {
      models: [...MODEL_CHOICES],
      speeds: [],
      hd: false,
      variation: ["strong"],
      remix: false,
    };
    const view = settingsView({ model: "niji6" }, offer, {});
    expect(labels(view.components)).toEqual([
      ["V8.1", "V7", "V6.1", "Niji 7", "Niji 6"],
      ["Stylize low", "Stylize med", "Stylize high", "Stylize very high", "RAW Mode"],
      ["Reset settings"],
    ]);
    expect(view.components[0]?.components[4]).toMatchObject({ style: ButtonStyle.Success });
    expect(view.components[0]?.components[0]).not.toHaveProperty("disabled");
  });
});

describe("remix form", () => {
  it("carries the job, the button and the image in an rm: id that job buttons never decode", () => {
    const id = encodeRemix({ jobId: "k3x9q0a1b2", action: "variation", index: 3 });
    expect(id).toBe("rm:k3x9q0a1b2:v:3");
    expect(decodeButton(id)).toBeUndefined();
    expect(decodeRemix(id)).toEqual({ jobId: "k3x9q0a1b2", action: "variation", index: 3 });
    expect(decodeRemix("rm:k3x9q0a1b2:r")).toEqual({ jobId: "k3x9q0a1b2", action: "reroll" });
    for (const foreign of ["rm:k3x9q0a1b2:u:1", "at:k3x9q0a1b2:v:1", "rm:K!:v:1", "rm:k3x9q0a1b2:v:1:2"])
      expect(decodeRemix(foreign)).toBeUndefined();
  });

  it("holds the prompt in one text input within Discord's limits", () => {
    const modal = remixModal({ jobId: "k3x9q0a1b2", action: "varyStrong" }, "a fox");
    expect(modal.title.length).toBeLessThanOrEqual(45);
    expect(modal.components[0]).toMatchObject({
      label: "Prompt",
      component: { custom_id: "prompt", value: "a fox", max_length: 4000, required: true },
    });
  });
});
