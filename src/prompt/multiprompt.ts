// `::` multi-prompts: splits text into weighted segments (`space:: ship::2`) and checks the
// weights. A weight right after `::` belongs to the segment before it; "quoted text" is never split.

import { promptError } from "./messages.ts";
import { QuoteMatcher } from "./tokenize.ts";
import type { PromptError, PromptSegment } from "./types.ts";

const WEIGHT = /-?(?:\d+(?:\.\d*)?|\.\d+)(?=\s|$)/y;

/** The segments of a multi-prompt, or undefined when the text has no `::` outside quotes. */
export function splitSegments(text: string): PromptSegment[] | undefined {
  if (!text.includes("::")) return undefined;
  const quotes = new QuoteMatcher(text);
  const segments: PromptSegment[] = [];
  let segmentStart = 0;
  let index = 0;
  while (index < text.length) {
    const closing = quotes.closingQuote(index);
    if (closing !== -1) {
      index = closing + 1;
      continue;
    }
    if (text[index] !== ":" || text[index + 1] !== ":") {
      index++;
      continue;
    }
    const segment: PromptSegment = { text: text.slice(segmentStart, index).trim() };
    index += 2;
    WEIGHT.lastIndex = index;
    const weight = WEIGHT.exec(text);
    if (weight) {
      segment.weight = Number(weight[0]);
      index += weight[0].length;
    }
    segments.push(segment);
    segmentStart = index;
  }
  if (segments.length === 0) return undefined;
  const rest = text.slice(segmentStart).trim();
  if (rest !== "") segments.push({ text: rest });
  return segments;
}

/** Midjourney refuses a multi-prompt whose weights add up to zero or less. */
export function checkWeights(segments: readonly PromptSegment[]): PromptError | undefined {
  const total = segments.reduce((sum, segment) => sum + (segment.weight ?? 1), 0);
  if (total > 0) return undefined;
  return promptError("weights-total", { total: Math.round(total * 1e6) / 1e6 }, "::");
}
