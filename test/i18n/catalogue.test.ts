// The catalogue as people read it: every view of every language is worded (no raw "discord:…" key,
// no "{{…}}" left), translations keep their placeholders, plurals have each form a language uses,
// and the slash commands carry names and descriptions Discord accepts in every language.
import { describe, expect, it } from "vitest";
import { commands } from "../../commands/index.ts";
import { refusalReply } from "../../src/discord/admission.ts";
import { attachedImagesProblem } from "../../src/discord/attachments.ts";
import { helpText } from "../../src/discord/help-view.ts";
import { remixModal } from "../../src/discord/remix-modal.ts";
import { settingsView } from "../../src/discord/settings-view.ts";
import { jobView, type MessageView } from "../../src/discord/views.ts";
import { warningText } from "../../src/discord/warning-text.ts";
import { de } from "../../src/i18n/de/index.ts";
import { en } from "../../src/i18n/en/index.ts";
import { fr } from "../../src/i18n/fr/index.ts";
import { type Language, languageOf, languages, translator } from "../../src/i18n/index.ts";
import { duration, jobText } from "../../src/jobs/messages.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { cancelledError } from "../../src/jobs/runner.ts";
import { PARAMETERS, parsePrompt } from "../../src/prompt/index.ts";
import { evolinkCapabilities } from "../../src/providers/evolink.ts";
import type { ProviderCapabilities } from "../../src/providers/types.ts";

const catalogues: Record<Language, object> = { en, fr, de };

/** Every leaf of a catalogue as "namespace:a.b.c" → text. */
function leaves(tree: object, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === "" ? `${key}:` : prefix.endsWith(":") ? `${prefix}${key}` : `${prefix}.${key}`;
    if (typeof value === "string") out.set(path, value);
    else for (const [leaf, text] of leaves(value as object, path)) out.set(leaf, text);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]).sort();

const everything: ProviderCapabilities = {
  ...evolinkCapabilities,
  variation: ["subtle", "strong"],
  upscaleStyles: ["subtle", "creative"],
  hd: true,
  outpaint: true,
  cancel: true,
};

const sample: JobRecord = {
  id: "abcd1234",
  kind: "imagine",
  state: "queued",
  delivered: false,
  provider: "evolink",
  prompt: "a fox in the snow",
  warnings: [],
  providerWarnings: [{ type: "unsupported", feature: "--chaos" }],
  speed: "relax",
  requesterId: "42",
  imageUrls: [],
  pressed: [],
  createdAt: 0,
  updatedAt: 0,
};

/** The job in each state people see, in `language`. */
function sampleJobs(language: Language): JobRecord[] {
  const job = { ...sample, language };
  const grid = [
    "https://cdn.example/1.png",
    "https://cdn.example/2.png",
    "https://cdn.example/3.png",
    "https://cdn.example/4.png",
  ];
  return [
    { ...job, queuePosition: 3 },
    { ...job, queuePosition: 1 },
    { ...job, state: "running", progress: 40 },
    { ...job, state: "completed", imageUrls: grid },
    {
      ...job,
      kind: "upscale",
      state: "completed",
      followUp: { kind: "upscale", index: 2, style: "creative" },
      imageUrls: ["https://cdn.example/u.png"],
    },
    { ...job, kind: "variation", state: "running", progress: 10 },
    { ...job, kind: "blend", state: "running", progress: 10 },
    {
      ...job,
      state: "failed",
      error: { kind: "quota", advice: "admin", message: "Insufficient credits.", reason: "billing" },
    },
    {
      ...job,
      state: "failed",
      error: { kind: "cancelled", advice: "retry", message: "Cancelled by <@42>." },
    },
    { ...job, state: "failed", error: cancelledError("42", "waiting") },
    {
      ...job,
      state: "failed",
      error: { kind: "timeout", advice: "retry", ...jobText("timed-out", { duration: duration(120_000) }) },
    },
    { ...job, state: "running", progress: 40, ...notedPrompt("a fox —ar 3:2 --sw 100") },
  ];
}

/** A prompt's English warnings and coded notes, as a job records them. */
function notedPrompt(input: string): Pick<JobRecord, "warnings" | "notes"> {
  const parsed = parsePrompt(input);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { warnings: parsed.prompt.warnings, notes: parsed.prompt.notes };
}

function viewText(view: MessageView): string[] {
  const labels = view.components.flatMap((row) =>
    row.components.map((button) => ("label" in button ? (button.label ?? "") : "")),
  );
  const embeds = view.embeds.flatMap((embed) => [embed.title ?? "", embed.description ?? ""]);
  return [view.content, ...labels, ...embeds];
}

