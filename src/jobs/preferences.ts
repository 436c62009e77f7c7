// Per-user defaults for prompts: /settings (model, stylize, raw, speed, quality, variation, remix)
// and /prefer (a suffix, custom `--name` options). Stored per user under `pref:<userId>`; applied by
// the pure functions below, always beneath what the prompt itself says.
import { z } from "zod";
import {
  checkPrompt,
  DEFAULT_VERSION,
  KNOWN_NAMES,
  modelFor,
  type ParsedPrompt,
  type PromptError,
  type PromptParams,
} from "../prompt/index.ts";
import type { ImageProvider, Quality, Speed, VariationStrength } from "../providers/types.ts";
import { CachedRepository, Repository, type Store } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";

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
export type SettingKey = "model" | "stylize" | "raw" | "speed" | "quality" | "variation" | "remix";

export class PreferenceStore {
  // Read on every /imagine and click: kept in memory (this process is the only writer).
  private readonly records: CachedRepository<typeof preferencesSchema>;
  private readonly writes = new KeyedSerializer();

  constructor(store: Pick<Store, "keyv">) {
    this.records = new CachedRepository(new Repository(store.keyv, "pref", preferencesSchema));
  }

  async get(userId: string): Promise<Preferences> {
    return (await this.records.get(userId)) ?? {};
  }

  /** Read-modify-write, serialized per user so two quick clicks never lose each other. */
  update(userId: string, change: (current: Preferences) => Preferences): Promise<Preferences> {
    return this.writes.run(userId, async () => {
      const updated = preferencesSchema.parse(change(await this.get(userId)));
      this.records.set(userId, updated);
      await this.records.flushed();
      return updated;
    });
  }
}

/** Clears the /settings choices, keeping the /prefer suffix and options. */
export function resetSettings(preferences: Preferences): Preferences {
  return { suffix: preferences.suffix, options: preferences.options };
}

// --- what a provider offers, and the values in effect ------------------------------------------

export interface SettingsOffer {
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
export function optionNameProblem(name: string): string | undefined {
  if (!/^[a-z][a-z0-9_-]*$/.test(name))
    return "An option name starts with a letter and has only letters, digits, - and _ (e.g. `wide`)";
  if (name.length > PREFER_LIMITS.nameLength)
    return `An option name has at most ${PREFER_LIMITS.nameLength} characters`;
  if (KNOWN_NAMES.has(name) || name === "zoom")
    return `--${name} is a Midjourney parameter; pick another name so the parameter keeps working`;
  return undefined;
}

// Any text will do: a value is checked as the parameters of a prompt that has words.
const PROBE_TEXT = "probe";

/** Checks a stored value (an option's expansion or the suffix) on its own, as the end of a prompt. */
export function valueProblem(value: string, limit: number): PromptError | undefined {
  if (value.trim() === "") return { message: "The value is empty" };
  if (value.length > limit)
    return { message: `The value has ${value.length} characters; the limit is ${limit}` };
  const checked = checkPrompt(`${PROBE_TEXT} ${value}`);
  return checked.ok ? undefined : checked.error;
}

export type PreferChange = { ok: true; preferences: Preferences } | { ok: false; message: string };

export function setOption(preferences: Preferences, rawName: string, rawValue: string): PreferChange {
  const name = optionName(rawName);
  const nameProblem = optionNameProblem(name);
  if (nameProblem) return { ok: false, message: nameProblem };
  const value = rawValue.trim();
  const problem = valueProblem(value, PREFER_LIMITS.valueLength);
  if (problem)
    return { ok: false, message: `--${name} cannot expand to ${quoteValue(value)}: ${problem.message}` };
  const options = { ...preferences.options };
  if (!(name in options) && Object.keys(options).length >= PREFER_LIMITS.options)
    return {
      ok: false,
      message: `You have ${PREFER_LIMITS.options} options, the most there can be; delete one first`,
    };
  options[name] = value;
  return { ok: true, preferences: { ...preferences, options } };
}

export function deleteOption(preferences: Preferences, rawName: string): PreferChange {
  const name = optionName(rawName);
  if (!preferences.options || !(name in preferences.options))
    return { ok: false, message: `You have no option --${name}` };
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
  const problem = valueProblem(suffix, PREFER_LIMITS.suffixLength);
  if (problem)
    return { ok: false, message: `The suffix ${quoteValue(suffix)} is not valid: ${problem.message}` };
  return { ok: true, preferences: { ...preferences, suffix } };
}

export function quoteValue(value: string): string {
  return `“${value.length > 80 ? `${value.slice(0, 79)}…` : value}”`;
}

export interface UsedOption {
  name: string;
  value: string;
}

export interface Expansion {
  /** The prompt with every known `--name` replaced by its value. */
  text: string;
  /** The options that were expanded, in order of first use. */
  used: UsedOption[];
}

// A custom option is a marker starting a token, or an option inside `{a, b}` permutations. Values are
// inserted as written and never expanded again, so options cannot loop.
const OPTION_TOKEN = /(^|[\s{,])(?:--|—)([A-Za-z][A-Za-z0-9_-]*)(?=$|[\s,}])/g;

/** Replaces each `--name` of the user's options by `expansionOf(name)`. */
function replaceOptions(
  input: string,
  options: Readonly<Record<string, string>>,
  expansionOf: (name: string) => string,
): Expansion {
  const used: UsedOption[] = [];
  const text = input.replace(OPTION_TOKEN, (token, before: string, typed: string) => {
    const name = typed.toLowerCase();
    const value = options[name];
    if (value === undefined || KNOWN_NAMES.has(name)) return token;
    if (!used.some((option) => option.name === name)) used.push({ name, value });
    return `${before}${expansionOf(name)}`;
  });
  return { text, used };
}

export function expandOptions(input: string, options: Readonly<Record<string, string>> = {}): Expansion {
  return replaceOptions(input, options, (name) => options[name] ?? "");
}

/** Where the parameters of a prompt start: the first `--x` (or `—x`) token outside `{…}`; else its end. */
function parametersStart(text: string): number {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === "{") depth++;
    else if (char === "}") depth = Math.max(0, depth - 1);
    else if (
      depth === 0 &&
      (index === 0 || /\s/.test(text[index - 1] ?? "")) &&
      /^(?:--|—)[A-Za-z]/.test(text.slice(index, index + 3))
    )
      return index;
  }
  return text.length;
}

