// Which language Atelier speaks to whom: a private answer in the person's own Discord locale, a
// public message (a job's progress and result) in the server's, else the person's.
import type { BaseInteraction } from "discord.js";
import { type Language, languageOf, type Translate, translator } from "../i18n/index.ts";

type Located = Pick<BaseInteraction, "locale" | "guildLocale">;

/** The language of the person who interacted: for ephemeral replies, forms and panels. */
export function personalLanguage(interaction: Pick<Located, "locale">): Language {
  return languageOf(interaction.locale);
}

/** The language of public messages where the interaction happened: the server's locale, else the person's. */
export function serverLanguage(interaction: Located): Language {
  return languageOf(interaction.guildLocale ?? interaction.locale);
}

/** Text for a private answer: worded already, or worded here in the person's language. */
export type PrivateText = string | ((t: Translate, language: Language) => string);

export function wordFor(interaction: Pick<Located, "locale">, text: PrivateText): string {
  if (typeof text === "string") return text;
  const language = personalLanguage(interaction);
  return text(translator(language), language);
}
