// Renders a ParsedPrompt back to canonical Midjourney text: images, text, then parameters in the
// stable order of the parameter table, under their canonical names.
import { PARAMETERS } from "./parameters.ts";
import type { ParsedPrompt, PromptParams } from "./types.ts";
import { renderValue } from "./values.ts";

/** Canonical text for one prompt, e.g. `https://a.test/x.png a red fox --ar 3:2 --stylize 250 --no trees, cars`. */
export function renderPrompt(prompt: ParsedPrompt): string {
  const parts: string[] = [...prompt.images];
  const text = promptText(prompt);
  if (text !== "") parts.push(text);
  parts.push(...renderParams(prompt.params));
  return parts.join(" ");
}

/**
 * The text is the source of truth (segments are derived from it when parsing); a prompt built in
 * code with segments but no text gets its text from the segments.
 */
function promptText(prompt: ParsedPrompt): string {
  if (prompt.text !== "" || !prompt.segments) return prompt.text;
  return prompt.segments.map((segment) => `${segment.text}::${segment.weight ?? ""}`).join(" ");
}

/** Each present parameter as `--name value`, in table order. */
export function renderParams(params: PromptParams): string[] {
  const rendered: string[] = [];
  for (const definition of PARAMETERS) {
    const value = params[definition.key];
    if (value === undefined) continue;
    const text = renderValue(definition.value, value);
    rendered.push(text === "" ? `--${definition.key}` : `--${definition.key} ${text}`);
  }
  return rendered;
}
