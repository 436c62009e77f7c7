// Prompt errors and team refusals in English, French and German: every code has words in every
// language, English is exactly the `message` the CLI and logs print, nested errors and plurals
// come out in the reader's language, and parameter names and values stay as typed.
import { describe, expect, it } from "vitest";
import { de } from "../../src/i18n/de/index.ts";
import { en } from "../../src/i18n/en/index.ts";
import {
  jobMessageText,
  promptErrorText,
  promptNoteText,
  promptPhraseText,
  teamErrorText,
} from "../../src/i18n/errors.ts";
import { fr } from "../../src/i18n/fr/index.ts";
import { languages } from "../../src/i18n/index.ts";
import { duration, type JobText, jobsEnglish, jobText } from "../../src/jobs/messages.ts";
import { waitingAdmission } from "../../src/jobs/queue.ts";
import { cancelledError, toJobError } from "../../src/jobs/runner.ts";
import {
  blamePreferences,
  checkPrompt,
  linkProblemPhrase,
  type PromptError,
  parsePrompt,
  promptEnglish,
  promptError,
  valueProblem,
} from "../../src/prompt/index.ts";
import { parseBannedTerm } from "../../src/team/banned-terms.ts";
import { type TeamError, teamEnglish } from "../../src/team/messages.ts";
import { deleteOption, setOption, setSuffix } from "../../src/team/preferences.ts";

function errorOf(input: string, options: Parameters<typeof checkPrompt>[1] = {}): PromptError {
  const result = checkPrompt(input, options);
  if (result.ok) throw new Error(`expected ${input} to fail`);
  return result.error;
}

function failureOf(result: { ok: true } | ({ ok: false } & TeamError)): TeamError {
  if (result.ok) throw new Error("expected a refusal");
  return result;
}

const check = (text: string) => {
  const result = checkPrompt(text);
  return result.ok ? undefined : result.error;
};

// One error per code at least, each made the way users meet it where a prompt can reach it.
const promptErrors: PromptError[] = [
  errorOf("--ar 1:1"),
  errorOf("a".repeat(9000)),
  errorOf("a fox --zoom 2"),
  errorOf("a fox --elephant"),
  errorOf("a fox --stylise 100"),
  errorOf("https://a.test/x.png"),
  errorOf("a fox --ar"),
  errorOf("a fox --ar 3"),
  errorOf("a fox --ar 0:1"),
  errorOf("a fox --ar 1.5:1"),
  errorOf("a fox --ar 1.23456789:1"),
  errorOf("a fox --tile now"),
  errorOf("a fox --ar 16:9 in a hat"),
  errorOf("a fox --fast --relax --turbo"),
  errorOf("a fox --stop 50"),
  errorOf("a fox --cref https://a.test/c.png --v 7"),
  errorOf("a fox --quality 3 --v 7"),
  errorOf("a fox --style cute --v 6"),
  errorOf("space::-1 ship --v 6"),
  errorOf("{a,b} ".repeat(6)),
  errorOf(`${"{".repeat(65)}a${"}".repeat(65)}`),
  errorOf("https://127.0.0.1/x.png a fox"),
  errorOf("a fox --sref file:///etc/passwd"),
  errorOf("a fox --provider dalle", { providerNames: ["evolink", "openai"] }),
  errorOf("a {fox,cat --ar 3}"),
  errorOf("a fox --repeat 20"),
  errorOf("{a,b} fox --repeat 6"),
  promptError("internal", { detail: "boom" }),
  promptError("flag-takes-value", { parameter: "--tile" }, "--tile"),
  valueProblem("   ", 10) as PromptError,
  valueProblem("--ar 1:1", 3) as PromptError,
  blamePreferences(
    errorOf("a --v 6 --niji 6"),
    "a --a --b",
    { options: { a: "--v 6", b: "--niji 6" } },
    check,
  ),
  blamePreferences(errorOf("a --hd --draft"), "a --hd", { suffix: "--draft" }, check),
  blamePreferences(errorOf("a --ar 3"), "a --wide", { options: { wide: "--ar 3" } }, check),
  promptError("with-settings", { cause: errorOf("a fox --stop 50") }, "--stop"),
  promptError("provider-check", { reason: "OpenAI cannot draw --tile" }),
];

