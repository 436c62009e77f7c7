// The words of every prompt error and note, as data first and English second. An error (or a note
// on how the prompt was read, e.g. "Read “—ar” as “--ar”") is a stable `code` with the `values` its
// sentence needs; `message` is that sentence in English, filled in here from
// `promptEnglish` by `englishText`, a tiny pure formatter. `promptEnglish` is the only English
// source: src/i18n/en/prompt.ts re-exports it as the English catalogue, French and German
// translate the same keys, and src/i18n/errors.ts renders an error in any of them.
//
// Values are verbatim (parameter names, numbers, what the user typed) or words themselves: a
// `Phrase` (a catalogue key), a `PartList` (joined with the language's "and"/"or"), or a whole
// nested error (`cause`, e.g. "Your option --wide expands to …; <cause>").
//
// Templates use i18next's syntax: `{{name}}`, plurals as `_one`/`_other` on `count` (French adds
// `_many`, its form for millions: "1000000 de caractères").
import { addressKindText } from "./addresses.ts";

// --- the values of each error ----------------------------------------------------------------------

interface ErrorValues {
  "empty-prompt": Empty;
  internal: { detail: string };
  "too-long": { count: number; limit: number };
  "zoom-in-prompt": Empty;
  "flag-takes-value": { parameter: string };
  unrecognized: { parameter: string };
  "unrecognized-suggest": { parameter: string; suggestion: string };
  "one-image-no-text": Empty;
  "value-missing": { parameter: string; allowed: Phrase };
  "value-invalid": { parameter: string; allowed: Phrase; value: string };
  "ratio-zero": { parameter: string; allowed: Phrase; value: string };
  "ratio-decimals": { parameter: string; allowed: Phrase };
  "ratio-decimals-try": { parameter: string; allowed: Phrase; ratio: string };
  "trailing-after-flag": { parameter: string; rest: string };
  "trailing-after-value": { parameter: string; value: string; rest: string };
  conflict: { parameters: PartList; reason: Phrase };
  "model-refuses": { parameter: string; models: PartList; model: string };
  "model-refuses-hint": { parameter: string; models: PartList; model: string; hint: Phrase };
  "quality-on-model": { model: string; allowed: PartList; value: string };
  "style-on-model": { model: string; allowed: PartList; value: string };
  "weights-total": { total: number };
  "too-many-permutations": { count: number; jobs: Part; limit: number };
  "nesting-too-deep": { limit: number };
  "unsafe-image-link": { link: string; problem: Phrase };
  "unsafe-link": { link: string; problem: Phrase };
  "unknown-provider": { names: string; name: string };
  "in-permutation": { cause: PromptError; number: number; permutation: string };
  "too-many-jobs": { jobs: number; limit: number };
  "too-many-jobs-permutations": { jobs: number; permutations: number; limit: number };
  "value-empty": Empty;
  "value-too-long": { count: number; limit: number };
  "options-clash": { options: string; cause: PromptError };
  "suffix-clash": { suffix: string; cause: PromptError };
  "option-broken": { option: string; value: string; cause: PromptError };
  "with-settings": { cause: PromptError };
  /** The image service's own check; providers speak English only, so `reason` is shown as it is. */
  "provider-check": { reason: string };
}

type Empty = Record<string, never>;

export type PromptErrorCode = keyof ErrorValues;

// --- the values of each note -----------------------------------------------------------------------

/** Notes under a job: how the prompt was read. Values are verbatim: parameters and model names as typed or shown. */
interface NoteValues {
  "dash-em": { typed: string; shown: string };
  "dash-en": { typed: string; shown: string };
  lowercase: { typed: string; shown: string };
  "read-as": { typed: string; shown: string };
  "legacy-parameter": { parameter: string };
  "given-twice": { parameter: string; last: string };
  "bare-model": { parameter: string; value: string };
  "model-ignores": { model: string; parameter: string };
  "weights-ignored": { model: string };
  "needs-partner": { parameter: string; partner: string };
  "iw-without-image": Empty;
}

