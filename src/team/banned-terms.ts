// Banned words and /regex/ patterns: how admins write them, how they are checked before anything is
// stored, and how a prompt is searched for them (case-insensitive, whole words, URLs ignored).
// Patterns are written in JavaScript syntax and matched by RE2 (re2js, a pure-JavaScript port):
// its time grows linearly with the prompt whatever the pattern, so no pattern can stall admission.
// RE2 has no backreferences and no lookaround; patterns using them are refused when added.
import { RE2JS } from "re2js";
import type { BannedPattern } from "./guild-config.ts";
import { refused, type TeamError, type TeamPhrase } from "./messages.ts";

export const maxWordLength = 100;
export const maxPatternLength = 200;
const allowedFlags = new Set(["i", "m", "s", "u"]);

export type BannedTerm = { kind: "word"; word: string } | { kind: "pattern"; pattern: BannedPattern };

export type ParsedTerm = { ok: true; term: BannedTerm } | ({ ok: false } & TeamError);

/** `cat`, `two words`, or `/ca+t/i`; patterns must compile, in JavaScript and in RE2. */
export function parseBannedTerm(input: string): ParsedTerm {
  const text = input.trim();
  const slashed = /^\/(.*)\/([a-z]*)$/s.exec(text);
  if (slashed) return parsePattern(slashed[1] ?? "", slashed[2] ?? "");
  if (text === "") return refused("ban-empty", {});
  if (text.length > maxWordLength) return refused("word-too-long", { limit: maxWordLength });
  if (/[\r\n]/.test(text)) return refused("word-multiline", {});
  return { ok: true, term: { kind: "word", word: text.toLowerCase() } };
}

function parsePattern(source: string, flags: string): ParsedTerm {
  if (source === "") return refused("pattern-empty", {});
  if (source.length > maxPatternLength) return refused("pattern-too-long", { limit: maxPatternLength });
  const unknown = [...flags].filter((flag) => !allowedFlags.has(flag));
  if (unknown.length > 0) return refused("pattern-flags", { flags: unknown.join("") });
  const pattern = { source, flags: [...new Set(flags)].sort().join("") };
  try {
    new RegExp(source, pattern.flags);
  } catch (error) {
    return refused("pattern-invalid", { detail: (error as Error).message });
  }
  const feature = unsupportedFeature(source);
  if (feature) return refused("pattern-unsupported", { feature });
  const compiled = compileForMatching(pattern);
  if (!compiled.ok) return refused("pattern-invalid", { detail: compiled.message });
  if (compiled.matcher.test("")) return refused("pattern-matches-empty", {});
  return { ok: true, term: { kind: "pattern", pattern } };
}

/** How the admin wrote a term, for lists and confirmations. */
export function describeTerm(term: BannedTerm): string {
  return term.kind === "word" ? term.word : `/${term.pattern.source}/${term.pattern.flags}`;
}

const lookarounds: ReadonlyArray<readonly [string, TeamPhrase]> = [
  ["(?<=", { phrase: "feature.lookbehind" }],
  ["(?<!", { phrase: "feature.negativeLookbehind" }],
  ["(?=", { phrase: "feature.lookahead" }],
  ["(?!", { phrase: "feature.negativeLookahead" }],
];

/** The first feature of JavaScript patterns that RE2 lacks (backreference, lookaround), named; else undefined. */
export function unsupportedFeature(source: string): TeamPhrase | undefined {
  let inClass = false;
  for (let index = 0; index < source.length; index += 1) {
    const char = source[index];
    if (char === "\\") {
      const next = source[index + 1] ?? "";
      if (!inClass && /[1-9]/.test(next))
        return { phrase: "feature.backreference", values: { escape: `\\${next}` } };
      if (!inClass && next === "k" && source[index + 2] === "<")
        return { phrase: "feature.namedBackreference" };
      index += 1;
    } else if (inClass) {
      if (char === "]") inClass = false;
    } else if (char === "[") inClass = true;
    else if (char === "(") {
      const found = lookarounds.find(([opening]) => source.startsWith(opening, index));
      if (found) return found[1];
    }
  }
  return undefined;
}

/** JavaScript escapes RE2 spells differently: `\uXXXX` and `\u{X…}` become `\x{…}`. */
function toRe2Syntax(source: string): string {
  return source.replace(/\\(\\|u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4}))/g, (sequence, _body, braced, plain) =>
    braced || plain ? `\\x{${braced ?? plain}}` : sequence,
  );
}

type Compiled = { ok: true; matcher: RE2JS } | { ok: false; message: string };

/** Compiled patterns by flags and source: compiling is far slower than matching, and prompts keep coming. */
const compiledPatterns = new Map<string, Compiled>();
const maxCompiledPatterns = 2_000;

/** The pattern as RE2 runs it: always case-insensitive and Unicode-aware, `m` and `s` as in JavaScript. */
function compileForMatching(pattern: BannedPattern): Compiled {
  const key = `${pattern.flags}/${pattern.source}`;
  const cached = compiledPatterns.get(key);
  if (cached) return cached;
  let flags = RE2JS.CASE_INSENSITIVE;
  if (pattern.flags.includes("m")) flags |= RE2JS.MULTILINE;
  if (pattern.flags.includes("s")) flags |= RE2JS.DOTALL;
  let compiled: Compiled;
  try {
    compiled = { ok: true, matcher: RE2JS.compile(toRe2Syntax(pattern.source), flags) };
  } catch (error) {
    compiled = { ok: false, message: (error as Error).message.replace(/^error parsing regexp: /, "") };
  }
  if (compiledPatterns.size >= maxCompiledPatterns) compiledPatterns.clear();
  compiledPatterns.set(key, compiled);
  return compiled;
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

/** A matched text short enough to quote back in a reply (a pattern can match a whole prompt). */
function shortened(hit: string): string {
  const characters = [...hit];
  return characters.length <= maxWordLength ? hit : `${characters.slice(0, maxWordLength).join("")}…`;
}

/** The first banned word (as listed) or pattern hit (the matched text, at most 100 characters shown) in the prompt, if any. */
export function findBannedTerm(
  text: string,
  words: readonly string[],
  patterns: readonly BannedPattern[],
): string | undefined {
  const prompt = withoutUrls(text);
  for (const word of words) if (wordMatcher(word).test(prompt)) return word;
  for (const pattern of patterns) {
    const compiled = compileForMatching(pattern);
    // A pattern saved before patterns ran on RE2 may use what RE2 lacks: it cannot match (never a
    // backtracking engine, which could stall); `/atelier ban list` still shows it.
    if (!compiled.ok || !compiled.matcher.test(prompt)) continue;
    const hit = compiled.matcher.matcher(prompt);
    if (hit.find()) return shortened(hit.group() ?? "");
  }
  return undefined;
}
