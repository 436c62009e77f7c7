// Reads the value tokens after a parameter name into its canonical value, and renders it back.
// One reader per value kind of the parameter table; errors say what the value must look like.
import type { ParameterDefinition, ReferenceForm, ValueSpec } from "./parameters.ts";
import type { PromptParams } from "./types.ts";
import { findVersion, versionValues } from "./versions.ts";

export type ParamValue = NonNullable<PromptParams[keyof PromptParams]>;

export type ValueRead = { ok: true; value: ParamValue; note?: string } | { ok: false; message: string };

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

/** What a value must look like, for "must be …" and "needs a value: …" messages. */
export function describeValue(spec: ValueSpec): string {
  switch (spec.kind) {
    case "flag":
      return "nothing (it is a flag)";
    case "integer":
      return spec.max === 4294967295 && spec.min === 0
        ? "a whole number from 0 to 4294967295"
        : `a whole number from ${spec.min} to ${spec.max}`;
    case "decimal":
      return `a number from ${spec.min} to ${spec.max}`;
    case "ratio":
      return "W:H with whole numbers, e.g. 16:9";
    case "commaList":
      return "a comma-separated list, e.g. trees, cars";
    case "references":
      return describeReferenceForms(spec.forms);
    case "codes":
      return "personalisation codes (letters and digits) or nothing";
    case "word":
      return "a style name such as raw";
    case "model":
      return `one of ${versionValues(spec.family).join(", ")}`;
  }
}

function describeReferenceForms(forms: readonly ReferenceForm[]): string {
  const names = { url: "image URLs", code: "numeric style codes", random: "random" } as const;
  const parts = forms.map((form) => names[form]);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}` : (parts[0] ?? "");
  return `${list}, separated by spaces`;
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
      note: `${shown} without a number means ${shown} ${spec.whenBare}`,
    };
  }
  if (tokens.length === 0) return { ok: false, message: `${shown} needs a value: ${describeValue(spec)}` };
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
  const takes = value === "" ? "takes no value" : `takes one value (${quote(value)})`;
  return {
    ok: false,
    message: `${shown} ${takes}, but ${quote(rest.join(" "))} follows it; text belongs before the parameters`,
  };
}

/** What a failed read reports: "--x must be <what the spec allows><detail>". */
interface Fail {
  shown: string;
  spec: ValueSpec;
}

function mustBe({ shown, spec }: Fail, detail = ""): ValueRead {
  return { ok: false, message: `${shown} must be ${describeValue(spec)}${detail}` };
}

function readNumber(token: string, min: number, max: number, shape: RegExp, fail: Fail): ValueRead {
  if (!shape.test(token)) return mustBe(fail, `, not ${quote(token)}`);
  const value = Number(token);
  if (!(value >= min && value <= max)) return mustBe(fail, `, not ${quote(token)}`);
  return { ok: true, value };
}

function readRatio(token: string, fail: Fail): ValueRead {
  const match = RATIO.exec(token);
  if (match) {
    const width = stripLeadingZeros(match[1] ?? "");
    const height = stripLeadingZeros(match[2] ?? "");
    if (width === "0" || height === "0") return mustBe(fail, `, not ${quote(token)} (both sides above 0)`);
    return { ok: true, value: `${width}:${height}` };
  }
  const decimal = DECIMAL_RATIO.exec(token);
  if (decimal)
    return mustBe(fail, `; no decimals${suggestWholeRatio(Number(decimal[1]), Number(decimal[2]))}`);
  return mustBe(fail, `, not ${quote(token)}`);
}

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "");
}

/** 1.5:1 → ", try 3:2": scales by 10^decimals and divides by the common divisor. */
function suggestWholeRatio(width: number, height: number): string {
  if (!(width > 0 && height > 0)) return "";
  for (const scale of [1, 10, 100, 1000]) {
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    if (Math.abs(w - width * scale) < 1e-9 && Math.abs(h - height * scale) < 1e-9) {
      const divisor = gcd(w, h);
      return `, try ${w / divisor}:${h / divisor}`;
    }
  }
  return "";
}

function gcd(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function readModel(token: string, family: "v" | "niji", shown: string, fail: Fail): ValueRead {
  const numeric = DECIMAL.test(token) ? String(Number(token)) : token;
  const model = findVersion(family, numeric);
  if (!model) return mustBe(fail, `, not ${quote(token)}`);
  if (model.version === token) return { ok: true, value: model.version };
  return { ok: true, value: model.version, note: `Read “${shown} ${token}” as “${shown} ${model.version}”` };
}

function readCommaList(tokens: readonly string[], shown: string, spec: ValueSpec): ValueRead {
  const items = tokens
    .join(" ")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) return { ok: false, message: `${shown} needs a value: ${describeValue(spec)}` };
  return { ok: true, value: items };
}

function readReferences(tokens: readonly string[], forms: readonly ReferenceForm[], fail: Fail): ValueRead {
  const references: string[] = [];
  for (const token of tokens) {
    const reference = readReference(token, forms);
    if (reference === undefined) return mustBe(fail, `, not ${quote(token)}`);
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
  for (const token of tokens) if (!PROFILE_CODE.test(token)) return mustBe(fail, `, not ${quote(token)}`);
  return { ok: true, value: [...tokens] };
}

/** Canonical text of a value (empty for flags). */
export function renderValue(spec: ValueSpec, value: ParamValue): string {
  if (value === true) return "";
  if (Array.isArray(value)) return value.join(spec.kind === "commaList" ? ", " : " ");
  return String(value);
}