const teamErrors: TeamError[] = [
  failureOf(parseBannedTerm("")),
  failureOf(parseBannedTerm("x".repeat(101))),
  failureOf(parseBannedTerm("two\nlines")),
  failureOf(parseBannedTerm("//")),
  failureOf(parseBannedTerm(`/${"a".repeat(201)}/`)),
  failureOf(parseBannedTerm("/abc/g")),
  failureOf(parseBannedTerm("/a(b/")),
  failureOf(parseBannedTerm("/(sk)ull\\1/")),
  failureOf(parseBannedTerm("/x*/")),
  failureOf(setOption({}, "9lives", "--s 5")),
  failureOf(setOption({}, "x".repeat(31), "--s 5")),
  failureOf(setOption({}, "ar", "--ar 1:1")),
  failureOf(setOption({}, "wide", "--ar 16:9x")),
  failureOf(
    setOption(
      { options: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`o${i}`, "--s 1"])) },
      "x",
      "--s 2",
    ),
  ),
  failureOf(deleteOption({}, "wide")),
  failureOf(setSuffix({}, "--tile x")),
];

const catalogues = { en, fr, de } as const;

/** Every code with its plural forms folded: `too-long_one` → `too-long`. */
function codesOf(errors: Record<string, string>): string[] {
  return [...new Set(Object.keys(errors).map((key) => key.replace(/_(?:one|other|many)$/, "")))];
}

/** Every error in a list with those it wraps. */
function withCauses(errors: readonly PromptError[]): PromptError[] {
  return errors.flatMap((error) => {
    const cause = (error.values as { cause?: PromptError }).cause;
    return cause ? [error, ...withCauses([cause])] : [error];
  });
}

/** Every leaf key of a catalogue, as `a.b.c`. */
function leafKeys(table: object, prefix = ""): string[] {
  return Object.entries(table).flatMap(([key, value]) =>
    typeof value === "string" ? [`${prefix}${key}`] : leafKeys(value as object, `${prefix}${key}.`),
  );
}

/** The template at `a.b.c` in a catalogue, if it is there. */
function templateAt(table: object, key: string): string | undefined {
  let node: unknown = table;
  for (const step of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[step];
  return typeof node === "string" ? node : undefined;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/{{(\w+)}}/g)].map((match) => match[1] ?? "").sort();
}

