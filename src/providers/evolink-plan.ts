// EvoLink's side of a prompt: what goes in the text, what goes in the request's fields (speed,
// quality), what V8.1 cannot take (left out, with a warning) and what it refuses outright.
import { renderPrompt } from "../prompt/index.ts";
import type { ParsedPrompt, PromptParams } from "../prompt/types.ts";
import { ProviderError, type ProviderWarning, type Quality, type Speed } from "./types.ts";

export type EvolinkSpeed = "draft" | "fast" | "turbo";

export const evolinkMaxPromptLength = 8192;

/**
 * Parameters forwarded in the prompt text. EvoLink lists --ar --c --seed --s --exp --raw --iw --sref
 * --sw --oref --ow for V8.1 and says the prompt "supports all native V8.1 parameter syntax", so the
 * long-standing native --no, --weird and --tile are forwarded too. Everything else is dropped with a
 * warning. `style` passes only as "raw".
 */
export const evolinkPassThroughParams: readonly string[] = [
  "ar",
  "chaos",
  "seed",
  "stylize",
  "exp",
  "style",
  "iw",
  "sref",
  "sw",
  "oref",
  "ow",
  "no",
  "weird",
  "tile",
];

/** Prompt flags that are request settings on EvoLink (the docs: writing them in the prompt has no effect). */
const settingFlags = ["hd", "draft", "fast", "turbo", "relax"] as const;

const notOnV81 = "not supported by EvoLink's Midjourney V8.1";

/** Why a dropped parameter is dropped, when there is more to say than "unsupported". */
const dropHints: Partial<Record<keyof PromptParams, string>> = {
  cref: "use --oref (Omni Reference) instead",
  cw: "use --ow with --oref instead",
  p: "personalisation profiles belong to a Midjourney account",
  quality: 'use the HD setting (quality "hd") instead',
  repeat: "run the command again instead",
};

export interface Plan {
  prompt: ParsedPrompt;
  text: string;
  speed: EvolinkSpeed;
  quality: Quality;
  warnings: ProviderWarning[];
}

export function invalid(message: string, code?: string): ProviderError {
  return new ProviderError("invalid", message, { code });
}

/** `--niji` or a version other than 8.1 cannot run here: refuse before anything is sent. */
function versionError(params: PromptParams): ProviderError | undefined {
  if (params.niji !== undefined) {
    return invalid("EvoLink runs Midjourney V8.1 only; remove --niji.", "niji");
  }
  if (params.v !== undefined && !/^8\.1(\.0)?$/.test(params.v)) {
    return invalid(`EvoLink runs Midjourney V8.1 only; remove --v ${params.v}.`, "v");
  }
  return undefined;
}

/** The speed a prompt flag asks for, most specific first. */
export function speedFromFlags(params: PromptParams): Speed | undefined {
  if (params.draft) return "draft";
  if (params.turbo) return "turbo";
  if (params.fast) return "fast";
  if (params.relax) return "relax";
  return undefined;
}

/** The prompt without the flags EvoLink takes as settings (a follow-up sets them from its parent). */
export function withoutSettingFlags(prompt: ParsedPrompt): ParsedPrompt {
  const params = { ...prompt.params };
  for (const flag of settingFlags) delete params[flag];
  return { ...prompt, params };
}

/** Speed and quality from the prompt's flags, else from the request; flags moved out are warned about. */
function settingsOf(
  params: PromptParams,
  requested: { speed?: Speed; quality?: Quality },
): { speed: EvolinkSpeed; quality: Quality; warnings: ProviderWarning[] } | { error: ProviderError } {
  const warnings: ProviderWarning[] = settingFlags
    .filter((flag) => params[flag] !== undefined)
    .map((flag) => ({ type: "moved", feature: `--${flag}`, details: "EvoLink's settings" }));
  let speed = speedFromFlags(params) ?? requested.speed ?? "fast";
  if (speed === "relax") {
    warnings.push({
      type: "changed",
      feature: "speed",
      details: "EvoLink has no relax mode, so fast was used",
    });
    speed = "fast";
  }
  const quality: Quality = params.hd ? "hd" : (requested.quality ?? "standard");
  if (quality === "hd" && speed === "draft") {
    return {
      error: invalid("EvoLink cannot make HD drafts: choose HD or draft speed, not both.", "hd_draft"),
    };
  }
  return { speed, quality, warnings };
}

/** The parameters V8.1 takes in the text; a warning for each one left out. */
function textParams(params: PromptParams): { kept: PromptParams; warnings: ProviderWarning[] } {
  const kept: PromptParams = {};
  const warnings: ProviderWarning[] = [];
  for (const [key, value] of Object.entries(params) as [keyof PromptParams, unknown][]) {
    if (value === undefined || (settingFlags as readonly string[]).includes(key) || key === "v") continue;
    if (key === "style" && value !== "raw") {
      warnings.push({ type: "unsupported", feature: `--style ${String(value)}`, details: notOnV81 });
    } else if (!evolinkPassThroughParams.includes(key)) {
      const hint = dropHints[key];
      warnings.push({
        type: "unsupported",
        feature: `--${key}`,
        details: hint ? `${notOnV81}; ${hint}` : notOnV81,
      });
    } else {
      (kept as Record<string, unknown>)[key] = value;
    }
  }
  return { kept, warnings };
}

/** A rendered prompt EvoLink would refuse: one image without words, or too long. */
function textError(prompt: ParsedPrompt, text: string): ProviderError | undefined {
  if (prompt.images.length === 1 && prompt.text.trim() === "") {
    return invalid(
      "EvoLink needs words with a single image prompt: add a description after the image URL, or use two or more images.",
      "invalid_parameters",
    );
  }
  if (text.length > evolinkMaxPromptLength) {
    return invalid(
      `The prompt is ${text.length} characters; EvoLink accepts at most ${evolinkMaxPromptLength}.`,
      "too_long",
    );
  }
  return undefined;
}

/** Splits a prompt into what EvoLink takes in the text and in its fields; warns about what changed. */
export function planGeneration(
  prompt: ParsedPrompt,
  requested: { speed?: Speed; quality?: Quality },
): { plan: Plan } | { error: ProviderError } {
  const problem = versionError(prompt.params);
  if (problem) return { error: problem };
  const settings = settingsOf(prompt.params, requested);
  if ("error" in settings) return settings;
  const { kept, warnings } = textParams(prompt.params);
  const cleaned: ParsedPrompt = { ...prompt, params: kept };
  const text = renderPrompt(cleaned);
  const error = textError(prompt, text);
  if (error) return { error };
  const { speed, quality } = settings;
  return { plan: { prompt: cleaned, text, speed, quality, warnings: [...settings.warnings, ...warnings] } };
}
