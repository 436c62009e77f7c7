// Parses one prompt (no permutation expansion): leading image URLs, text, then parameters.
// Never throws: every problem, even an unexpected one, comes back as a PromptError value.
import { findUnsafeLink } from "./image-links.ts";
import { type PromptNote, promptError, promptNote } from "./messages.ts";
import { checkWeights, splitSegments } from "./multiprompt.ts";
import {
  findParameter,
  findShorthand,
  LEGACY_PARAMETERS,
  NOT_IN_PROMPTS,
  type ParameterDefinition,
} from "./parameters.ts";
import { suggestParameter } from "./suggest.ts";
import { type Marker, readMarker, tokenize } from "./tokenize.ts";
import type { ParsedPrompt, PromptError, PromptOptions, PromptParams, PromptSegment } from "./types.ts";
import { checkAgainstModel, findConflict, modelHonoursWeights, partnerNotes } from "./validate.ts";
import { type ParamValue, readValue, renderValue } from "./values.ts";

export const DEFAULT_MAX_LENGTH = 8192;

export type ParseResult = { ok: true; prompt: ParsedPrompt } | { ok: false; error: PromptError };

const IMAGE_EXTENSION = /\.(?:png|jpe?g|webp|gif)$/i;

/** Parses one prompt. Braces are plain text here; `checkPrompt` expands them first. */
export function parsePrompt(input: string, options: PromptOptions = {}): ParseResult {
  try {
    return parseOrFail(input, options);
  } catch (error) {
    return { ok: false, error: internalError(error) };
  }
}

export function internalError(error: unknown): PromptError {
  const detail = error instanceof Error ? error.message : String(error);
  return promptError("internal", { detail: detail.slice(0, 200) });
}

/** The length rule, shared with `checkPrompt` so over-long input is refused before any work. */
export function checkLength(input: string, options: PromptOptions): PromptError | undefined {
  const limit = Number.isNaN(options.maxLength)
    ? DEFAULT_MAX_LENGTH
    : (options.maxLength ?? DEFAULT_MAX_LENGTH);
  const length = input.trim().length;
  if (length <= limit) return undefined;
  return promptError("too-long", { count: length, limit });
}

interface ParamGroup {
  marker: Marker;
  values: string[];
}

function parseOrFail(input: string, options: PromptOptions): ParseResult {
  const tooLong = checkLength(input, options);
  if (tooLong) return { ok: false, error: tooLong };
  const { images, text, paramTokens } = splitPrompt(tokenize(input));
  const notes: PromptNote[] = [];
  const params: PromptParams = {};
  const error =
    readParams(groupParams(paramTokens), params, notes) ?? checkPromptRules(images, text, params, notes);
  if (error) return { ok: false, error };
  const segments = splitSegments(text);
  const weightError = segments && checkSegments(segments, params, notes);
  if (weightError) return { ok: false, error: weightError };
  const warnings = notes.map((note) => note.message);
  const prompt: ParsedPrompt = { images, text, params, warnings, notes };
  if (segments) prompt.segments = segments;
  return { ok: true, prompt };
}

/**
 * The first link in one prompt that the image service must not be asked to fetch (private or local
 * hosts, schemes other than http(s)). `checkPrompt` applies it to what users type; `parsePrompt`
 * does not, because it also re-reads prompts that were checked when their job was admitted.
 */
export function checkLinks(input: string, options: PromptOptions): PromptError | undefined {
  const tokens = tokenize(input);
  const { images } = splitPrompt(tokens);
  return findUnsafeLink(tokens, images.length, { trustedOrigins: options.trustedImageOrigins });
}

/** Leading image URLs, then text tokens up to the first parameter marker, then the rest. */
function splitPrompt(tokens: readonly string[]) {
  const images: string[] = [];
  let index = 0;
  for (let image = imageUrl(tokens[0]); image !== undefined; image = imageUrl(tokens[index])) {
    images.push(image);
    index++;
  }
  const textStart = index;
  while (index < tokens.length && readMarker(tokens[index] ?? "") === undefined) index++;
  return { images, text: tokens.slice(textStart, index).join(" "), paramTokens: tokens.slice(index) };
}

function checkSegments(segments: readonly PromptSegment[], params: PromptParams, notes: PromptNote[]) {
  const weightError = checkWeights(segments);
  if (weightError) return weightError;
  const { honours, label } = modelHonoursWeights(params);
  if (!honours) notes.push(promptNote("weights-ignored", { model: label }));
  return undefined;
}