describe("prompt errors in every language", () => {
  it("the samples reach every code", () => {
    const reached = new Set(withCauses(promptErrors).map((error) => error.code));
    expect([...reached].sort()).toEqual(codesOf(promptEnglish.errors).sort());
    expect(new Set(teamErrors.map((error) => error.code)).size).toBe(codesOf(teamEnglish.errors).length);
  });

  it("English is exactly the message", () => {
    for (const error of withCauses(promptErrors)) expect(promptErrorText(error, "en")).toBe(error.message);
    for (const error of teamErrors) expect(teamErrorText(error, "en")).toBe(error.message);
  });

  it("French and German say every error in their own words, filled in completely", () => {
    for (const language of ["fr", "de"] as const) {
      for (const error of withCauses(promptErrors)) {
        const text = promptErrorText(error, language);
        expect(text, error.code).not.toMatch(/{{|}}/);
        // A provider's own reason is its words, as it gave them.
        if (error.code !== "provider-check") expect(text, error.code).not.toBe(error.message);
      }
      for (const error of teamErrors) {
        const text = teamErrorText(error, language);
        expect(text, error.code).not.toMatch(/{{|}}/);
        expect(text, error.code).not.toBe(error.message);
      }
    }
  });

  it("every template exists in every language with the same placeholders", () => {
    for (const namespace of ["prompt", "team", "jobs"] as const) {
      const english = catalogues.en[namespace];
      for (const language of languages) {
        const own = catalogues[language][namespace];
        for (const key of leafKeys(english)) {
          expect(templateAt(own, key), `${language} ${namespace}:${key}`).toBeTypeOf("string");
          expect(placeholders(templateAt(own, key) ?? ""), `${language} ${namespace}:${key}`).toEqual(
            placeholders(templateAt(english, key) ?? ""),
          );
        }
      }
    }
  });

  it("every plural has each form its language uses (French `many` too)", () => {
    for (const namespace of ["prompt", "team", "jobs"] as const) {
      const plurals = leafKeys(catalogues.en[namespace]).filter((key) => key.endsWith("_other"));
      expect(plurals.length).toBeGreaterThan(0);
      for (const language of languages) {
        for (const form of new Intl.PluralRules(language).resolvedOptions().pluralCategories) {
          for (const plural of plurals) {
            const key = plural.replace(/_other$/, `_${form}`);
            expect(templateAt(catalogues[language][namespace], key), `${language} ${key}`).toBeTypeOf(
              "string",
            );
          }
        }
      }
    }
  });

  it("names the parameter and the allowed values, in French and German", () => {
    const error = errorOf("a cat --ar 3");
    expect(promptErrorText(error, "fr")).toBe(
      "--ar doit être un rapport L:H en nombres entiers (par ex. 16:9), pas “3”",
    );
    expect(promptErrorText(error, "de")).toBe(
      "--ar muss ein Seitenverhältnis B:H aus ganzen Zahlen (z. B. 16:9) sein, nicht “3”",
    );
    const quality = errorOf("a fox --quality 3 --v 7");
    expect(promptErrorText(quality, "fr")).toBe("Sur V7, --quality doit valoir 1, 2 ou 4, pas “3”");
    expect(promptErrorText(quality, "de")).toBe("--quality muss auf V7 1, 2 oder 4 sein, nicht “3”");
  });

  it("renders a wrapped error inside its wrapper, both in the reader's language", () => {
    const error = errorOf("a {fox,cat --ar 3}");
    expect(error.code).toBe("in-permutation");
    expect(promptErrorText(error, "fr")).toBe(
      "--ar doit être un rapport L:H en nombres entiers (par ex. 16:9), pas “3” (dans la permutation 2 : “a cat --ar 3”)",
    );
    const option = failureOf(setOption({}, "wide", "--ar 16:9x"));
    expect(teamErrorText(option, "de")).toBe(
      "--wide kann nicht zu “--ar 16:9x” werden: --ar muss ein Seitenverhältnis B:H aus ganzen Zahlen (z. B. 16:9) sein, nicht “16:9x”",
    );
  });

  it("uses each language's plural forms, French `many` for millions included", () => {
    const one = valueProblem("x", 0) as PromptError;
    expect(one.message).toBe("The value has 1 character; the limit is 0");
    expect(promptErrorText(one, "fr")).toBe("La valeur fait 1 caractère ; la limite est de 0");
    expect(promptErrorText(one, "de")).toBe("Der Wert hat 1 Zeichen; erlaubt sind höchstens 0");
    const two = valueProblem("xy", 1) as PromptError;
    expect(promptErrorText(two, "fr")).toBe("La valeur fait 2 caractères ; la limite est de 1");
    const million = errorOf("{a,b,c,d,e,f,g,h,i,j} ".repeat(6));
    expect(million.message).toBe("This prompt makes 1000000 jobs from its {…} permutations; the cap is 10");
    expect(promptErrorText(million, "fr")).toBe(
      "Avec ses permutations {…}, ce prompt donne 1000000 de tâches ; le maximum est de 10",
    );
    expect(promptErrorText(million, "de")).toBe(
      "Mit seinen {…}-Permutationen ergibt dieser Prompt 1000000 Aufträge; das Maximum ist 10",
    );
  });

  it("joins lists with the language's own 'and'/'or'", () => {
    const conflict = errorOf("a fox --fast --relax --turbo");
    expect(promptErrorText(conflict, "fr")).toMatch(/^--fast, --relax et --turbo /);
    expect(promptErrorText(conflict, "de")).toMatch(/^--fast, --relax und --turbo /);
  });

  it("says why an attachment's link is refused in the reader's language", () => {
    const problem = linkProblemPhrase("https://[::1]/a.png", { requireHttps: true });
    if (!problem) throw new Error("expected a problem");
    expect(promptPhraseText(problem, "en")).toBe("points at a loopback address");
    expect(promptPhraseText(problem, "fr")).toBe("pointe vers une adresse de bouclage");
    expect(promptPhraseText(problem, "de")).toBe("zeigt auf eine Loopback-Adresse");
  });
});

