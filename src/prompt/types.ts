// The shape of a parsed Midjourney prompt. This is the contract every other layer reads;
// `src/prompt/` fills it, providers render it back to text with `renderPrompt`.
import type { PromptError, PromptNote } from "./messages.ts";

/** Canonical parameter names (aliases such as `--aspect`, `--s`, `--c` are normalised to these). */
export interface PromptParams {
  ar?: string; // "16:9"
  chaos?: number;
  no?: string[];
  quality?: number;
  seed?: number;
  stop?: number;
  stylize?: number;
  style?: string; // "raw", or a niji style such as "cute"; `--raw` sets style "raw"
  tile?: true;
  weird?: number;
  exp?: number;
  repeat?: number;
  sref?: string[]; // URLs, numeric codes or "random"
  sw?: number;
  sv?: number;
  cref?: string[];
  cw?: number;
  oref?: string[];
  ow?: number;
  iw?: number;
  niji?: string; // "6", "7"
  v?: string; // "8.1", "7", "6.1"
  draft?: true;
  hd?: true;
  p?: string[]; // personalisation codes; [] for a bare `--p`
  fast?: true;
  relax?: true;
  turbo?: true;
  stealth?: true;
  public?: true;
  /** Atelier's own: the configured image service this prompt runs on (not sent to any provider). */
  provider?: string;
}

/** One `::`-separated part of a multi-prompt; `weight` is absent when the user gave none. */
export interface PromptSegment {
  text: string;
  weight?: number;
}

export interface ParsedPrompt {
  /** Image prompts: the URLs at the start, without angle brackets. */
  images: string[];
  /** The text between the images and the parameters, whitespace-normalised; quotes kept verbatim. */
  text: string;
  /** Present only when the text uses `::` weights. */
  segments?: PromptSegment[];
  params: PromptParams;
  /** Notes for the user: normalised dashes, duplicate parameters, ignored legacy flags, … */
  warnings: string[];
  /**
   * The same notes as data (code and values, `message` = the warning), so they can be said in the
   * reader's language. Set by the parser; prompts made in code may leave it out.
   */
  notes?: PromptNote[];
}

/** A problem in what the user typed: a code with its values, and the English `message`. */
export type { PromptError };

export interface PromptOptions {
  /** Longest accepted prompt in characters (after normalisation). Default 8192. */
  maxLength?: number;
  /** Cap on jobs produced by `{a,b}` permutations times `--repeat`. Default 10. */
  maxJobs?: number;
  /**
   * Origins (any URL on them will do) whose links `checkPrompt` accepts even over http or on a
   * private address, e.g. the server that hands out Discord attachments in tests. Every other link
   * must be http(s) to a public host.
   */
  trustedImageOrigins?: readonly string[];
  /** Names `--provider` may take (e.g. every provider Atelier knows); any word when absent. */
  providerNames?: readonly string[];
}

export type PromptCheck =
  | { ok: true; prompt: ParsedPrompt; expanded: ParsedPrompt[] }
  | { ok: false; error: PromptError };
