// A provider warning in words: the one place that phrases them, for the Discord views and the CLI.
// Adapters hand back data (`{ type: "unsupported", feature: "--stop", details: "…" }`); this turns
// it into one short sentence, e.g. "Left out --stop: not supported by EvoLink's Midjourney V8.1."
import type { ProviderWarning } from "../providers/types.ts";

/** `text` as the end of a sentence: one full stop, unless it already ends in punctuation. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

export function warningText(warning: ProviderWarning): string {
  const { feature, details } = warning;
  switch (warning.type) {
    case "unsupported":
      return sentence(
        details ? `Left out ${feature}: ${details}` : `Left out ${feature} (not supported here)`,
      );
    case "moved":
      return sentence(`Moved ${feature} out of the prompt${details ? ` into ${details}` : ""}`);
    case "changed":
      return sentence(details ? `Changed ${feature}: ${details}` : `Changed ${feature}`);
  }
}