/** Every text the sample views, panels and replies show in `language`. */
function shownTexts(language: Language): string[] {
  const settings = settingsView(
    { stylize: "high", remix: true, suffix: "--ar 16:9", options: { wide: "--ar 21:9" } },
    {
      providers: ["evolink", "openai"],
      provider: "evolink",
      models: [],
      speeds: ["fast", "relax"],
      hd: true,
      variation: ["subtle", "strong"],
      remix: true,
    },
    { speed: "relax", quality: "hd" },
    language,
  );
  const modal = remixModal({ jobId: "abcd1234", action: "variation", index: 2 }, "a fox", language);
  return [
    ...sampleJobs(language).flatMap((job) => viewText(jobView(job, everything))),
    settings.content,
    ...settings.components.flatMap((row) =>
      row.components.map((button) => ("label" in button ? (button.label ?? "") : "")),
    ),
    modal.title,
    helpText(["evolink", "openai"], language),
    refusalReply({ rule: "userDaily", limit: 5, used: 5, requested: 2, resetsAt: 86_400_000 }, language),
    refusalReply({ rule: "buttons", policy: "roles", roleIds: [] }, language),
    attachedImagesProblem([], "blend", { min: 2, max: 5 }, language) ?? "",
    warningText({ type: "moved", feature: "--hd", details: "EvoLink's settings" }, language),
  ];
}

describe("the catalogue", () => {
  it("has every English key in French and German, with the same placeholders", () => {
    const english = leaves(en);
    for (const language of ["fr", "de"] as const) {
      const translated = leaves(catalogues[language]);
      for (const [key, text] of english) {
        expect(translated.has(key), `${language} ${key}`).toBe(true);
        expect(placeholders(translated.get(key) ?? ""), `${language} ${key}`).toEqual(placeholders(text));
      }
    }
  });

  it.each(languages)(
    "words every view, panel and reply in %s: no raw key, no placeholder left",
    (language) => {
      for (const text of shownTexts(language)) {
        expect(text).not.toMatch(/\b(discord|commands|prompt|team):[a-z]/i);
        expect(text).not.toContain("{{");
      }
    },
  );

  it("shows a job's public message in the language it was asked in, and old records in English", () => {
    const running: JobRecord = { ...sample, state: "running", progress: 40 };
    expect(jobView(running, everything).content).toBe(
      "**a fox in the snow** - <@42> (40%) (relaxed)\n-# ⚠️ Left out --chaos (not supported here).",
    );
    expect(jobView({ ...running, language: "fr" }, everything).content).toBe(
      "**a fox in the snow** - <@42> (40%) (détendu)\n-# ⚠️ --chaos omis (non pris en charge ici).",
    );
    expect(jobView({ ...sample, language: "de", queuePosition: 2 }, everything).content).toContain(
      "(In der Warteschlange — 2 davor)",
    );
    const french = shownTexts("fr");
    const english = shownTexts("en");
    // Apart from the prompt, mentions and labels such as "U1", nothing the sample shows stays English.
    const translated = french.filter((text, index) => text !== english[index]);
    expect(translated.length).toBeGreaterThan(french.length * 0.7);
  });

  it("shows the prompt's notes and Atelier's own errors in the job's language, old records as they were", () => {
    const noted: JobRecord = { ...sample, state: "running", progress: 40, ...notedPrompt("a fox —ar 3:2") };
    const english =
      "**a fox in the snow** - <@42> (40%) (relaxed)\n-# ⚠️ Read “—ar” as “--ar” (phones turn -- into —) · Left out --chaos (not supported here).";
    expect(jobView(noted, everything).content).toBe(english);
    expect(jobView({ ...noted, notes: undefined }, everything).content).toBe(english);
    expect(jobView({ ...noted, language: "fr" }, everything).content).toContain(
      "-# ⚠️ “—ar” lu comme “--ar” (les téléphones transforment -- en —) · --chaos omis",
    );
    // A record from before notes were data keeps its English words, whatever its language.
    expect(jobView({ ...noted, notes: undefined, language: "fr" }, everything).content).toContain(
      "Read “—ar” as “--ar”",
    );

    const cancelled: JobRecord = { ...sample, state: "failed", error: cancelledError("42", "waiting") };
    const description = (job: JobRecord) => jobView(job, everything).embeds[0]?.description ?? "";
    expect(description(cancelled)).toBe(
      "Cancelled by <@42> before it started.\n\n**What to do:** Press 🔄 to try again.",
    );
    expect(description({ ...cancelled, language: "fr" })).toMatch(
      /^Annulée par <@42> avant de démarrer\.\n\n/,
    );
    expect(description({ ...cancelled, language: "de" })).toMatch(
      /^Von <@42> abgebrochen, bevor er begonnen hat\./,
    );
    // An image service's own words, and errors stored before they had a code, stay as written.
    const quoted = { kind: "quota", advice: "admin", message: "Insufficient credits." } as const;
    expect(description({ ...sample, state: "failed", error: quoted, language: "fr" })).toMatch(
      /^Insufficient credits\.\n\n\*\*Que faire :\*\*/,
    );
  });

  it("picks the language from a Discord locale, English for the rest", () => {
    expect(languageOf("fr")).toBe("fr");
    expect(languageOf("de")).toBe("de");
    expect(languageOf("en-GB")).toBe("en");
    expect(languageOf("ja")).toBe("en");
    expect(languageOf(undefined)).toBe("en");
  });
});