export type PromptNoteCode = keyof NoteValues;

/** A note on how a prompt was read, as data, with its English `message` (what `ParsedPrompt.warnings` holds). */
export type PromptNote = { [C in PromptNoteCode]: { code: C; values: NoteValues[C] } }[PromptNoteCode] & {
  message: string;
};

/** What went wrong, as data: one member per code, with the values its sentence needs. */
export type PromptProblem = { [C in PromptErrorCode]: { code: C; values: ErrorValues[C] } }[PromptErrorCode];

/** A problem in what the user typed: names the parameter and what is allowed. */
export type PromptError = PromptProblem & {
  /** The sentence in English (the CLI, logs and JSON output read it). */
  message: string;
  /** The canonical parameter as the user would type it, e.g. "--ar"; absent for whole-prompt errors. */
  parameter?: string;
};

/** A value of a message: verbatim text or number, words to translate, a list, or a nested error. */
export type Part = string | number | Phrase | PartList | PromptError;

/** Words from the `phrases` table, e.g. "a whole number from 0 to 100". */
export interface Phrase {
  phrase: PhraseKey;
  values?: Readonly<Record<string, Part>>;
}

/**
 * Items joined the way the language joins them: "a, b or c". `pairwise` joins every pair with the
 * word instead ("V4 and V5.1–V8.1 and Niji 5–7"), for items that contain commas themselves.
 */
export interface PartList {
  items: readonly Part[];
  join: "and" | "or";
  pairwise?: boolean;
}

// --- the English words -----------------------------------------------------------------------------

const textBeforeParameters = "text belongs before the parameters";

