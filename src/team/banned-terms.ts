// Banned words and /regex/ patterns: how admins write them, how they are checked before anything is
// stored, and how a prompt is searched for them (case-insensitive, whole words, URLs ignored).
import type { BannedPattern } from "./guild-config.ts";

export const maxWordLength = 100;
export const maxPatternLength = 200;
const allowedFlags = new Set(["i", "m", "s", "u"]);

export type BannedTerm = { kind: "word"; word: string } | { kind: "pattern"; pattern: BannedPattern };

export type ParsedTerm = { ok: true; term: BannedTerm } | { ok: false; message: string };

/** `cat`, `two words`, or `/ca+t/i`; patterns must compile and must not invite catastrophic backtracking. */
export function parseBannedTerm(input: string): ParsedTerm {
  const text = input.trim();
  const slashed = /^\/(.*)\/([a-z]*)$/s.exec(text);
  if (slashed) return parsePattern(slashed[1] ?? "", slashed[2] ?? "");
  if (text === "") return { ok: false, message: "Give a word, or a pattern written as /pattern/." };
  if (text.length > maxWordLength)
    return { ok: false, message: `A banned word can be at most ${maxWordLength} characters long.` };
  if (/[\r\n]/.test(text)) return { ok: false, message: "A banned word must be on one line." };
  return { ok: true, term: { kind: "word", word: text.toLowerCase() } };
}

function parsePattern(source: string, flags: string): ParsedTerm {
  if (source === "") return { ok: false, message: "The pattern between the slashes is empty." };
  if (source.length > maxPatternLength)
    return { ok: false, message: `A pattern can be at most ${maxPatternLength} characters long.` };
  const unknown = [...flags].filter((flag) => !allowedFlags.has(flag));
  if (unknown.length > 0)
    return { ok: false, message: `Unsupported pattern flag ${unknown.join("")}: use only i, m, s or u.` };
  const uniqueFlags = [...new Set(flags)].sort().join("");
  let compiled: RegExp;
  try {
    compiled = new RegExp(source, uniqueFlags);
  } catch (error) {
    return { ok: false, message: `That pattern does not compile: ${(error as Error).message}` };
  }
  if (hasNestedQuantifier(source))
    return {
      ok: false,
      message:
        "That pattern repeats a group that itself repeats, like (a+)+: it can take forever on some prompts. Simplify it.",
    };
  if (compiled.test(""))
    return { ok: false, message: "That pattern matches an empty prompt, so it would ban everything." };
  return { ok: true, term: { kind: "pattern", pattern: { source, flags: uniqueFlags } } };
}

/** How the admin wrote a term, for lists and confirmations. */
export function describeTerm(term: BannedTerm): string {
  return term.kind === "word" ? term.word : `/${term.pattern.source}/${term.pattern.flags}`;
}

function isUnboundedQuantifierAt(source: string, index: number): boolean {
  const char = source[index];
  if (char === "*" || char === "+") return true;
  if (char !== "{") return false;
  return /^\{\d*,\}/.test(source.slice(index));
}

/**
 * The usual cause of catastrophic backtracking: an unbounded repeat of a group that contains an
 * unbounded repeat, e.g. (a+)+, (a*b?)*, (x{2,})+. A heuristic, not a proof: it errs on refusing.
 */
export function hasNestedQuantifier(source: string): boolean {
  const groups: boolean[] = [];
  let inClass = false;
  for (let index = 0; index < source.length; index += 1) {
    const char = source[index];
    if (char === "\\") {
      index += 1;
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    if (char === "[") inClass = true;
    else if (char === "(") groups.push(false);
    else if (char === ")") {
      const innerRepeats = groups.pop() ?? false;
      const repeated = isUnboundedQuantifierAt(source, index + 1);
      if (innerRepeats && repeated) return true;
      if ((innerRepeats || repeated) && groups.length > 0) groups[groups.length - 1] = true;
    } else if (isUnboundedQuantifierAt(source, index) && groups.length > 0) groups[groups.length - 1] = true;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A whole word or phrase, any case, any spacing between its words. */
function wordMatcher(word: string): RegExp {
  const body = word.split(/\s+/).map(escapeRegExp).join("\\s+");
  return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, "iu");
}

/** Image URLs are not what the user wrote; a banned word inside one is a false alarm. */
function withoutUrls(text: string): string {
  return text.replace(/\bhttps?:\/\/\S+/gi, " ");
}

/** The first banned word (as listed) or pattern hit (the matched text) in the prompt, if any. */
export function findBannedTerm(
  text: string,
  words: readonly string[],
  patterns: readonly BannedPattern[],
): string | undefined {
  const prompt = withoutUrls(text);
  for (const word of words) if (wordMatcher(word).test(prompt)) return word;
  for (const pattern of patterns) {
    const flags = pattern.flags.includes("i") ? pattern.flags : `${pattern.flags}i`;
    const hit = new RegExp(pattern.source, flags).exec(prompt);
    if (hit) return hit[0];
  }
  return undefined;
}
