// The /settings panel, Midjourney style: a summary line and one row of buttons per setting, the
// value in effect highlighted. Pure: preferences and what the provider offers in, message data out.
// Button ids are `st:<setting>[:<value>]`, apart from the job buttons' `at:` ids.
import { type APIActionRowComponent, type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import type { Speed } from "../providers/types.ts";
import {
  type EffectiveSettings,
  effectiveSettings,
  type JobDefaults,
  MODEL_CHOICES,
  type Preferences,
  type SettingChoice,
  type SettingsOffer,
  STYLIZE_VALUES,
  type StylizePreset,
  stylizePresets,
} from "../team/preferences.ts";

export interface SettingsView {
  content: string;
  components: APIActionRowComponent<APIButtonComponent>[];
}

const prefix = "st";

const stylizeLabels: Record<StylizePreset, string> = {
  low: "low",
  med: "med",
  high: "high",
  veryHigh: "very high",
};

const speedLabels: Record<Speed, string> = {
  draft: "Draft mode",
  fast: "Fast mode",
  turbo: "Turbo mode",
  relax: "Relax mode",
};

// --- custom ids --------------------------------------------------------------------------------

function encodeValue(choice: SettingChoice): string | undefined {
  if (choice.setting === "reset") return undefined;
  if (typeof choice.value === "boolean") return choice.value ? "on" : "off";
  return choice.value;
}

export function encodeSettingsButton(choice: SettingChoice): string {
  const value = encodeValue(choice);
  return value === undefined ? `${prefix}:${choice.setting}` : `${prefix}:${choice.setting}:${value}`;
}

export function isSettingsButton(customId: string): boolean {
  return customId.startsWith(`${prefix}:`);
}

function oneOf<T extends string>(values: readonly T[], value: string): T | undefined {
  return values.find((candidate) => candidate === value);
}

function onOff(value: string): boolean | undefined {
  return value === "on" ? true : value === "off" ? false : undefined;
}

/** The choice a settings button stands for; undefined for anything malformed or from another format. */
export function decodeSettingsButton(customId: string): SettingChoice | undefined {
  const [head, setting, value, ...rest] = customId.split(":");
  if (head !== prefix || rest.length > 0) return undefined;
  if (setting === "reset") return value === undefined ? { setting } : undefined;
  if (value === undefined) return undefined;
  switch (setting) {
    case "provider":
      return /^[a-z0-9-]{1,40}$/.test(value) ? { setting, value } : undefined;
    case "model":
      return MODEL_CHOICES.some((choice) => choice.id === value) ? { setting, value } : undefined;
    case "stylize": {
      const preset = oneOf(stylizePresets, value);
      return preset && { setting, value: preset };
    }
    case "raw":
    case "remix": {
      const on = onOff(value);
      return on === undefined ? undefined : { setting, value: on };
    }
    case "speed": {
      const speed = oneOf(["draft", "fast", "turbo", "relax"] as const, value);
      return speed && { setting, value: speed };
    }
    case "quality": {
      const quality = oneOf(["standard", "hd"] as const, value);
      return quality && { setting, value: quality };
    }
    case "variation": {
      const strength = oneOf(["subtle", "strong"] as const, value);
      return strength && { setting, value: strength };
    }
    default:
      return undefined;
  }
}

// --- the panel ---------------------------------------------------------------------------------

function button(
  label: string,
  choice: SettingChoice,
  options: { selected?: boolean; disabled?: boolean } = {},
): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: options.selected ? ButtonStyle.Success : ButtonStyle.Secondary,
    label,
    custom_id: encodeSettingsButton(choice),
    ...(options.disabled ? { disabled: true } : {}),
  };
}

