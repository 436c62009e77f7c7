// `{a, b}` permutations: one prompt per option, nested groups, `\,` `\{` `\}` escapes, anywhere in
// the prompt (also inside parameters). The job count is computed from the brace tree before
// anything is expanded, so a prompt that would make millions of jobs is refused in linear time.
import { type Part, phrase, promptError } from "./messages.ts";
import type { PromptError } from "./types.ts";

/** A run of literal text and groups; a group is a list of alternative sequences. */
type Sequence = (string | Group)[];
interface Group {
  options: Sequence[];
}

export type ExpandResult = { ok: true; prompts: string[] } | { ok: false; error: PromptError };

// Real prompts nest two or three levels; the limit keeps recursion shallow on hostile input.
export const MAX_NESTING = 64;
const ESCAPABLE = new Set([",", "{", "}"]);

/** Expands every permutation of `input`, refusing more than `maxJobs` results. */
export function expandPermutations(input: string, maxJobs: number): ExpandResult {
  if (!/[{}\\]/.test(input)) return { ok: true, prompts: [input] };
  const built = buildTree(input);
  if ("error" in built) return { ok: false, error: built.error };
  const count = countSequence(built.tree);
  if (count > maxJobs) {
    const jobs = describeCount(count);
    return { ok: false, error: promptError("too-many-permutations", { count, jobs, limit: maxJobs }) };
  }
  return { ok: true, prompts: expandSequence(built.tree) };
}

function describeCount(count: number): Part {
  return Number.isSafeInteger(count) ? count : phrase("beyondCounting");
}

/** Pairs braces; a brace without a partner is literal text. Escaped characters are skipped. */
function matchBraces(input: string): Set<number> {
  const matched = new Set<number>();
  const open: number[] = [];
  for (let index = 0; index < input.length; index++) {
    const char = input[index];
    if (char === "\\" && ESCAPABLE.has(input[index + 1] ?? "")) index++;
    else if (char === "{") open.push(index);
    else if (char === "}" && open.length > 0) {
      matched.add(open.pop() ?? -1);
      matched.add(index);
    }
  }
  return matched;
}

/** Builds the tree without recursion; commas split options only directly inside a group. */
function buildTree(input: string): { tree: Sequence } | { error: PromptError } {
  const matched = matchBraces(input);
  const root: Sequence = [];
  const groups: { group: Group; parent: Sequence }[] = [];
  let sequence = root;
  let literal = "";
  const flush = () => {
    if (literal !== "") sequence.push(literal);
    literal = "";
  };
  for (let index = 0; index < input.length; index++) {
    const char = input[index] ?? "";
    if (char === "\\" && ESCAPABLE.has(input[index + 1] ?? "")) {
      literal += input[++index];
    } else if (char === "{" && matched.has(index)) {
      if (groups.length >= MAX_NESTING) {
        return { error: promptError("nesting-too-deep", { limit: MAX_NESTING }) };
      }
      flush();
      const group: Group = { options: [[]] };
      groups.push({ group, parent: sequence });
      sequence = group.options[0] ?? [];
    } else if (char === "," && groups.length > 0) {
      flush();
      const group = groups.at(-1)?.group;
      sequence = [];
      group?.options.push(sequence);
    } else if (char === "}" && matched.has(index)) {
      flush();
      const frame = groups.pop();
      if (!frame) continue; // unreachable: matched braces are balanced
      frame.group.options.forEach(trimOption);
      frame.parent.push(frame.group);
      sequence = frame.parent;
    } else {
      literal += char;
    }
  }
  flush();
  return { tree: root };
}

/** `{ red, green }` offers "red" and "green": spaces around an option are not part of it. */
function trimOption(option: Sequence) {
  const first = option[0];
  if (typeof first === "string") option[0] = first.trimStart();
  const last = option.at(-1);
  if (typeof last === "string") option[option.length - 1] = last.trimEnd();
}

/** Number of prompts a sequence expands to (floating point: saturates at Infinity, never throws). */
function countSequence(sequence: Sequence): number {
  let count = 1;
  for (const part of sequence) {
    if (typeof part === "string") continue;
    let options = 0;
    for (const option of part.options) options += countSequence(option);
    count *= options;
  }
  return count;
}

/** Every prompt of a sequence, first group varying slowest. Only called once the count is capped. */
function expandSequence(sequence: Sequence): string[] {
  let prompts = [""];
  for (const part of sequence) {
    if (typeof part === "string") {
      prompts = prompts.map((prompt) => prompt + part);
      continue;
    }
    const alternatives = part.options.flatMap(expandSequence);
    prompts = prompts.flatMap((prompt) => alternatives.map((alternative) => prompt + alternative));
  }
  return prompts;
}
