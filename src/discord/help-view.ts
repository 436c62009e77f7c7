// What /help says: how to use Atelier here, the image services it runs on, and the prompt
// parameters it understands — from the parameter table itself, so it never drifts from the parser
// (each parameter's summary in words comes from the catalogue; test/i18n checks none is missing).
import { type Language, translator } from "../i18n/index.ts";
import { PARAMETERS } from "../prompt/index.ts";

const discordLimit = 2000;

/** The /help text for a bot running on `providers` (the default first). */
export function helpText(providers: readonly string[], language: Language = "en"): string {
  const t = translator(language);
  const services =
    providers.length > 1
      ? t("discord:help.services", { names: providers.map((name) => `\`${name}\``).join(", ") })
      : t("discord:help.service", { name: providers[0] ?? "?" });
  const parameters = PARAMETERS.map((definition) => {
    const aliases = definition.aliases.map((alias) => ` --${alias}`).join("");
    const summary = t(`discord:help.parameter.${definition.key}`);
    return `\`--${definition.key}\`${aliases ? ` (${aliases.trim()})` : ""} ${summary}`;
  });
  const head = [
    t("discord:help.intro"),
    t("discord:help.usage"),
    services,
    t("discord:help.notes"),
    t("discord:help.parameters"),
  ].join("\n");
  let text = head;
  for (const line of parameters) {
    if (text.length + line.length + 3 > discordLimit) return `${text}\n…`;
    text += `\n${line}`;
  }
  return text;
}
