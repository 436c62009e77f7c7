// How a person's /prefer choices rewrite a prompt, as pure text work: `--name` options expanded,
// the suffix appended (words after words, parameters last), and — when the result is invalid —
// which preference is to blame. The stored preferences themselves live in src/team/preferences.ts.
import { checkPrompt } from "./check.ts";
import { promptError } from "./messages.ts";
import { KNOWN_NAMES } from "./parameters.ts";
import type { PromptError } from "./types.ts";

/** The parts of a person's preferences that rewrite prompt text. */
export interface PromptPreferences {
  options?: Readonly<Record<string, string>>;
  suffix?: string;
}

// Any text will do: a value is checked as the parameters of a prompt that has words.
const PROBE_TEXT = "probe";

/** Checks a stored value (an option's expansion or the suffix) on its own, as the end of a prompt. */
export function valueProblem(value: string, limit: number): PromptError | undefined {
  if (value.trim() === "") return promptError("value-empty", {});
  if (value.length > limit) return promptError("value-too-long", { count: value.length, limit });
  const checked = checkPrompt(`${PROBE_TEXT} ${value}`);
  return checked.ok ? undefined : checked.error;
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
  preferences: PromptPreferences,
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
    const options = used.map((option) => `--${option.name}`).join(", ");
    return promptError("options-clash", { options, cause: error }, error.parameter);
  }
  if (preferences.suffix) {
    const suffix = quoteValue(preferences.suffix);
    return promptError("suffix-clash", { suffix, cause: error }, error.parameter);
  }
  return error;
}

function blameOption(option: UsedOption, error: PromptError): PromptError {
  const values = { option: `--${option.name}`, value: quoteValue(option.value), cause: error };
  return promptError("option-broken", values, error.parameter);
}
