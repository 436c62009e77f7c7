// The /settings panel, Midjourney style: a summary line and one row of buttons per setting, the
// value in effect highlighted. Pure: preferences and what the provider offers in, message data out.
// Button ids are `st:<setting>[:<value>]`, apart from the job buttons' `at:` ids.
import { type APIActionRowComponent, type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import { type Language, type Translate, translator } from "../i18n/index.ts";
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

const stylizeLabel = (preset: StylizePreset, t: Translate) => t(`discord:settings.stylizeLevel.${preset}`);

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

function stylizeRow(settings: EffectiveSettings, t: Translate) {
  return row([
    ...stylizePresets.map((preset) =>
      button(
        t("discord:settings.stylizeButton", { level: stylizeLabel(preset, t) }),
        { setting: "stylize", value: preset },
        {
          selected: preset === settings.stylize,
        },
      ),
    ),
    button(
      t("discord:settings.rawButton"),
      { setting: "raw", value: !settings.raw },
      { selected: settings.raw },
    ),
  ]);
}

function speedRow(settings: EffectiveSettings, offer: SettingsOffer, t: Translate) {
  const speeds = offer.speeds.map((speed) =>
    button(
      t(`discord:settings.speedMode.${speed}`),
      { setting: "speed", value: speed },
      { selected: speed === settings.speed },
    ),
  );
  const hd = settings.quality === "hd";
  const quality = offer.hd
    ? [
        button(
          t("discord:settings.hdButton"),
          { setting: "quality", value: hd ? "standard" : "hd" },
          { selected: hd },
        ),
      ]
    : [];
  return row([...speeds, ...quality]);
}

function modesRow(settings: EffectiveSettings, offer: SettingsOffer, t: Translate) {
  const variation =
    offer.variation.length > 1
      ? [
          button(
            t("discord:settings.highVariationButton"),
            { setting: "variation", value: "strong" },
            { selected: settings.variation === "strong" },
          ),
          button(
            t("discord:settings.lowVariationButton"),
            { setting: "variation", value: "subtle" },
            { selected: settings.variation === "subtle" },
          ),
        ]
      : [];
  const remix = offer.remix
    ? [
        button(
          t("discord:settings.remixButton"),
          { setting: "remix", value: !settings.remix },
          { selected: settings.remix },
        ),
      ]
    : [];
  return row([...variation, ...remix, button(t("discord:settings.resetButton"), { setting: "reset" })]);
}

const onOffText = (on: boolean, t: Translate) => t(on ? "discord:settings.on" : "discord:settings.off");

function summary(settings: EffectiveSettings, offer: SettingsOffer, t: Translate): string {
  const parts = [
    (offer.providers?.length ?? 0) > 1 ? t("discord:settings.provider", { name: offer.provider }) : undefined,
    settings.model ? t("discord:settings.model", { name: settings.model.label }) : undefined,
    t("discord:settings.stylize", {
      level: stylizeLabel(settings.stylize, t),
      value: STYLIZE_VALUES[settings.stylize],
    }),
    t("discord:settings.raw", { state: onOffText(settings.raw, t) }),
    settings.speed && offer.speeds.length > 0
      ? t("discord:settings.speed", { speed: t(`discord:settings.speedName.${settings.speed}`) })
      : undefined,
    offer.hd
      ? t("discord:settings.quality", { quality: settings.quality === "hd" ? "HD" : "SD" })
      : undefined,
    settings.variation && offer.variation.length > 1
      ? t("discord:settings.variation", { strength: t(`discord:settings.strength.${settings.variation}`) })
      : undefined,
    offer.remix ? t("discord:settings.remix", { state: onOffText(settings.remix, t) }) : undefined,
  ];
  return parts.filter((part) => part !== undefined).join(" · ");
}

function preferLine(preferences: Preferences, t: Translate): string {
  const names = Object.keys(preferences.options ?? {}).map((name) => `--${name}`);
  const suffix = preferences.suffix
    ? t("discord:settings.suffix", { suffix: preferences.suffix.replaceAll("`", "ˋ") })
    : t("discord:settings.noSuffix");
  const options =
    names.length > 0
      ? t("discord:settings.options", { names: names.join(", ") })
      : t("discord:settings.noOptions");
  return t("discord:settings.preferLine", { suffix, options });
}

/** The panel, in the language of the person looking at it (it is private). */
export function settingsView(
  preferences: Preferences,
  offer: SettingsOffer,
  defaults: JobDefaults,
  language: Language = "en",
): SettingsView {
  const t = translator(language);
  const settings = effectiveSettings(preferences, offer, defaults);
  const content = [
    t("discord:settings.heading"),
    summary(settings, offer, t),
    preferLine(preferences, t),
  ].join("\n");
  return {
    content: content.slice(0, 2000),
    components: [
      ...providerRow(offer),
      ...modelRow(settings, offer),
      ...stylizeRow(settings, t),
      ...speedRow(settings, offer, t),
      ...modesRow(settings, offer, t),
    ],
  };
}
