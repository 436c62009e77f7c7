// Per-user defaults for prompts: /settings (model, stylize, raw, speed, quality, variation, remix)
// and /prefer (a suffix, custom `--name` options). Stored per user under `pref:<userId>`; applied by
// the pure functions below, always beneath what the prompt itself says.
import { z } from "zod";
import {
  DEFAULT_VERSION,
  KNOWN_NAMES,
  modelFor,
  type ParsedPrompt,
  type PromptParams,
  quoteValue,
  valueProblem,
} from "../prompt/index.ts";
import type { ImageProvider, Quality, Speed, VariationStrength } from "../providers/types.ts";
import { type RecordCache, recordCache, type Store } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";
import { refused, type TeamError } from "./messages.ts";

// --- what can be chosen ------------------------------------------------------------------------

export const stylizePresets = ["low", "med", "high", "veryHigh"] as const;
export type StylizePreset = (typeof stylizePresets)[number];

export const STYLIZE_VALUES: Readonly<Record<StylizePreset, number>> = {
  low: 50,
  med: 100,
  high: 250,
  veryHigh: 750,
};
/** Midjourney's own default (--stylize 100): choosing it adds nothing to a prompt. */
export const DEFAULT_STYLIZE: StylizePreset = "med";

export interface ModelChoice {
  id: string;
  label: string;
  params: Pick<PromptParams, "v" | "niji">;
}

/** The models /settings offers, newest first; a provider shows those it can run (see `settingsOffer`). */
export const MODEL_CHOICES: readonly ModelChoice[] = [
  { id: "v8.1", label: "V8.1", params: { v: "8.1" } },
  { id: "v7", label: "V7", params: { v: "7" } },
  { id: "v6.1", label: "V6.1", params: { v: "6.1" } },
  { id: "niji7", label: "Niji 7", params: { niji: "7" } },
  { id: "niji6", label: "Niji 6", params: { niji: "6" } },
];
const DEFAULT_MODEL_ID = `v${DEFAULT_VERSION}`;

export const PREFER_LIMITS = { options: 20, nameLength: 30, valueLength: 500, suffixLength: 500 } as const;

// --- what is stored ----------------------------------------------------------------------------

const speedSchema = z.enum(["draft", "fast", "turbo", "relax"]);
const qualitySchema = z.enum(["standard", "hd"]);
const strengthSchema = z.enum(["subtle", "strong"]);

