// "Did you mean …?" for unrecognised parameter names: a value glued to the name (`--ar16:9`),
// a near miss by edit distance (`--stylise`), swapped letters (`--ra`) or a prefix (`--styl`).
import { distance } from "fastest-levenshtein";
import { PARAMETERS } from "./parameters.ts";

// Names worth suggesting, canonical names first so they win ties.
const CANDIDATES: readonly string[] = [
  ...PARAMETERS.map((definition) => definition.key),
  ...PARAMETERS.flatMap((definition) => definition.aliases),
  ...PARAMETERS.flatMap((definition) => (definition.shorthand ? [definition.shorthand.name] : [])),
];
// Longest first, so `--stylize250` splits as stylize + 250, not s + tylize250.
const BY_LENGTH = [...CANDIDATES].sort((a, b) => b.length - a.length);
const GLUED_VALUE = /^[=:]?([\d.:]+)$/;
const LONGEST_WORTH_CHECKING = 30;

/** The corrected parameter as the user should type it, e.g. "--ar 16:9", or undefined. */
export function suggestParameter(typedName: string): string | undefined {
  const name = typedName.toLowerCase();
  if (name.length === 0 || name.length > LONGEST_WORTH_CHECKING) return undefined;
  return gluedValue(name) ?? nearMiss(name);
}

function gluedValue(name: string): string | undefined {
  for (const candidate of BY_LENGTH) {
    if (!name.startsWith(candidate) || name.length === candidate.length) continue;
    const value = GLUED_VALUE.exec(name.slice(candidate.length))?.[1];
    if (value !== undefined) return `--${candidate} ${value}`;
  }
  return undefined;
}

function nearMiss(name: string): string | undefined {
  const allowed = name.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of CANDIDATES) {
    const edits = sameLetters(name, candidate) ? 1 : distance(name, candidate);
    if (edits < bestDistance) [best, bestDistance] = [candidate, edits];
  }
  if (best !== undefined && bestDistance <= allowed) return `--${best}`;
  const extended = name.length >= 3 ? CANDIDATES.find((candidate) => candidate.startsWith(name)) : undefined;
  return extended === undefined ? undefined : `--${extended}`;
}

function sameLetters(a: string, b: string): boolean {
  return a.length === b.length && a !== b && [...a].sort().join("") === [...b].sort().join("");
}
