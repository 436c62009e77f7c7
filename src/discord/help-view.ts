// What /help says: how to use Atelier here, the image services it runs on, and the prompt
// parameters it understands — from the parameter table itself, so it never drifts from the parser.
import { PARAMETERS } from "../prompt/index.ts";

const discordLimit = 2000;

/** The /help text for a bot running on `providers` (the default first). */
export function helpText(providers: readonly string[]): string {
  const services =
    providers.length > 1
      ? `Image services here: ${providers.map((name) => `\`${name}\``).join(", ")} (pick yours in /settings, or add \`--provider NAME\` to a prompt).`
      : `Image service: \`${providers[0] ?? "?"}\`.`;
  const parameters = PARAMETERS.map((definition) => {
    const aliases = definition.aliases.map((alias) => ` --${alias}`).join("");
    return `\`--${definition.key}\`${aliases ? ` (${aliases.trim()})` : ""} ${definition.summary}`;
  });
  const head = [
    "**Atelier** — the Midjourney workflow in this server.",
    "`/imagine prompt:…` makes a 2×2 grid: **U1–U4** one image, **V1–V4** variations, **🔄** again. `/settings` your defaults, `/prefer` your suffix and options, `/info` your usage.",
    services,
    "Parameters services other than Midjourney cannot honour are noted under the prompt, never dropped silently.",
    "**Parameters:**",
  ].join("\n");
  let text = head;
  for (const line of parameters) {
    if (text.length + line.length + 3 > discordLimit) return `${text}\n…`;
    text += `\n${line}`;
  }
  return text;
}