describe("plurals", () => {
  const counts = [0, 1, 2, 1_000_000];

  it("has, for every plural, each form Intl.PluralRules picks for 0, 1, 2 and 1000000", () => {
    for (const language of languages) {
      const keys = [...leaves(catalogues[language]).keys()];
      const plurals = new Set(keys.filter((key) => key.endsWith("_other")).map((key) => key.slice(0, -6)));
      const rules = new Intl.PluralRules(language);
      for (const base of plurals)
        for (const count of counts)
          expect(keys, `${language} ${base} (${count})`).toContain(`${base}_${rules.select(count)}`);
    }
  });

  it("renders counts in French with 'many' for a million, and in German", () => {
    const fr = translator("fr");
    expect(fr("commands:info.started", { count: 1 })).toBe("1 lancée");
    expect(fr("commands:info.started", { count: 2 })).toBe("2 lancées");
    expect(fr("commands:info.started", { count: 1_000_000 })).toBe("1000000 lancées");
    expect(fr("commands:atelier.userDailyLimit", { count: 0 })).toBe("0 tâche par membre et par jour");
    const de = translator("de");
    expect(de("commands:info.topUser", { rank: 1, user: "<@1>", count: 1, credits: "3 Credits" })).toBe(
      "1. <@1> — 1 Auftrag, 3 Credits",
    );
    expect(
      de("commands:info.topUser", { rank: 1, user: "<@1>", count: 1_000_000, credits: "3 Credits" }),
    ).toBe("1. <@1> — 1000000 Aufträge, 3 Credits");
    expect(translator("en")("discord:status.queued", { count: 1_000_000 })).toBe("Queued — 1000000 ahead");
  });
});

describe("slash commands in every language", () => {
  const nameRule = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

  type Entry = {
    name: string;
    description?: string;
    name_localizations?: Record<string, string>;
    description_localizations?: Record<string, string>;
    options?: readonly Entry[];
    choices?: readonly { name: string; name_localizations?: Record<string, string> }[];
  };

  function entries(entry: Entry): Entry[] {
    return [entry, ...(entry.options ?? []).flatMap(entries)];
  }

  it("gives every command and option a description in French and German, and valid names", () => {
    const all = commands.flatMap((command) => entries(command.definition as Entry));
    expect(all.length).toBeGreaterThan(40);
    for (const entry of all) {
      for (const locale of ["fr", "de"]) {
        const description = entry.description_localizations?.[locale] ?? "";
        expect(description.length, `${entry.name} ${locale}`).toBeGreaterThan(0);
        expect(description.length, `${entry.name} ${locale}: ${description}`).toBeLessThanOrEqual(100);
        expect(description, entry.name).not.toBe(entry.description);
      }
      for (const name of Object.values(entry.name_localizations ?? {})) {
        expect(name).toMatch(nameRule);
        expect(name).toBe(name.toLowerCase());
      }
      for (const choice of entry.choices ?? [])
        expect(Object.keys(choice.name_localizations ?? {}).sort()).toEqual(["de", "fr"]);
    }
    const help = commands.find((command) => command.definition.name === "help")?.definition as Entry;
    expect(help.name_localizations).toEqual({ fr: "aide", de: "hilfe" });
  });

  it("names a command in a text as that language's Discord shows it (/paramètres, not /settings)", () => {
    const renamed = commands
      .map((command) => command.definition as Entry)
      .filter((definition) => definition.name_localizations !== undefined);
    expect(renamed.length).toBeGreaterThan(0);
    for (const language of ["fr", "de"] as const) {
      for (const [key, text] of leaves(catalogues[language])) {
        for (const definition of renamed) {
          const own = definition.name_localizations?.[language];
          if (own === undefined) continue;
          expect(text, `${language} ${key}`).not.toMatch(new RegExp(`(?<![\\w/-])/${definition.name}\\b`));
        }
      }
    }
  });
});

describe("/help's parameters", () => {
  it("has every parameter of the prompt language summed up in every language, English as the parser says", () => {
    const english = translator("en");
    for (const definition of PARAMETERS)
      expect(english(`discord:help.parameter.${definition.key}`)).toBe(definition.summary);
    expect(Object.keys(en.discord.help.parameter).sort()).toEqual(
      PARAMETERS.map((definition) => definition.key).sort(),
    );
    expect(helpText(["evolink"], "fr")).toContain("`--ar` (--aspect) format d'image, 1:1 par défaut");
  });
});
