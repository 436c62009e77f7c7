// Splits prompt text into whitespace-separated tokens, keeping "quoted text" (straight or curly
// quotes) inside one token verbatim, and recognises parameter markers at the start of a token.
import { KNOWN_NAMES } from "./parameters.ts";

const ASCII_LETTER = /^[A-Za-z]$/;

/**
 * Finds the closing quote for an opening quote. A quote without a partner later in the text is
 * an ordinary character (an inch mark, an apostrophe), so it protects nothing.
 * Remembers where searches failed so a run of unmatched quotes stays linear.
 */
export class QuoteMatcher {
  private readonly noCloserFrom = new Map<string, number>();

  constructor(private readonly text: string) {}

  /** Index of the quote closing the one at `index`, or -1 when that character opens nothing. */
  closingQuote(index: number): number {
    const char = this.text[index];
    const closer = char === '"' ? '"' : char === "“" ? "”" : undefined;
    if (closer === undefined) return -1;
    const failedFrom = this.noCloserFrom.get(closer);
    if (failedFrom !== undefined && index >= failedFrom) return -1;
    const found = this.text.indexOf(closer, index + 1);
    if (found === -1) this.noCloserFrom.set(closer, index);
    return found;
  }
}

/** The characters JavaScript's `\s` matches, without a regex call per character. */
export function isWhitespace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Whitespace-separated tokens; a quoted span is part of its token whatever it contains. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const quotes = new QuoteMatcher(text);
  let index = 0;
  while (index < text.length) {
    while (index < text.length && isWhitespace(text.charCodeAt(index))) index++;
    if (index >= text.length) break;
    const start = index;
    while (index < text.length && !isWhitespace(text.charCodeAt(index))) {
      const closing = quotes.closingQuote(index);
      index = closing === -1 ? index + 1 : closing + 1;
    }
    tokens.push(text.slice(start, index));
  }
  return tokens;
}

export type Dash = "--" | "—" | "–";

export interface Marker {
  dash: Dash;
  /** The name exactly as typed after the dash, e.g. "AR", "ar16:9". */
  name: string;
}

/**
 * A parameter marker starts a token: `--` followed by a letter, or an em/en dash directly followed
 * by a known parameter name (phones turn `--` into `—`). Anything else (`—` alone, `–20`, `—vast`,
 * `--玫瑰`) is text.
 */
export function readMarker(token: string): Marker | undefined {
  if (token.startsWith("--")) {
    const name = token.slice(2);
    return ASCII_LETTER.test(name[0] ?? "") ? { dash: "--", name } : undefined;
  }
  const dash = token[0];
  if (dash !== "—" && dash !== "–") return undefined;
  const name = token.slice(1);
  return KNOWN_NAMES.has(name.toLowerCase()) ? { dash, name } : undefined;
}