/** The English catalogue of src/prompt (namespace `prompt`). */
export const promptEnglish = {
  errors: {
    "empty-prompt": "The prompt has no text: describe what you want to see",
    internal: "Atelier could not read this prompt (internal error: {{detail}})",
    "too-long_one": "The prompt is {{count}} character long; the limit is {{limit}}",
    "too-long_other": "The prompt is {{count}} characters long; the limit is {{limit}}",
    "zoom-in-prompt": "--zoom only works with the Custom Zoom button after an upscale",
    "flag-takes-value": "{{parameter}} takes no value",
    unrecognized: "Unrecognized parameter {{parameter}}",
    "unrecognized-suggest": "Unrecognized parameter {{parameter}}; did you mean {{suggestion}}?",
    "one-image-no-text":
      "One image needs text with it: describe what you want after the image URL, or add a second image",
    "value-missing": "{{parameter}} needs a value: {{allowed}}",
    "value-invalid": "{{parameter}} must be {{allowed}}, not {{value}}",
    "ratio-zero": "{{parameter}} must be {{allowed}}, not {{value}} (both sides above 0)",
    "ratio-decimals": "{{parameter}} must be {{allowed}}; no decimals",
    "ratio-decimals-try": "{{parameter}} must be {{allowed}}; no decimals, try {{ratio}}",
    "trailing-after-flag": `{{parameter}} takes no value, but {{rest}} follows it; ${textBeforeParameters}`,
    "trailing-after-value": `{{parameter}} takes one value ({{value}}), but {{rest}} follows it; ${textBeforeParameters}`,
    conflict: "{{parameters}} {{reason}}",
    "model-refuses": "{{parameter}} works only with {{models}}, not {{model}}",
    "model-refuses-hint": "{{parameter}} works only with {{models}}, not {{model}}; {{hint}}",
    "quality-on-model": "--quality on {{model}} must be {{allowed}}, not {{value}}",
    "style-on-model": "--style on {{model}} must be {{allowed}}, not {{value}}",
    "weights-total":
      "Multi-prompt weights must add up to more than 0; these add up to {{total}} (a part without a weight counts as 1)",
    "too-many-permutations_one":
      "This prompt makes {{jobs}} job from its {…} permutations; the cap is {{limit}}",
    "too-many-permutations_other":
      "This prompt makes {{jobs}} jobs from its {…} permutations; the cap is {{limit}}",
    "nesting-too-deep": "Permutations nest more than {{limit}} levels deep",
    "unsafe-image-link": "Image prompts must be public http(s) links; `{{link}}` {{problem}}.",
    "unsafe-link": "Links in a prompt must be public http(s) links; `{{link}}` {{problem}}.",
    "unknown-provider": "--provider must be one of: {{names}} (got {{name}})",
    "in-permutation": "{{cause}} (in permutation {{number}}: {{permutation}})",
    "too-many-jobs": "This prompt makes {{jobs}} jobs with --repeat; the cap is {{limit}}",
    "too-many-jobs-permutations":
      "This prompt makes {{jobs}} jobs ({{permutations}} permutations with --repeat); the cap is {{limit}}",
    "value-empty": "The value is empty",
    "value-too-long_one": "The value has {{count}} character; the limit is {{limit}}",
    "value-too-long_other": "The value has {{count}} characters; the limit is {{limit}}",
    "options-clash": "Your options {{options}} do not fit this prompt together; {{cause}}",
    "suffix-clash": "Your suffix {{suffix}} (/prefer suffix) does not fit this prompt; {{cause}}",
    "option-broken": "Your option {{option}} expands to {{value}}; {{cause}}",
    "with-settings": "{{cause}} (with your /settings defaults)",
    "provider-check": "{{reason}}",
  } satisfies Record<TemplateKey<PromptErrorCode>, string>,
  notes: {
    "dash-em": "Read “{{typed}}” as “{{shown}}” (phones turn -- into —)",
    "dash-en": "Read “{{typed}}” as “{{shown}}” (editors turn -- into –)",
    lowercase: "Read “{{typed}}” as “{{shown}}” (parameters are lowercase)",
    "read-as": "Read “{{typed}}” as “{{shown}}”",
    "legacy-parameter": "{{parameter}} is an old parameter Midjourney no longer uses; ignored",
    "given-twice": "{{parameter}} was given twice; using the last one ({{last}})",
    "bare-model": "{{parameter}} without a number means {{parameter}} {{value}}",
    "model-ignores": "{{model}} ignores {{parameter}}; left it out",
    "weights-ignored": "{{model}} ignores :: multi-prompt weights; the text is sent as written",
    "needs-partner": "{{parameter}} has no effect without {{partner}}",
    "iw-without-image": "--iw has no effect without an image prompt",
  } satisfies Record<PromptNoteCode, string>,
  phrases: {
    value: {
      flag: "nothing (it is a flag)",
      integer: "a whole number from {{min}} to {{max}}",
      decimal: "a number from {{min}} to {{max}}",
      ratio: "W:H with whole numbers, e.g. 16:9",
      commaList: "a comma-separated list, e.g. trees, cars",
      references: "{{forms}}, separated by spaces",
      codes: "personalisation codes (letters and digits) or nothing",
      word: "a style name such as raw",
      model: "one of {{versions}}",
    },
    reference: { url: "image URLs", code: "numeric style codes" },
    conflict: {
      model: "both pick the model; use one of them",
      draft: "cannot be combined: draft mode renders low-resolution sketches",
      speed: "each pick the speed; use one of them",
      visibility: "contradict each other; use one of them",
    },
    hint: { oref: "on V7 and later use --oref", cref: "on V6 and Niji 6 use --cref" },
    link: {
      notLink: "is not a link",
      scheme: "uses the {{scheme}}: scheme",
      invalid: "is not a valid link",
      notHttps: "is not an https link",
      pointsAt: "points at {{kind}}",
      pointsAtHost: "points at {{kind}} ({{host}})",
    },
    host: {
      loopbackName: "a loopback name",
      mdnsName: "a local-network (mDNS) name",
      privateName: "a private-network name",
      homeName: "a home-network name",
      emptyName: "an empty host name",
      singleLabel: "a local (single-label) host name",
      unreadableAddress: "an address that cannot be read",
    },
    address: addressKindText,
    beyondCounting: "more than 9,007,199,254,740,991",
  },
  lists: { and: "{{head}} and {{last}}", or: "{{head}} or {{last}}" },
};

