// The full pipeline for one user prompt: permutations, parse and validate each, `--repeat`,
// and the job cap. Every job comes back as its own ParsedPrompt.
import { promptError } from "./messages.ts";
import { checkLength, checkLinks, internalError, parsePrompt } from "./parse.ts";
import { expandPermutations } from "./permutations.ts";
import type { ParsedPrompt, PromptCheck, PromptError, PromptOptions } from "./types.ts";
import { quote } from "./values.ts";

export const DEFAULT_MAX_JOBS = 10;
// A ceiling on any configured cap, so a misconfigured cap cannot make expansion unbounded.
const HIGHEST_MAX_JOBS = 1000;

/**
 * Expands, parses and validates a prompt, and refuses links the image service must not fetch.
 * `expanded` holds one entry per job: permutations in order, each repeated `--repeat` times, with
 * `repeat` removed (it is spent on the expansion). `prompt` is the first job.
 */
export function checkPrompt(input: string, options: PromptOptions = {}): PromptCheck {
  try {
    return checkOrFail(input, options);
  } catch (error) {
    return { ok: false, error: internalError(error) };
  }
}

function checkOrFail(input: string, options: PromptOptions): PromptCheck {
  const tooLong = checkLength(input, options);
  if (tooLong) return { ok: false, error: tooLong };
  const maxJobs = jobCap(options.maxJobs);
  const permutations = expandPermutations(input, maxJobs);
  if (!permutations.ok) return permutations;
  const parsed: ParsedPrompt[] = [];
  for (const [index, text] of permutations.prompts.entries()) {
    // Links first: a link the provider must not fetch is the problem to name, whatever else is wrong.
    const unsafeLink = checkLinks(text, options);
    const result = unsafeLink ? { ok: false as const, error: unsafeLink } : parsePrompt(text, options);
    if (!result.ok) return { ok: false, error: inPermutation(result.error, index, permutations.prompts) };
    const unknownProvider = providerProblem(result.prompt, options.providerNames);
    if (unknownProvider) return { ok: false, error: unknownProvider };
    parsed.push(result.prompt);
  }
  const jobs = parsed.reduce((sum, prompt) => sum + (prompt.params.repeat ?? 1), 0);
  if (jobs > maxJobs) return { ok: false, error: tooManyJobs(jobs, parsed.length, maxJobs) };
  const expanded = parsed.flatMap(repeatJobs);
  const [first] = expanded;
  if (!first) return { ok: false, error: promptError("empty-prompt", {}) };
  return { ok: true, prompt: first, expanded };
}

/** `--provider` naming a service that is not among `names`. */
function providerProblem(
  prompt: ParsedPrompt,
  names: readonly string[] | undefined,
): PromptError | undefined {
  const name = prompt.params.provider;
  if (name === undefined || names === undefined || names.includes(name)) return undefined;
  return unknownProvider(name, names);
}

/** `--provider` naming none of the services that can run the prompt. */
export function unknownProvider(name: string, names: readonly string[]): PromptError {
  return promptError("unknown-provider", { names: names.join(", "), name: quote(name) }, "--provider");
}

/** The configured cap as a whole number from 1 to 1000; a missing or non-numeric cap means 10. */
function jobCap(requested: number | undefined): number {
  if (requested === undefined || Number.isNaN(requested)) return DEFAULT_MAX_JOBS;
  return Math.min(HIGHEST_MAX_JOBS, Math.max(1, Math.floor(requested)));
}

/** Points at the permutation that failed when there are several. */
function inPermutation(error: PromptError, index: number, prompts: readonly string[]): PromptError {
  if (prompts.length === 1) return error;
  const values = { cause: error, number: index + 1, permutation: quote(prompts[index] ?? "") };
  return promptError("in-permutation", values, error.parameter);
}

function tooManyJobs(jobs: number, permutations: number, maxJobs: number): PromptError {
  return permutations === 1
    ? promptError("too-many-jobs", { jobs, limit: maxJobs }, "--repeat")
    : promptError("too-many-jobs-permutations", { jobs, permutations, limit: maxJobs }, "--repeat");
}

/** One independent copy per run, without the spent `repeat`. */
function repeatJobs(prompt: ParsedPrompt): ParsedPrompt[] {
  const { repeat = 1, ...params } = prompt.params;
  return Array.from({ length: repeat }, () => structuredClone({ ...prompt, params }));
}