// Notes under a job's prompt, and what src/jobs says (a job's error, a refused ❌ Cancel, no room in
// the queue): data with English `message`, said in every language.
describe("prompt notes and job texts in every language", () => {
  const notesOf = (input: string) => {
    const result = parsePrompt(input);
    if (!result.ok) throw new Error(`expected ${input} to parse`);
    return result.prompt;
  };
  const noteInputs = [
    "a fox —ar 3:2",
    "a fox –ar 3:2",
    "a fox --AR 3:2",
    "a fox --v 6.0",
    "a fox --video --v 6",
    "a fox --ar 1:1 --ar 2:3",
    "a fox --niji",
    "a fox --q 2 --v 8.1",
    "a:: b::2 --v 7",
    "a fox --sw 100",
    "a fox --iw 1",
  ];
  const notes = noteInputs.flatMap((input) => notesOf(input).notes ?? []);

  // One text per code at least, made the way src/jobs makes them where that is cheap.
  const texts: { code?: string; values?: object; message: string }[] = [
    cancelledError("42", "waiting"),
    cancelledError("42", "running"),
    toJobError(new Error("boom")),
    waitingAdmission(0, 4, 3) as JobText,
    waitingAdmission(3, 1, 3) as JobText,
    waitingAdmission(2, 2, 3) as JobText,
    waitingAdmission(0, 1_000_000, 3) as JobText,
    jobText("cancelled-at-service", {}),
    jobText("failed-without-reason", {}),
    jobText("timed-out", { duration: duration(120_000) }),
    jobText("timed-out-at", { duration: duration(1_000), progress: 93 }),
    jobText("source-fetch", { problem: "Could not download https://cdn.example/gone.png (404)." }),
    jobText("source-fetch-unset", {}),
    jobText("maybe-sent", {}),
    jobText("no-descriptions", {}),
    jobText("no-image-to-describe", {}),
    jobText("cannot-blend", { provider: "openai" }),
    jobText("cannot-describe", { provider: "openai" }),
    jobText("parent-unknown", {}),
    jobText("stored-prompt-unreadable", { problem: "Unrecognized parameter --x" }),
    jobText("provider-gone", { provider: "bfl" }),
    jobText("host-timed-out", { duration: duration(4_000) }),
    jobText("unfetched", { problem: "socket hang up" }),
    jobText("already-finished", {}),
    jobText("not-requester", { user: "<@42>" }),
    jobText("being-sent", {}),
    jobText("cannot-stop", {}),
    jobText("not-stopped", { problem: "task already finished" }),
    jobText("database-away", {}),
  ];

  it("the samples reach every note and every job text", () => {
    expect(new Set(notes.map((note) => note.code))).toEqual(new Set(Object.keys(promptEnglish.notes)));
    expect(new Set(texts.map((text) => text.code))).toEqual(new Set(codesOf(jobsEnglish.texts)));
  });

  it("keeps the English warnings exactly as the notes' English", () => {
    for (const input of noteInputs) {
      const prompt = notesOf(input);
      expect(prompt.warnings).toEqual((prompt.notes ?? []).map((note) => note.message));
    }
    expect(notesOf("a fox —ar 3:2").warnings).toEqual(["Read “—ar” as “--ar” (phones turn -- into —)"]);
  });

  it("English is exactly the message", () => {
    for (const note of notes) expect(promptNoteText(note, "en")).toBe(note.message);
    for (const text of texts) expect(jobMessageText(text, "en")).toBe(text.message);
  });

  it("French and German say every note and text in their own words, filled in completely", () => {
    for (const language of ["fr", "de"] as const) {
      for (const note of notes) {
        const text = promptNoteText(note, language);
        expect(text, note.code).not.toMatch(/{{|}}|prompt:/);
        expect(text, note.code).not.toBe(note.message);
      }
      for (const words of texts) {
        const text = jobMessageText(words, language);
        expect(text, words.code).not.toMatch(/{{|}}|jobs:/);
        expect(text, words.code).not.toBe(words.message);
      }
    }
  });

  it("says durations with the language's units and plurals", () => {
    const inTwoMinutes = jobText("timed-out", { duration: duration(120_000) });
    expect(inTwoMinutes.message).toBe(
      "The image service did not finish within 2 minutes. Try again; if it keeps happening, tell an admin.",
    );
    expect(jobMessageText(inTwoMinutes, "fr")).toMatch(
      /^Le service d'images n'a pas terminé en 2 minutes\. /,
    );
    const inOneSecond = jobText("host-timed-out", { duration: duration(1_000) });
    expect(inOneSecond.message).toBe(
      "The images were made, but the image host did not answer within 1 second.",
    );
    expect(jobMessageText(inOneSecond, "de")).toBe(
      "Die Bilder wurden erstellt, aber ihr Host hat nicht innerhalb von 1 Sekunde geantwortet.",
    );
    expect(jobMessageText(jobText("host-timed-out", { duration: duration(45_000) }), "de")).toContain(
      "innerhalb von 45 Sekunden",
    );
  });

  it("renders refusals with the person's plurals, and an image service's own words as they are", () => {
    expect(jobMessageText(waitingAdmission(1, 1, 1) as JobText, "fr")).toBe(
      "Vous avez 1 tâche en attente ; attendez que certaines se terminent avant d'en lancer d'autres.",
    );
    expect(jobMessageText(waitingAdmission(0, 1_000_000, 3) as JobText, "fr")).toMatch(
      /^Cela mettrait 1000000 de tâches en attente/,
    );
    expect(jobMessageText(jobText("not-requester", { user: "<@42>" }), "de")).toBe(
      "Nur <@42> kann diesen Auftrag abbrechen.",
    );
    const fromService = { message: "Insufficient credits." };
    expect(jobMessageText(fromService, "fr")).toBe("Insufficient credits.");
    // A code this version does not know (a newer one wrote the record) falls back to the English.
    expect(jobMessageText({ code: "from-the-future", values: {}, message: "Later words." }, "de")).toBe(
      "Later words.",
    );
  });
});