/** A plural code is written as `code_one` and `code_other`; any other code as itself. */
type TemplateKey<C extends string> = C extends PluralCode ? `${C}_${"one" | "other"}` : C;
type PluralCode = {
  [C in PromptErrorCode]: ErrorValues[C] extends { count: number } ? C : never;
}[PromptErrorCode];

type Leaves<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

export type PhraseKey = Leaves<typeof promptEnglish.phrases>;

// --- building errors and filling in English ---------------------------------------------------------

/** A prompt error with its English `message`; `parameter` names the parameter to blame, if any. */
export function promptError<C extends PromptErrorCode>(
  code: C,
  values: ErrorValues[C],
  parameter?: string,
): PromptError {
  const message = englishText(promptEnglish, `errors.${code}`, values);
  return (
    parameter === undefined ? { code, values, message } : { code, values, message, parameter }
  ) as PromptError;
}

/** A note on how the prompt was read, with its English `message`. */
export function promptNote<C extends PromptNoteCode>(code: C, values: NoteValues[C]): PromptNote {
  return { code, values, message: englishText(promptEnglish, `notes.${code}`, values) } as PromptNote;
}

export function phrase(key: PhraseKey, values?: Readonly<Record<string, Part>>): Phrase {
  return values === undefined ? { phrase: key } : { phrase: key, values };
}

export function list(items: readonly Part[], join: "and" | "or", pairwise = false): PartList {
  return pairwise ? { items, join, pairwise } : { items, join };
}

/** A phrase or list in English, for texts that are not errors (an attachment's link problem, help). */
export function englishPart(words: Phrase | PartList): string {
  return partText(promptEnglish, words);
}

/** An English catalogue: nested tables of templates, with `phrases` and `lists` for `Part` values. */
export interface EnglishTemplates {
  readonly [key: string]: string | EnglishTemplates;
}

/**
 * Fills in an English template the way i18next would (`{{name}}`, `_one`/`_other` on `count`), with
 * phrases and lists from `phrases`/`lists` of the same table and nested errors as their `message`.
 * Exported for src/team, whose errors nest prompt errors and follow the same rules.
 */
export function englishText(templates: EnglishTemplates, key: string, values: object): string {
  const parts = values as Readonly<Record<string, Part>>;
  const count = parts.count;
  const template =
    typeof count === "number"
      ? (lookup(templates, `${key}_${count === 1 ? "one" : "other"}`) ?? lookup(templates, key))
      : lookup(templates, key);
  if (template === undefined) throw new Error(`no English text for ${key}`);
  return template.replace(/{{(\w+)}}/g, (placeholder, name: string) => {
    const part = parts[name];
    return part === undefined ? placeholder : partText(templates, part);
  });
}

function partText(templates: EnglishTemplates, part: Part): string {
  if (typeof part === "string") return part;
  if (typeof part === "number") return String(part);
  if ("message" in part) return part.message;
  if ("phrase" in part) return englishText(templates, `phrases.${part.phrase}`, part.values ?? {});
  const items = part.items.map((item) => partText(templates, item));
  return joinItems(items, (head, last) => englishText(templates, `lists.${part.join}`, { head, last }), part);
}

/** "a, b or c" (or "a or b or c" when pairwise), given how the language joins the last two. */
export function joinItems(
  items: readonly string[],
  joinTwo: (head: string, last: string) => string,
  { pairwise = false }: { pairwise?: boolean } = {},
): string {
  if (items.length <= 1) return items[0] ?? "";
  if (pairwise) return items.reduce((head, last) => joinTwo(head, last));
  return joinTwo(items.slice(0, -1).join(", "), items.at(-1) ?? "");
}

function lookup(templates: EnglishTemplates, key: string): string | undefined {
  let node: string | EnglishTemplates | undefined = templates;
  for (const step of key.split(".")) node = typeof node === "object" ? node[step] : undefined;
  return typeof node === "string" ? node : undefined;
}
