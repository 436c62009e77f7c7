// From what a person typed to the prompts a provider will accept: the prompt language first,
// then the provider's own limits. Errors name the parameter; warnings travel with each job.

import type { PromptNote } from "../prompt/index.ts";
import {
  appendSuffix,
  blamePreferences,
  checkPrompt,
  expandOptions,
  parsePrompt,
  promptError,
  renderPrompt,
  unknownProvider,
} from "../prompt/index.ts";
import type { ParsedPrompt, PromptCheck, PromptError, PromptOptions } from "../prompt/types.ts";
import type { ImageProvider, ProviderWarning, Quality, Speed } from "../providers/types.ts";
import {
  applyPromptDefaults,
  type Preferences,
  resolveJobSettings,
  type SettingsOffer,
  settingsOffer,
} from "../team/preferences.ts";

export interface PipelineOptions {
  maxJobs: number;
  speed?: Speed;
  quality?: Quality;
  /**
   * The requester's /prefer options and suffix and /settings defaults. Without them the prompt runs
   * as typed, at `speed` and `quality`.
   */
  preferences?: Preferences;
  /** Origins whose image links pass even over http or on a private address (PromptOptions). */
  trustedImageOrigins?: readonly string[];
  /** The providers a prompt may name with `--provider` here (configured, and allowed by the server). */
  named?: NamedProviders;
}

/** Providers by the name a prompt gives them. */
export interface NamedProviders {
  get(name: string): ImageProvider | undefined;
  names(): readonly string[];
}

/** One job to start: its prompt, the speed and quality it runs at, and what the provider cannot honour. */
export interface PreparedJob {
  /** The provider that runs it: the one the prompt named, else the one `preparePrompts` was given. */
  provider: string;
  prompt: ParsedPrompt;
  speed?: Speed;
  quality?: Quality;
  /** From the provider's check, as data (the prompt language's own notes stay in `prompt.warnings`). */
  providerWarnings: ProviderWarning[];
}

export type PipelineResult =
  | { ok: true; prompts: ParsedPrompt[]; jobs: PreparedJob[] }
  | { ok: false; error: PromptError & { advice?: string } };

export function preparePrompts(
  input: string,
  provider: ImageProvider,
  options: PipelineOptions,
): PipelineResult {
  const limits: PromptOptions = {
    maxJobs: options.maxJobs,
    maxLength: provider.capabilities.maxPromptLength,
    trustedImageOrigins: options.trustedImageOrigins,
  };
  const checked = checkWithPreferences(input, limits, options.preferences);
  if (!checked.ok) return { ok: false, error: checked.error };
  const jobs: PreparedJob[] = [];
  for (const expanded of checked.expanded) {
    const routed = route(expanded, provider, options.named);
    if (!routed.ok) return routed;
    const job = prepareOne(routed.prompt, routed.provider, options, limits);
    if (!job.ok) return job;
    jobs.push(job.job);
  }
  return { ok: true, prompts: jobs.map((job) => job.prompt), jobs };
}

/** The provider a prompt runs on (its `--provider`, else `fallback`), and the prompt without that parameter. */
function route(
  prompt: ParsedPrompt,
  fallback: ImageProvider,
  named: NamedProviders | undefined,
): { ok: true; prompt: ParsedPrompt; provider: ImageProvider } | { ok: false; error: PromptError } {
  const { provider: name, ...params } = prompt.params;
  if (name === undefined) return { ok: true, prompt, provider: fallback };
  const chosen = named?.get(name) ?? (name === fallback.name ? fallback : undefined);
  if (!chosen) {
    return { ok: false, error: unknownProvider(name, named?.names() ?? [fallback.name]) };
  }
  return { ok: true, prompt: { ...prompt, params }, provider: chosen };
}

/** One prompt on its provider: the person's /settings defaults, then the provider's own check. */
function prepareOne(
  prompt: ParsedPrompt,
  provider: ImageProvider,
  options: PipelineOptions,
  limits: PromptOptions,
): { ok: true; job: PreparedJob } | { ok: false; error: PromptError } {
  const job = options.preferences
    ? withSettings(prompt, options.preferences, settingsOffer(provider), options, limits)
    : { ok: true as const, job: { prompt, speed: options.speed, quality: options.quality } };
  if (!job.ok) return job;
  const verdict = provider.check({ prompt: job.job.prompt, speed: job.job.speed, quality: job.job.quality });
  if (verdict.error)
    return { ok: false, error: promptError("provider-check", { reason: verdict.error.message }) };
  return { ok: true, job: { ...job.job, provider: provider.name, providerWarnings: verdict.warnings } };
}

/** The user's options expanded and suffix appended, then checked; an error says which preference broke it. */
function checkWithPreferences(input: string, limits: PromptOptions, preferences?: Preferences): PromptCheck {
  if (!preferences) return checkPrompt(input, limits);
  const text = appendSuffix(expandOptions(input, preferences.options).text, preferences.suffix);
  const checked = checkPrompt(text, limits);
  if (checked.ok) return checked;
  const check = (candidate: string) => {
    const result = checkPrompt(candidate, limits);
    return result.ok ? undefined : result.error;
  };
  return { ok: false, error: blamePreferences(checked.error, input, preferences, check) };
}

/** Adds the /settings defaults the prompt leaves open, checks the result again, and picks speed and quality. */
function withSettings(
  prompt: ParsedPrompt,
  preferences: Preferences,
  offer: SettingsOffer,
  options: PipelineOptions,
  limits: PromptOptions,
): { ok: true; job: Omit<PreparedJob, "providerWarnings" | "provider"> } | { ok: false; error: PromptError } {
  const defaulted = applyPromptDefaults(prompt, preferences, offer);
  const settings = resolveJobSettings(defaulted.params, preferences, offer, options);
  if (JSON.stringify(defaulted.params) === JSON.stringify(prompt.params))
    return { ok: true, job: { prompt, ...settings } };
  const reparsed = parsePrompt(renderPrompt(defaulted), limits);
  if (!reparsed.ok)
    return {
      ok: false,
      error: promptError("with-settings", { cause: reparsed.error }, reparsed.error.parameter),
    };
  const warnings = unique([...prompt.warnings, ...reparsed.prompt.warnings]);
  const notes = uniqueNotes([...(prompt.notes ?? []), ...(reparsed.prompt.notes ?? [])]);
  return { ok: true, job: { prompt: { ...reparsed.prompt, warnings, notes }, ...settings } };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/** Notes once each, as `unique` keeps their messages. */
function uniqueNotes(notes: PromptNote[]): PromptNote[] {
  return notes.filter((note, index) => notes.findIndex((other) => other.message === note.message) === index);
}
