// A provider warning in words: the one place that phrases them, for the Discord views and the CLI.
// Adapters hand back data (`{ type: "unsupported", feature: "--stop", details: "…" }`); this turns
// it into one short sentence, e.g. "Left out --stop: not supported by EvoLink's Midjourney V8.1."
// The details are the adapter's own words and stay as they are.
import { type Language, translator } from "../i18n/index.ts";
import type { ProviderWarning } from "../providers/types.ts";

/** `text` as the end of a sentence: one full stop, unless it already ends in punctuation. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** The catalogue key for a warning without details, and the one with them. */
const phrasing: Record<ProviderWarning["type"], { bare: string; detailed: string }> = {
  unsupported: { bare: "discord:warning.unsupported", detailed: "discord:warning.unsupportedBecause" },
  moved: { bare: "discord:warning.moved", detailed: "discord:warning.movedInto" },
  changed: { bare: "discord:warning.changed", detailed: "discord:warning.changedBecause" },
};

export function warningText(warning: ProviderWarning, language: Language = "en"): string {
  const { feature, details } = warning;
  const keys = phrasing[warning.type];
  return sentence(translator(language)(details ? keys.detailed : keys.bare, { feature, details }));
}
