// A slash command's or option's words from the `commands` catalogue, as Discord takes them: the
// English description, the other languages' descriptions, and their names where the catalogue gives
// one (a name equal to the English one is left out: Discord shows the English name then).
import type { LocalizationMap } from "discord.js";
import { hasKey, localizations, translator } from "../i18n/index.ts";

export interface CommandText {
  description: string;
  description_localizations: LocalizationMap;
  name_localizations?: LocalizationMap;
}

/** `key` names an entry such as "commands:imagine" or "commands:imagine.prompt". */
export function commandText(key: string): CommandText {
  const english = translator("en");
  const names = hasKey(`${key}.name`) ? ownNames(`${key}.name`) : {};
  return {
    description: english(`${key}.description`),
    description_localizations: localizations(`${key}.description`),
    ...(Object.keys(names).length > 0 ? { name_localizations: names } : {}),
  };
}

/** A choice's shown name (e.g. "Portrait (2:3)") in English and the other languages. */
export function choiceText(key: string): { name: string; name_localizations: LocalizationMap } {
  return { name: translator("en")(key), name_localizations: localizations(key) };
}

function ownNames(key: string): LocalizationMap {
  const english = translator("en")(key);
  return Object.fromEntries(Object.entries(localizations(key)).filter(([, name]) => name !== english));
}
