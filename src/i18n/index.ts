// The one catalogue of words people read, through i18next. Each language has one folder with one
// file per namespace (`discord`, `commands`, `prompt`, `team`); English is the reference, and the
// other languages are typed against it, so a key missing in French or German fails `tsc`.
// A person's language comes from the Discord locale they use; public messages use the server's.
import i18next from "i18next";
import { de } from "./de/index.ts";
import { en } from "./en/index.ts";
import { fr } from "./fr/index.ts";

export const languages = ["en", "fr", "de"] as const;
export type Language = (typeof languages)[number];

/** Discord locales for each language other than English (for name_localizations). */
const discordLocales: Record<Exclude<Language, "en">, readonly string[]> = {
  fr: ["fr"],
  de: ["de"],
};

const i18n = i18next.createInstance();
void i18n.init({
  resources: { en, fr, de },
  lng: "en",
  fallbackLng: "en",
  ns: Object.keys(en),
  defaultNS: "discord",
  initAsync: false,
  // Discord escapes nothing for us and renders no HTML: values go in as they are.
  interpolation: { escapeValue: false },
  returnNull: false,
  // A key missing everywhere shows as "discord:status.x", which tests look for, never as a bare path.
  appendNamespaceToMissingKey: true,
});

/** The language Atelier speaks for a Discord locale ("fr", "de", "en-US", …); English otherwise. */
export function languageOf(locale: string | null | undefined): Language {
  const base = (locale ?? "").toLowerCase().split("-")[0];
  return (languages as readonly string[]).includes(base ?? "") ? (base as Language) : "en";
}

export type Translate = (key: string, values?: Record<string, unknown>) => string;

/** `t` for one language: `t("discord:status.queued", { count: 2 })`. */
export function translator(language: Language): Translate {
  const fixed = i18n.getFixedT(language);
  return (key, values) => fixed(key, values ?? {}) as string;
}

/** A key in every language but English, keyed by Discord locale, for `name_localizations`. */
export function localizations(key: string, values?: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [language, locales] of Object.entries(discordLocales)) {
    const text = translator(language as Language)(key, values);
    for (const locale of locales) out[locale] = text;
  }
  return out;
}

/** Whether the English catalogue has `key`: for optional entries, such as a command's own name in a language. */
export function hasKey(key: string): boolean {
  return i18n.exists(key, { lng: "en", fallbackLng: false });
}
