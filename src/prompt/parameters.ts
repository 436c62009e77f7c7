// The parameter table: every Midjourney parameter Atelier understands, its aliases and the shape of
// its value. Data only; `values.ts` reads and renders values by kind, `versions.ts` says which model
// accepts what. The array order is the order `renderPrompt` writes parameters in.
import type { PhraseKey } from "./messages.ts";
import type { PromptParams } from "./types.ts";

export type ParamKey = keyof PromptParams;

/** How a parameter's value tokens are read. */
export type ValueSpec =
  | { kind: "flag" }
  | { kind: "integer"; min: number; max: number }
  | { kind: "decimal"; min: number; max: number }
  | { kind: "ratio" }
  | { kind: "commaList" }
  | { kind: "references"; forms: readonly ReferenceForm[] }
  | { kind: "codes" }
  | { kind: "word" }
  | { kind: "model"; family: ModelFamily; whenBare?: string };

export type ReferenceForm = "url" | "code" | "random";
export type ModelFamily = "v" | "niji";

export interface ParameterDefinition {
  /** Canonical name, also the key in PromptParams. */
  key: ParamKey;
  /** Other names Midjourney accepts, e.g. `aspect` for `ar`. */
  aliases: readonly string[];
  value: ValueSpec;
  /** One line for help texts. */
  summary: string;
  /** Added to "works only with …" errors, e.g. what to use instead (words in the catalogue). */
  versionHint?: PhraseKey;
  /** Another name that sets this parameter to a fixed value: `--raw` is `--style raw`. */
  shorthand?: { name: string; value: string };
}

const percent = { kind: "integer", min: 0, max: 100 } as const;
const thousand = { kind: "integer", min: 0, max: 1000 } as const;
const flag = { kind: "flag" } as const;

export const PARAMETERS: readonly ParameterDefinition[] = [
  { key: "ar", aliases: ["aspect"], value: { kind: "ratio" }, summary: "aspect ratio, default 1:1" },
  { key: "v", aliases: ["version"], value: { kind: "model", family: "v" }, summary: "model version" },
  {
    key: "niji",
    aliases: [],
    value: { kind: "model", family: "niji", whenBare: "7" },
    summary: "anime model version",
  },
  {
    key: "style",
    aliases: [],
    value: { kind: "word" },
    summary: "style preset such as raw",
    shorthand: { name: "raw", value: "raw" },
  },
  { key: "stylize", aliases: ["s"], value: thousand, summary: "strength of Midjourney's look, default 100" },
  { key: "chaos", aliases: ["c"], value: percent, summary: "variety between the images, default 0" },
  { key: "weird", aliases: ["w"], value: { kind: "integer", min: 0, max: 3000 }, summary: "quirkiness" },
  { key: "exp", aliases: [], value: percent, summary: "experimental aesthetics" },
  {
    key: "quality",
    aliases: ["q"],
    value: { kind: "decimal", min: 0, max: 4 },
    summary: "rendering time; allowed values depend on the version",
  },
  {
    key: "seed",
    aliases: [],
    value: { kind: "integer", min: 0, max: 4294967295 },
    summary: "starting noise",
  },
  { key: "stop", aliases: [], value: { kind: "integer", min: 10, max: 100 }, summary: "finish early (%)" },
  { key: "tile", aliases: [], value: flag, summary: "seamless repeating pattern" },
  { key: "iw", aliases: [], value: { kind: "decimal", min: 0, max: 3 }, summary: "image prompt weight" },
  {
    key: "sref",
    aliases: [],
    value: { kind: "references", forms: ["url", "code", "random"] },
    summary: "style reference: image URLs, style codes or random",
  },
  { key: "sw", aliases: [], value: thousand, summary: "style reference weight, default 100" },
  { key: "sv", aliases: [], value: { kind: "integer", min: 1, max: 8 }, summary: "style reference model" },
  {
    key: "cref",
    aliases: [],
    value: { kind: "references", forms: ["url"] },
    summary: "character reference image URLs",
    versionHint: "hint.oref",
  },
  { key: "cw", aliases: [], value: percent, summary: "character weight: 0 face only, 100 whole character" },
  {
    key: "oref",
    aliases: [],
    value: { kind: "references", forms: ["url"] },
    summary: "omni reference image URL",
    versionHint: "hint.cref",
  },
  { key: "ow", aliases: [], value: thousand, summary: "omni reference weight" },
  {
    key: "p",
    aliases: ["profile", "personalize"],
    value: { kind: "codes" },
    summary: "personalisation codes",
  },
  { key: "draft", aliases: [], value: flag, summary: "cheap quick sketches" },
  { key: "hd", aliases: [], value: flag, summary: "native 2K output" },
  { key: "fast", aliases: [], value: flag, summary: "fast mode for this job" },
  { key: "relax", aliases: [], value: flag, summary: "relax mode for this job" },
  { key: "turbo", aliases: [], value: flag, summary: "turbo mode for this job" },
  { key: "stealth", aliases: [], value: flag, summary: "hide the result from the public gallery" },
  { key: "public", aliases: [], value: flag, summary: "show the result in the public gallery" },
  {
    key: "repeat",
    aliases: ["r"],
    value: { kind: "integer", min: 1, max: 40 },
    summary: "run the prompt n times",
  },
  { key: "no", aliases: [], value: { kind: "commaList" }, summary: "things to leave out, comma separated" },
  {
    key: "provider",
    aliases: ["via"],
    value: { kind: "word" },
    summary: "Atelier's own: which configured image service runs this prompt (e.g. --provider openai)",
  },
];