/**
 * Adds the suffix to a prompt: its words go after the prompt's words and its parameters at the very
 * end, so `cinematic --ar 2:1` fits `a beach --s 50` as `a beach cinematic --s 50 --ar 2:1`.
 */
export function appendSuffix(text: string, suffix: string | undefined): string {
  if (!suffix) return text;
  const split = parametersStart(suffix);
  const [words, params] = [suffix.slice(0, split).trim(), suffix.slice(split).trim()];
  const at = parametersStart(text);
  const [head, tail] = [text.slice(0, at).trim(), text.slice(at).trim()];
  return [head, words, tail, params].filter((part) => part !== "").join(" ");
}

type Check = (text: string) => PromptError | undefined;

/**
 * Says which of the user's preferences made a prompt invalid: an option that is invalid on its own,
 * an option that does not fit this prompt, or the suffix. Returns the error unchanged when the
 * prompt as typed is the problem.
 */
export function blamePreferences(
  error: PromptError,
  input: string,
  preferences: Preferences,
  check: Check,
): PromptError {
  const options = preferences.options ?? {};
  const { used } = expandOptions(input, options);
  for (const option of used) {
    const alone = valueProblem(option.value, Number.POSITIVE_INFINITY);
    if (alone) return blameOption(option, alone);
  }
  const bare = replaceOptions(input, options, () => "").text;
  if (check(bare) !== undefined) return error;
  for (const option of used) {
    const withOne = replaceOptions(input, options, (name) => (name === option.name ? option.value : "")).text;
    const problem = check(withOne);
    if (problem) return blameOption(option, problem);
  }
  if (used.length > 0 && check(expandOptions(input, options).text) !== undefined) {
    const names = used.map((option) => `--${option.name}`).join(", ");
    return { ...error, message: `Your options ${names} do not fit this prompt together; ${error.message}` };
  }
  if (preferences.suffix)
    return {
      ...error,
      message: `Your suffix ${quoteValue(preferences.suffix)} (/prefer suffix) does not fit this prompt; ${error.message}`,
    };
  return error;
}

function blameOption(option: UsedOption, error: PromptError): PromptError {
  return {
    ...error,
    message: `Your option --${option.name} expands to ${quoteValue(option.value)}; ${error.message}`,
  };
}

// --- a click on the /settings panel ------------------------------------------------------------

/** One choice on the /settings panel; booleans carry the value the click sets, so a replayed click is harmless. */
export type SettingChoice =
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