function row(components: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent>[] {
  return components.length === 0 ? [] : [{ type: ComponentType.ActionRow, components }];
}

/** One button per image service this person may use here; absent when there is only one. */
function providerRow(offer: SettingsOffer) {
  const providers = offer.providers ?? [];
  if (providers.length < 2) return [];
  return row(
    providers.map((name) =>
      button(name, { setting: "provider", value: name }, { selected: name === offer.provider }),
    ),
  );
}

/** One button per model the provider runs; a single model is shown but cannot be changed. */
function modelRow(settings: EffectiveSettings, offer: SettingsOffer) {
  return row(
    offer.models.map((model) =>
      button(
        model.label,
        { setting: "model", value: model.id },
        { selected: model.id === settings.model?.id, disabled: offer.models.length === 1 },
      ),
    ),
  );
}

function stylizeRow(settings: EffectiveSettings) {
  return row([
    ...stylizePresets.map((preset) =>
      button(
        `Stylize ${stylizeLabels[preset]}`,
        { setting: "stylize", value: preset },
        {
          selected: preset === settings.stylize,
        },
      ),
    ),
    button("RAW Mode", { setting: "raw", value: !settings.raw }, { selected: settings.raw }),
  ]);
}

function speedRow(settings: EffectiveSettings, offer: SettingsOffer) {
  const speeds = offer.speeds.map((speed) =>
    button(speedLabels[speed], { setting: "speed", value: speed }, { selected: speed === settings.speed }),
  );
  const hd = settings.quality === "hd";
  const quality = offer.hd
    ? [button("HD", { setting: "quality", value: hd ? "standard" : "hd" }, { selected: hd })]
    : [];
  return row([...speeds, ...quality]);
}

function modesRow(settings: EffectiveSettings, offer: SettingsOffer) {
  const variation =
    offer.variation.length > 1
      ? [
          button(
            "High Variation Mode",
            { setting: "variation", value: "strong" },
            { selected: settings.variation === "strong" },
          ),
          button(
            "Low Variation Mode",
            { setting: "variation", value: "subtle" },
            { selected: settings.variation === "subtle" },
          ),
        ]
      : [];
  const remix = offer.remix
    ? [button("Remix mode", { setting: "remix", value: !settings.remix }, { selected: settings.remix })]
    : [];
  return row([...variation, ...remix, button("Reset settings", { setting: "reset" })]);
}

const onOffText = (on: boolean) => (on ? "on" : "off");

function summary(settings: EffectiveSettings, offer: SettingsOffer): string {
  const parts = [
    (offer.providers?.length ?? 0) > 1 ? `Image service **${offer.provider}**` : undefined,
    settings.model ? `Model **${settings.model.label}**` : undefined,
    `Stylize **${stylizeLabels[settings.stylize]}** (--stylize ${STYLIZE_VALUES[settings.stylize]})`,
    `Raw **${onOffText(settings.raw)}**`,
    settings.speed && offer.speeds.length > 0 ? `Speed **${settings.speed}**` : undefined,
    offer.hd ? `Quality **${settings.quality === "hd" ? "HD" : "SD"}**` : undefined,
    settings.variation && offer.variation.length > 1
      ? `Variation **${settings.variation === "strong" ? "strong" : "subtle"}**`
      : undefined,
    offer.remix ? `Remix **${onOffText(settings.remix)}**` : undefined,
  ];
  return parts.filter((part) => part !== undefined).join(" · ");
}

function preferLine(preferences: Preferences): string {
  const names = Object.keys(preferences.options ?? {}).map((name) => `--${name}`);
  const suffix = preferences.suffix ? `Suffix \`${preferences.suffix.replaceAll("`", "ˋ")}\`` : "No suffix";
  const options = names.length > 0 ? `options ${names.join(", ")}` : "no custom options";
  return `-# ${suffix} · ${options} (change them with /prefer)`;
}

export function settingsView(
  preferences: Preferences,
  offer: SettingsOffer,
  defaults: JobDefaults,
): SettingsView {
  const settings = effectiveSettings(preferences, offer, defaults);
  const content = [
    "**Your settings** — defaults for your prompts; whatever a prompt says wins.",
    summary(settings, offer),
    preferLine(preferences),
  ].join("\n");
  return {
    content: content.slice(0, 2000),
    components: [
      ...providerRow(offer),
      ...modelRow(settings, offer),
      ...stylizeRow(settings),
      ...speedRow(settings, offer),
      ...modesRow(settings, offer),
    ],
  };
}
