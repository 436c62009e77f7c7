// The words of team rule refusals (banned terms as admins write them, /prefer options and suffix),
// as data first and English second, the same way as src/prompt/messages.ts: a stable `code`, the
// `values` its sentence needs, and `message` in English filled in from `teamEnglish`, the only
// English source (src/i18n/en/team.ts re-exports it; src/i18n/errors.ts renders any language).
import { englishText, type Phrase, type PromptError } from "../prompt/index.ts";

interface ErrorValues {
  "ban-empty": Empty;
  "word-too-long": { limit: number };
  "word-multiline": Empty;
  "pattern-empty": Empty;
  "pattern-too-long": { limit: number };
  "pattern-flags": { flags: string };
  /** `detail` is the regular-expression engine's own English words. */
  "pattern-invalid": { detail: string };
  "pattern-unsupported": { feature: TeamPhrase };
  "pattern-matches-empty": Empty;
  "option-name-shape": Empty;
  "option-name-too-long": { limit: number };
  "option-name-taken": { option: string };
  "option-value-invalid": { option: string; value: string; cause: PromptError };
  "too-many-options": { count: number };
  "no-such-option": { option: string };
  "suffix-invalid": { suffix: string; cause: PromptError };
}

type Empty = Record<string, never>;

export type TeamErrorCode = keyof ErrorValues;

/** A team rule's refusal: one member per code, with its values and the English `message`. */
export type TeamError = { [C in TeamErrorCode]: { code: C; values: ErrorValues[C] } }[TeamErrorCode] & {
  message: string;
};

/** The English catalogue of src/team (namespace `team`). */
export const teamEnglish = {
  errors: {
    "ban-empty": "Give a word, or a pattern written as /pattern/.",
    "word-too-long": "A banned word can be at most {{limit}} characters long.",
    "word-multiline": "A banned word must be on one line.",
    "pattern-empty": "The pattern between the slashes is empty.",
    "pattern-too-long": "A pattern can be at most {{limit}} characters long.",
    "pattern-flags": "Unsupported pattern flag {{flags}}: use only i, m, s or u.",
    "pattern-invalid": "That pattern does not compile: {{detail}}",
    "pattern-unsupported":
      "That pattern uses {{feature}}, which banned patterns cannot: they are matched by RE2, which never stalls on a prompt but has no backreferences (\\1, \\k<name>) and no lookaround ((?=…), (?!…), (?<=…), (?<!…)). Rewrite it without.",
    "pattern-matches-empty": "That pattern matches an empty prompt, so it would ban everything.",
    "option-name-shape":
      "An option name starts with a letter and has only letters, digits, - and _ (e.g. `wide`)",
    "option-name-too-long": "An option name has at most {{limit}} characters",
    "option-name-taken":
      "{{option}} is a Midjourney parameter; pick another name so the parameter keeps working",
    "option-value-invalid": "{{option}} cannot expand to {{value}}: {{cause}}",
    "too-many-options_one": "You have {{count}} option, the most there can be; delete it first",
    "too-many-options_other": "You have {{count}} options, the most there can be; delete one first",
    "no-such-option": "You have no option {{option}}",
    "suffix-invalid": "The suffix {{suffix}} is not valid: {{cause}}",
  },
  phrases: {
    feature: {
      backreference: "a backreference {{escape}}",
      namedBackreference: "a named backreference \\k<…>",
      lookbehind: "a lookbehind (?<=…)",
      negativeLookbehind: "a negative lookbehind (?<!…)",
      lookahead: "a lookahead (?=…)",
      negativeLookahead: "a negative lookahead (?!…)",
    },
  },
};

/** Words of the team catalogue's `phrases`, e.g. `feature.lookahead`. */
export type TeamPhrase = Omit<Phrase, "phrase"> & {
  phrase: `feature.${keyof typeof teamEnglish.phrases.feature}`;
};

export function teamError<C extends TeamErrorCode>(code: C, values: ErrorValues[C]): TeamError {
  return { code, values, message: englishText(teamEnglish, `errors.${code}`, values) } as TeamError;
}

/** A refusal as the `{ ok: false }` side of a result, with the error's fields on it. */
export function refused<C extends TeamErrorCode>(code: C, values: ErrorValues[C]): { ok: false } & TeamError {
  return { ok: false, ...teamError(code, values) };
}
