// From what a person typed to the prompts a provider will accept: the prompt language first,
// then the provider's own limits. Errors name the parameter; warnings travel with each job.
import { checkPrompt } from "../prompt/index.ts";
import type { ParsedPrompt, PromptError } from "../prompt/types.ts";
import type { ImageProvider, Quality, Speed } from "../providers/types.ts";

export interface PipelineOptions {
  maxJobs: number;
  speed?: Speed;
  quality?: Quality;
}

export type PipelineResult =
  | { ok: true; prompts: ParsedPrompt[] }
  | { ok: false; error: PromptError & { advice?: string } };

export function preparePrompts(
  input: string,
  provider: ImageProvider,
  options: PipelineOptions,
): PipelineResult {
  const checked = checkPrompt(input, {
    maxJobs: options.maxJobs,
    maxLength: provider.capabilities.maxPromptLength,
  });
  if (!checked.ok) return { ok: false, error: checked.error };
  const prompts: ParsedPrompt[] = [];
  for (const prompt of checked.expanded) {
    const verdict = provider.check({ prompt, speed: options.speed, quality: options.quality });
    if (verdict.error) return { ok: false, error: { message: verdict.error.message } };
    prompts.push({ ...prompt, warnings: unique([...prompt.warnings, ...verdict.warnings]) });
  }
  return { ok: true, prompts };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