/** Every field is optional: absent means "Atelier's default", so an empty record is a new user. */
export const preferencesSchema = z.object({
  /** The image service this person's new jobs run on, when several are configured. */
  provider: z.string().max(40).optional(),
  model: z.string().max(20).optional(),
  stylize: z.enum(stylizePresets).optional(),
  raw: z.boolean().optional(),
  speed: speedSchema.optional(),
  quality: qualitySchema.optional(),
  variation: strengthSchema.optional(),
  remix: z.boolean().optional(),
  suffix: z.string().max(PREFER_LIMITS.suffixLength).optional(),
  /** Custom options: name (without `--`, lowercase) → the parameter text it expands to. */
  options: z.record(z.string(), z.string().max(PREFER_LIMITS.valueLength)).optional(),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** The /settings part of the preferences (what "Reset settings" clears; /prefer is kept). */
export type SettingKey =
  | "provider"
  | "model"
  | "stylize"
  | "raw"
  | "speed"
  | "quality"
  | "variation"
  | "remix";

export class PreferenceStore {
  // Read on every /imagine and click: kept in memory by a lone process, read through Redis when shared.
  private readonly records: RecordCache<typeof preferencesSchema>;
  private readonly writes = new KeyedSerializer();

  constructor(store: Pick<Store, "keyv" | "redis" | "redisKeyOf">) {
    this.records = recordCache(store, "pref", preferencesSchema);
  }

  async get(userId: string): Promise<Preferences> {
    return (await this.records.get(userId)) ?? {};
  }

  /** Read-modify-write, serialized per user so two quick clicks never lose each other. */
  update(userId: string, change: (current: Preferences) => Preferences): Promise<Preferences> {
    return this.writes.run(userId, async () => {
      const updated = await this.records.update(userId, (current) =>
        preferencesSchema.parse(change(current ?? {})),
      );
      await this.records.flushed();
      return updated ?? {};
    });
  }
}

/** Clears the /settings choices, keeping the /prefer suffix and options. */
export function resetSettings(preferences: Preferences): Preferences {
  return { suffix: preferences.suffix, options: preferences.options };
}

// --- what a provider offers, and the values in effect ------------------------------------------

export interface SettingsOffer {
  /** The providers this person may choose between here (shown when more than one). */
  providers?: string[];
  /** The provider in effect for this person (the offer's other fields are its). */
  provider?: string;
  models: ModelChoice[];
  speeds: Speed[];
  hd: boolean;
  variation: VariationStrength[];
  remix: boolean;
}

/** The choices that make sense on this provider: a model is offered when the provider accepts it. */
export function settingsOffer(provider: ImageProvider): SettingsOffer {
  const { capabilities } = provider;
  const models = MODEL_CHOICES.filter((choice) => {
    const probe: ParsedPrompt = { images: [], text: "a probe", params: { ...choice.params }, warnings: [] };
    return provider.check({ prompt: probe }).error === undefined;
  });
  return {
    models,
    speeds: [...capabilities.speeds],
    hd: capabilities.hd,
    variation: [...capabilities.variation],
    remix: capabilities.remix,
  };
}

export interface JobDefaults {
  speed?: Speed;
  quality?: Quality;
}

/** The values a user's jobs get when their prompt says nothing: what /settings shows as selected. */
export interface EffectiveSettings {
  model: ModelChoice | undefined;
  stylize: StylizePreset;
  raw: boolean;
  speed: Speed | undefined;
  quality: Quality;
  variation: VariationStrength | undefined;
  remix: boolean;
}

export function effectiveSettings(
  preferences: Preferences,
  offer: SettingsOffer,
  defaults: JobDefaults,
): EffectiveSettings {
  const model =
    offer.models.find((choice) => choice.id === preferences.model) ??
    offer.models.find((choice) => choice.id === DEFAULT_MODEL_ID) ??
    offer.models[0];
  const speed = preferences.speed && offer.speeds.includes(preferences.speed) ? preferences.speed : undefined;
  return {
    model,
    stylize: preferences.stylize ?? DEFAULT_STYLIZE,
    raw: preferences.raw ?? false,
    speed: speed ?? defaults.speed,
    quality: offer.hd ? (preferences.quality ?? defaults.quality ?? "standard") : "standard",
    variation: variationStrength(preferences, offer.variation),
    remix: offer.remix && (preferences.remix ?? false),
  };
}

/** The strength a plain V button uses: the user's choice when offered, else strong (Midjourney's default). */
export function variationStrength(
  preferences: Preferences,
  offered: readonly VariationStrength[],
): VariationStrength | undefined {
  if (preferences.variation && offered.includes(preferences.variation)) return preferences.variation;
  return offered.includes("strong") ? "strong" : offered[0];
}

// --- settings → one prompt ---------------------------------------------------------------------

/**
 * Adds the user's model, stylize and raw defaults to a checked prompt, each only when the prompt
 * does not set it and the prompt's model accepts it (a default must never break a valid prompt).
 */
export function applyPromptDefaults(
  prompt: ParsedPrompt,
  preferences: Preferences,
  offer: SettingsOffer,
): ParsedPrompt {
  const params: PromptParams = { ...prompt.params };
  const model = offer.models.find((choice) => choice.id === preferences.model);
  if (model && model.id !== DEFAULT_MODEL_ID && params.v === undefined && params.niji === undefined)
    Object.assign(params, model.params);
  const accepts = modelFor(params);
  const stylize = STYLIZE_VALUES[preferences.stylize ?? DEFAULT_STYLIZE];
  if (preferences.stylize && stylize !== STYLIZE_VALUES[DEFAULT_STYLIZE] && params.stylize === undefined)
    params.stylize = stylize;
  if (preferences.raw && params.style === undefined && accepts.styles.includes("raw")) params.style = "raw";
  return { ...prompt, params };
}

/** The speed a prompt flag asks for, most specific first (as providers read them). */
function speedFlag(params: PromptParams): Speed | undefined {
  if (params.draft) return "draft";
  if (params.turbo) return "turbo";
  if (params.fast) return "fast";
  if (params.relax) return "relax";
  return undefined;
}

/**
 * The job's speed and quality: a prompt flag (--draft/--turbo/--fast/--relax, --hd) wins, then the
 * user's setting, then the bot's default. HD and draft exclude each other; the one the prompt asked
 * for wins, otherwise draft speed keeps the job in standard quality.
 */
export function resolveJobSettings(
  params: PromptParams,
  preferences: Preferences,
  offer: SettingsOffer,
  defaults: JobDefaults,
): { speed?: Speed; quality?: Quality } {
  const settings = effectiveSettings(preferences, offer, defaults);
  const flagged = speedFlag(params);
  let speed = flagged ?? settings.speed;
  const quality: Quality | undefined = params.hd ? "hd" : offer.hd ? settings.quality : defaults.quality;
  if (quality === "hd" && speed === "draft") {
    if (flagged === "draft") return { speed, quality: "standard" };
    speed = defaults.speed === "draft" ? "fast" : defaults.speed;
  }
  return { speed, quality };
}

// --- /prefer option and suffix -----------------------------------------------------------------

/** `--wide`, `—wide` or `wide` → `wide`. */
export function optionName(input: string): string {
  return input
    .trim()
    .replace(/^(?:--|—|–)/, "")
    .toLowerCase();
}

/** Why a name cannot be a custom option, or undefined when it can. */
export function optionNameProblem(name: string): ({ ok: false } & TeamError) | undefined {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) return refused("option-name-shape", {});
  if (name.length > PREFER_LIMITS.nameLength)
    return refused("option-name-too-long", { limit: PREFER_LIMITS.nameLength });
  if (KNOWN_NAMES.has(name) || name === "zoom") return refused("option-name-taken", { option: `--${name}` });
  return undefined;
}

export type PreferChange = { ok: true; preferences: Preferences } | ({ ok: false } & TeamError);

export function setOption(preferences: Preferences, rawName: string, rawValue: string): PreferChange {
  const name = optionName(rawName);
  const nameProblem = optionNameProblem(name);
  if (nameProblem) return nameProblem;
  const value = rawValue.trim();
  const cause = valueProblem(value, PREFER_LIMITS.valueLength);
  if (cause) return refused("option-value-invalid", { option: `--${name}`, value: quoteValue(value), cause });
  const options = { ...preferences.options };
  if (!(name in options) && Object.keys(options).length >= PREFER_LIMITS.options)
    return refused("too-many-options", { count: PREFER_LIMITS.options });
  options[name] = value;
  return { ok: true, preferences: { ...preferences, options } };
}

export function deleteOption(preferences: Preferences, rawName: string): PreferChange {
  const name = optionName(rawName);
  if (!preferences.options || !(name in preferences.options))
    return refused("no-such-option", { option: `--${name}` });
  const { [name]: _deleted, ...options } = preferences.options;
  return { ok: true, preferences: { ...preferences, options } };
}

/** Sets the suffix, or clears it when `value` is empty or absent. */
export function setSuffix(preferences: Preferences, value: string | undefined): PreferChange {
  const suffix = value?.trim() ?? "";
  if (suffix === "") {
    const { suffix: _cleared, ...rest } = preferences;
    return { ok: true, preferences: rest };
  }
  const cause = valueProblem(suffix, PREFER_LIMITS.suffixLength);
  if (cause) return refused("suffix-invalid", { suffix: quoteValue(suffix), cause });
  return { ok: true, preferences: { ...preferences, suffix } };
}

// --- a click on the /settings panel ------------------------------------------------------------

/** One choice on the /settings panel; booleans carry the value the click sets, so a replayed click is harmless. */
export type SettingChoice =
  | { setting: "provider"; value: string }
  | { setting: "model"; value: string }
  | { setting: "stylize"; value: StylizePreset }
  | { setting: "raw" | "remix"; value: boolean }
  | { setting: "speed"; value: Speed }
  | { setting: "quality"; value: Quality }
  | { setting: "variation"; value: VariationStrength }
  | { setting: "reset" };

export function chooseSetting(preferences: Preferences, choice: SettingChoice): Preferences {
  if (choice.setting === "reset") return resetSettings(preferences);
  const chosen = { ...preferences, [choice.setting]: choice.value };
  // HD and draft speed exclude each other: the latest choice wins.
  if (choice.setting === "quality" && choice.value === "hd" && chosen.speed === "draft") delete chosen.speed;
  if (choice.setting === "speed" && choice.value === "draft" && chosen.quality === "hd")
    chosen.quality = "standard";
  return chosen;
}
