// Prompt errors and notes, team refusals, and what src/jobs says (a job's error, a refusal) in a
// person's language. They are data (`code` + `values`, see src/prompt/messages.ts); this renders them
// through the catalogue: phrases and lists in the same language, nested errors (`cause`) first, then
// the error's own template. English comes out exactly as the `message`, which src/prompt, src/team
// and src/jobs fill in from the same English templates.
import type { Part, Phrase, PromptError } from "../prompt/index.ts";
import { joinItems } from "../prompt/index.ts";
import type { TeamError } from "../team/messages.ts";
import { en } from "./en/index.ts";
import { type Language, type Translate, translator } from "./index.ts";

type Namespace = "prompt" | "team" | "jobs";

/** Words as stored: a code Atelier may no longer (or not yet) know, and `message`, its English. */
interface Coded {
  code?: string;
  values?: object;
  message: string;
}

/** A language, or the `t` of one (call sites that already hold a `t` pass it). */
type Speaker = Language | Translate;

/** A prompt error (with whatever it wraps) in the reader's language. */
export function promptErrorText(error: PromptError, language: Speaker): string {
  return render("prompt", `errors.${error.code}`, error.values, tFor(language));
}

/** A team rule's refusal (a banned term that cannot be added, a /prefer change) in the reader's language. */
export function teamErrorText(error: TeamError, language: Speaker): string {
  return render("team", `errors.${error.code}`, error.values, tFor(language));
}

/** A note on how a prompt was read (under a job's prompt) in the reader's language. */
export function promptNoteText(note: Coded, language: Speaker): string {
  return codedText("prompt", "notes", note, tFor(language));
}

/**
 * What src/jobs says — a job's error, a refused ❌ Cancel, no room in the queue — in the reader's
 * language; an image service's own words (no code) as it gave them.
 */
export function jobMessageText(words: Coded, language: Speaker): string {
  return codedText("jobs", "texts", words, tFor(language));
}

/** Codes each table knows, plural forms folded (`queue-full_one` → `queue-full`). */
const knownCodes = {
  notes: new Set(Object.keys(en.prompt.notes)),
  texts: new Set(Object.keys(en.jobs.texts).map((key) => key.replace(/_(?:one|other)$/, ""))),
};

function codedText(namespace: Namespace, table: keyof typeof knownCodes, words: Coded, t: Translate): string {
  if (words.code === undefined || !knownCodes[table].has(words.code)) return words.message;
  return render(namespace, `${table}.${words.code}`, words.values ?? {}, t);
}

/** Words of the prompt language that are not a whole error, e.g. why an attachment's link is refused. */
export function promptPhraseText(words: Phrase, language: Speaker): string {
  return partText("prompt", words, tFor(language));
}

function tFor(language: Speaker): Translate {
  return typeof language === "function" ? language : translator(language);
}

function render(namespace: Namespace, key: string, values: object, t: Translate): string {
  const filled: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(values as Record<string, Part>)) {
    // i18next picks the plural form from a number `count`; everything else goes in as text.
    filled[name] = name === "count" && typeof part === "number" ? part : partText(namespace, part, t);
  }
  return t(`${namespace}:${key}`, filled);
}

function partText(namespace: Namespace, part: Part, t: Translate): string {
  if (typeof part === "string") return part;
  if (typeof part === "number") return String(part);
  // Nested errors are always prompt errors: a team refusal may wrap one, never the other way round.
  if ("code" in part) return render("prompt", `errors.${part.code}`, part.values, t);
  if ("phrase" in part) return render(namespace, `phrases.${part.phrase}`, part.values ?? {}, t);
  const items = part.items.map((item) => partText(namespace, item, t));
  return joinItems(items, (head, last) => t(`prompt:lists.${part.join}`, { head, last }), part);
}