/** The URL of an image prompt token (`https://…/x.png`, `<https://…>`, query strings allowed). */
function imageUrl(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const url = token.startsWith("<") && token.endsWith(">") ? token.slice(1, -1) : token;
  if (!/^https?:\/\//i.test(url) || /[<>"“]/.test(url)) return undefined;
  try {
    return IMAGE_EXTENSION.test(new URL(url).pathname) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Splits the parameter tokens into a marker and the value tokens after it. */
function groupParams(tokens: readonly string[]): ParamGroup[] {
  const groups: ParamGroup[] = [];
  for (const token of tokens) {
    const marker = readMarker(token);
    if (marker) groups.push({ marker, values: [] });
    else groups.at(-1)?.values.push(token);
  }
  return groups;
}

function readParams(groups: readonly ParamGroup[], params: PromptParams, notes: PromptNote[]) {
  for (const group of groups) {
    const error = readParam(group, params, notes);
    if (error) return error;
  }
  return undefined;
}

function readParam(group: ParamGroup, params: PromptParams, notes: PromptNote[]): PromptError | undefined {
  const { dash, name } = group.marker;
  const lower = name.toLowerCase();
  const typed = `${dash}${name}`;
  const shown = `--${lower}`;
  if (dash !== "--") notes.push(promptNote(dash === "—" ? "dash-em" : "dash-en", { typed, shown }));
  else if (name !== lower) notes.push(promptNote("lowercase", { typed, shown }));

  if (LEGACY_PARAMETERS.includes(lower)) {
    notes.push(promptNote("legacy-parameter", { parameter: shown }));
    return undefined;
  }
  const buttonOnly = NOT_IN_PROMPTS[lower];
  if (buttonOnly !== undefined) return promptError(buttonOnly, {}, shown);
  const shorthandFor = findShorthand(lower);
  if (shorthandFor?.shorthand) {
    if (group.values.length > 0) return trailingAfterFlag(shown, group.values, shorthandFor);
    setParam(params, shorthandFor, shorthandFor.shorthand.value, notes);
    return undefined;
  }
  const definition = findParameter(lower);
  if (!definition) return unrecognized(typed, name);
  const read = readValue(definition, group.values, shown);
  if (!read.ok) return { ...read.error, parameter: `--${definition.key}` };
  if (read.note) notes.push(read.note);
  setParam(params, definition, read.value, notes);
  return undefined;
}

function trailingAfterFlag(
  shown: string,
  values: readonly string[],
  definition: ParameterDefinition,
): PromptError {
  const read = readValue({ ...definition, value: { kind: "flag" } }, values, shown);
  const parameter = `--${definition.key}`;
  return read.ok
    ? promptError("flag-takes-value", { parameter: shown }, parameter)
    : { ...read.error, parameter };
}

function unrecognized(typed: string, name: string): PromptError {
  const suggestion = suggestParameter(name);
  const shown = typed.length > 60 ? `${typed.slice(0, 59)}…` : typed;
  return suggestion
    ? promptError("unrecognized-suggest", { parameter: shown, suggestion }, shown)
    : promptError("unrecognized", { parameter: shown }, shown);
}

/** Stores a value under its canonical key; a repeated parameter keeps the last value, with a note. */
function setParam(
  params: PromptParams,
  definition: ParameterDefinition,
  value: ParamValue,
  notes: PromptNote[],
) {
  const key = definition.key;
  if (params[key] !== undefined) {
    const text = renderValue(definition.value, value);
    notes.push(
      promptNote("given-twice", { parameter: `--${key}`, last: `--${key}${text ? ` ${text}` : ""}` }),
    );
  }
  (params as Record<string, ParamValue>)[key] = value;
}

/** Whole-prompt rules: conflicts, the model's parameters, and what text and images need. */
function checkPromptRules(images: string[], text: string, params: PromptParams, notes: PromptNote[]) {
  const error = findConflict(params) ?? checkAgainstModel(params, notes);
  if (error) return error;
  if (images.length === 1 && text === "") return promptError("one-image-no-text", {});
  if (images.length === 0 && text === "") return promptError("empty-prompt", {});
  notes.push(...partnerNotes(params, images.length));
  return undefined;
}
