// Reads the value tokens after a parameter name into its canonical value, and renders it back.
// One reader per value kind of the parameter table; errors say what the value must look like.
import {
  englishPart,
  list,
  type Phrase,
  type PromptNote,
  phrase,
  promptError,
  promptNote,
} from "./messages.ts";
import type { ParameterDefinition, ReferenceForm, ValueSpec } from "./parameters.ts";
import type { PromptError, PromptParams } from "./types.ts";
import { findVersion, versionValues } from "./versions.ts";

export type ParamValue = NonNullable<PromptParams[keyof PromptParams]>;

export type ValueRead =
  | { ok: true; value: ParamValue; note?: PromptNote }
  | { ok: false; error: PromptError };

const WHOLE_NUMBER = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const RATIO = /^(\d+):(\d+)$/;
// Unambiguous alternatives keep matching linear on long digit runs.
const DECIMAL_RATIO = /^(\d+(?:\.\d+)?|\.\d+):(\d+(?:\.\d+)?|\.\d+)$/;
const URL = /^https?:\/\/\S+$/i;
const STYLE_CODE = /^\d+$/;
const PROFILE_CODE = /^[A-Za-z0-9_-]+$/;
const WEIGHT_SUFFIX = /^::-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Shortens a user's value for quoting in a message. */
export function quote(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 39)}…` : text;
  return `“${short}”`;
}

/** What a value must look like, in English, for help texts. */
export function describeValue(spec: ValueSpec): string {
  return englishPart(allowedValues(spec));
}

/** What a value must look like, for "must be …" and "needs a value: …" messages. */
export function allowedValues(spec: ValueSpec): Phrase {
  switch (spec.kind) {
    case "flag":
      return phrase("value.flag");
    case "integer":
      return phrase("value.integer", { min: spec.min, max: spec.max });
    case "decimal":
      return phrase("value.decimal", { min: spec.min, max: spec.max });
    case "ratio":
      return phrase("value.ratio");
    case "commaList":
      return phrase("value.commaList");
    case "references":
      return phrase("value.references", { forms: list(spec.forms.map(referenceForm), "or") });
    case "codes":
      return phrase("value.codes");
    case "word":
      return phrase("value.word");
    case "model":
      return phrase("value.model", { versions: versionValues(spec.family).join(", ") });
  }
}

/** `random` is typed as it is; the other forms are described. */
function referenceForm(form: ReferenceForm): Phrase | string {
  return form === "random" ? "random" : phrase(form === "url" ? "reference.url" : "reference.code");
}

/** Reads the tokens that followed `--name` (already split on whitespace). */
export function readValue(
  definition: ParameterDefinition,
  tokens: readonly string[],
  shown: string,
): ValueRead {
  const spec = definition.value;
  const fail: Fail = { shown, spec };
  if (spec.kind === "flag")
    return tokens.length === 0 ? { ok: true, value: true } : trailing(shown, "", tokens);
  if (spec.kind === "codes") return readCodes(tokens, fail);
  if (spec.kind === "model" && tokens.length === 0 && spec.whenBare !== undefined) {
    return {
      ok: true,
      value: spec.whenBare,
      note: promptNote("bare-model", { parameter: shown, value: spec.whenBare }),
    };
  }
  if (tokens.length === 0) return needsValue(shown, spec);
  if (spec.kind === "commaList") return readCommaList(tokens, shown, spec);
  if (spec.kind === "references") return readReferences(tokens, spec.forms, fail);
  const [first = "", ...rest] = tokens;
  if (rest.length > 0) return trailing(shown, first, rest);
  switch (spec.kind) {
    case "integer":
      return readNumber(first, spec.min, spec.max, WHOLE_NUMBER, fail);
    case "decimal":
      return readNumber(first, spec.min, spec.max, DECIMAL, fail);
    case "ratio":
      return readRatio(first, fail);
    case "word":
      return { ok: true, value: first.toLowerCase() };
    case "model":
      return readModel(first, spec.family, shown, fail);
  }
}

function trailing(shown: string, value: string, rest: readonly string[]): ValueRead {
  const follows = quote(rest.join(" "));
  return failed(
    value === ""
      ? promptError("trailing-after-flag", { parameter: shown, rest: follows })
      : promptError("trailing-after-value", { parameter: shown, value: quote(value), rest: follows }),
  );
}

function failed(error: PromptError): ValueRead {
  return { ok: false, error };
}

function needsValue(shown: string, spec: ValueSpec): ValueRead {
  return failed(promptError("value-missing", { parameter: shown, allowed: allowedValues(spec) }));
}

/** What a failed read reports: "--x must be <what the spec allows>, not <token>". */
interface Fail {
  shown: string;
  spec: ValueSpec;
}

function mustBe({ shown, spec }: Fail, token: string): ValueRead {
  return failed(
    promptError("value-invalid", { parameter: shown, allowed: allowedValues(spec), value: quote(token) }),
  );
}

function readNumber(token: string, min: number, max: number, shape: RegExp, fail: Fail): ValueRead {
  if (!shape.test(token)) return mustBe(fail, token);
  const value = Number(token);
  if (!(value >= min && value <= max)) return mustBe(fail, token);
  return { ok: true, value };
}

function readRatio(token: string, fail: Fail): ValueRead {
  const match = RATIO.exec(token);
  if (match) {
    const width = stripLeadingZeros(match[1] ?? "");
    const height = stripLeadingZeros(match[2] ?? "");
    const values = { parameter: fail.shown, allowed: allowedValues(fail.spec), value: quote(token) };
    if (width === "0" || height === "0") return failed(promptError("ratio-zero", values));
    return { ok: true, value: `${width}:${height}` };
  }
  const decimal = DECIMAL_RATIO.exec(token);
  if (decimal) {
    const values = { parameter: fail.shown, allowed: allowedValues(fail.spec) };
    const ratio = wholeRatio(Number(decimal[1]), Number(decimal[2]));
    return failed(
      ratio === undefined
        ? promptError("ratio-decimals", values)
        : promptError("ratio-decimals-try", { ...values, ratio }),
    );
  }
  return mustBe(fail, token);
}

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "");
}

/** 1.5:1 → 3:2: scales by 10^decimals and divides by the common divisor. */
function wholeRatio(width: number, height: number): string | undefined {
  if (!(width > 0 && height > 0)) return undefined;
  for (const scale of [1, 10, 100, 1000]) {
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    if (Math.abs(w - width * scale) < 1e-9 && Math.abs(h - height * scale) < 1e-9) {
      const divisor = gcd(w, h);
      return `${w / divisor}:${h / divisor}`;
    }
  }
  return undefined;
}

function gcd(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function readModel(token: string, family: "v" | "niji", shown: string, fail: Fail): ValueRead {
  const numeric = DECIMAL.test(token) ? String(Number(token)) : token;
  const model = findVersion(family, numeric);
  if (!model) return mustBe(fail, token);
  if (model.version === token) return { ok: true, value: model.version };
  const note = promptNote("read-as", { typed: `${shown} ${token}`, shown: `${shown} ${model.version}` });
  return { ok: true, value: model.version, note };
}

function readCommaList(tokens: readonly string[], shown: string, spec: ValueSpec): ValueRead {
  const items = tokens
    .join(" ")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) return needsValue(shown, spec);
  return { ok: true, value: items };
}

function readReferences(tokens: readonly string[], forms: readonly ReferenceForm[], fail: Fail): ValueRead {
  const references: string[] = [];
  for (const token of tokens) {
    const reference = readReference(token, forms);
    if (reference === undefined) return mustBe(fail, token);
    references.push(reference);
  }
  return { ok: true, value: references };
}

/** A URL (angle brackets dropped), code or `random`, optionally with a `::weight` suffix. */
function readReference(token: string, forms: readonly ReferenceForm[]): string | undefined {
  const weightAt = token.lastIndexOf("::");
  const hasWeight = weightAt > 0 && WEIGHT_SUFFIX.test(token.slice(weightAt));
  const body = hasWeight ? token.slice(0, weightAt) : token;
  const weight = hasWeight ? token.slice(weightAt) : "";
  const unwrapped = body.startsWith("<") && body.endsWith(">") ? body.slice(1, -1) : body;
  if (forms.includes("url") && URL.test(unwrapped) && !unwrapped.includes(">")) return unwrapped + weight;
  if (forms.includes("code") && STYLE_CODE.test(body)) return body + weight;
  if (forms.includes("random") && body.toLowerCase() === "random") return `random${weight}`;
  return undefined;
}

function readCodes(tokens: readonly string[], fail: Fail): ValueRead {
  for (const token of tokens) if (!PROFILE_CODE.test(token)) return mustBe(fail, token);
  return { ok: true, value: [...tokens] };
}

/** Canonical text of a value (empty for flags). */
export function renderValue(spec: ValueSpec, value: ParamValue): string {
  if (value === true) return "";
  if (Array.isArray(value)) return value.join(spec.kind === "commaList" ? ", " : " ");
  return String(value);
}