/** Old parameters seen in pasted prompts: accepted, dropped, and reported as ignored. */
export const LEGACY_PARAMETERS: readonly string[] = [
  "upbeta",
  "beta",
  "testp",
  "test",
  "creative",
  "uplight",
  "upanime",
  "video",
  "sameseed",
];

/** Parameters that only make sense from a button, not in a prompt: the error that says so. */
export const NOT_IN_PROMPTS: Readonly<Record<string, "zoom-in-prompt">> = { zoom: "zoom-in-prompt" };

/** Pairs (or groups) that cannot appear together. */
export const CONFLICTS: readonly { keys: readonly ParamKey[]; reason: PhraseKey }[] = [
  { keys: ["v", "niji"], reason: "conflict.model" },
  { keys: ["hd", "draft"], reason: "conflict.draft" },
  { keys: ["fast", "relax", "turbo"], reason: "conflict.speed" },
  { keys: ["stealth", "public"], reason: "conflict.visibility" },
];

/** Parameters that only have an effect together with another one (a warning, not an error). */
export const REQUIRES: readonly { key: ParamKey; needs: ParamKey }[] = [
  { key: "sw", needs: "sref" },
  { key: "sv", needs: "sref" },
  { key: "cw", needs: "cref" },
  { key: "ow", needs: "oref" },
];

const byName = new Map<string, ParameterDefinition>();
for (const definition of PARAMETERS) {
  byName.set(definition.key, definition);
  for (const alias of definition.aliases) byName.set(alias, definition);
}

/** The definition for a canonical name or alias (lowercase), if any. */
export function findParameter(name: string): ParameterDefinition | undefined {
  return byName.get(name);
}

/** The definition a shorthand such as `raw` stands for. */
export function findShorthand(name: string): ParameterDefinition | undefined {
  return PARAMETERS.find((definition) => definition.shorthand?.name === name);
}

/** Every name a user may type after `--`: canonical names, aliases, shorthands and legacy flags. */
export const KNOWN_NAMES: ReadonlySet<string> = new Set([
  ...byName.keys(),
  ...PARAMETERS.flatMap((definition) => (definition.shorthand ? [definition.shorthand.name] : [])),
  ...LEGACY_PARAMETERS,
]);
