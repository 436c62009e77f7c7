// What the bot sends to a midjourney-proxy: the prompt text (Midjourney takes every parameter; the
// speed becomes a flag), and for a follow-up the button to press, or what cannot be honoured.
import type { ParsedPrompt, PromptParams } from "../prompt/types.ts";
import { proxyLabel } from "./midjourney-proxy-wire.ts";
import type { FollowUpRequest, ImagineRequest, ProviderButton, ProviderWarning } from "./types.ts";

const speedFlags = ["fast", "relax", "turbo"] as const;

/** Drops what Midjourney would not take (only --repeat) and writes the requested speed as a flag. */
export function promptFor(request: Pick<ImagineRequest, "prompt" | "speed" | "quality">): {
  prompt: ParsedPrompt;
  warnings: ProviderWarning[];
} {
  const params: PromptParams = { ...request.prompt.params };
  delete params.repeat;
  const warnings: ProviderWarning[] = [];
  const flagged = speedFlags.some((flag) => params[flag] !== undefined);
  if (request.speed === "draft") {
    warnings.push({
      type: "unsupported",
      feature: "draft speed",
      details: `${proxyLabel} has no draft speed setting here, so the account's usual mode was used`,
    });
  } else if (request.speed !== undefined && !flagged) {
    params[request.speed] = true;
  }
  if (request.quality === "hd") {
    warnings.push({
      type: "unsupported",
      feature: "HD",
      details: `${proxyLabel} has no "Run as HD", so a standard set was made`,
    });
  }
  return { prompt: { ...request.prompt, params }, warnings };
}

function customIdParts(customId: string): { job: string; index: number } | undefined {
  const [mj, kind, job, index] = customId.split("::");
  if (mj !== "MJ" || kind !== "JOB" || job === undefined) return undefined;
  return { job, index: Number(index) };
}

/** The parent's button for `job` (exact name or a pattern) and image `index`, when it lists one. */
export function findButton(
  buttons: readonly ProviderButton[] | undefined,
  job: string | RegExp,
  index: number,
): ProviderButton | undefined {
  return buttons?.find((button) => {
    const parts = customIdParts(button.customId);
    if (parts === undefined || parts.index !== index) return false;
    return typeof job === "string" ? parts.job === job : job.test(parts.job);
  });
}

/** The button for a follow-up, best match first (e.g. Vary (Subtle) before a plain V button). */
export function buttonForFollowUp(request: FollowUpRequest): ProviderButton | undefined {
  const buttons = request.parent.buttons;
  switch (request.kind) {
    case "upscale":
      return request.style === undefined
        ? findButton(buttons, "upsample", request.index)
        : findButton(buttons, new RegExp(`^upsample_.*_${request.style}$`), request.index);
    case "variation": {
      const strengthJob = request.strength === "subtle" ? "low_variation" : "high_variation";
      return (
        findButton(buttons, strengthJob, request.index) ?? findButton(buttons, "variation", request.index)
      );
    }
    case "reroll":
      return findButton(buttons, "reroll", 0);
    default:
      return undefined;
  }
}

/** What a variation cannot honour through the button (or /submit/change) it ends up using. */
export function followUpWarnings(
  request: FollowUpRequest,
  button: ProviderButton | undefined,
): ProviderWarning[] {
  if (request.kind !== "variation") return [];
  const warnings: ProviderWarning[] = [];
  const job = button ? customIdParts(button.customId)?.job : undefined;
  // A plain V button (or /submit/change) uses the account's variation mode, Strong unless changed.
  if (request.strength === "subtle" && job !== "low_variation") {
    warnings.push({
      type: "unsupported",
      feature: "Vary (Subtle)",
      details: `${proxyLabel} cannot choose it here, so Midjourney used the account's variation mode`,
    });
  }
  if (request.prompt !== undefined) {
    warnings.push({
      type: "unsupported",
      feature: "remix",
      details: `${proxyLabel} cannot remix a variation, so the original prompt was used`,
    });
  }
  return warnings;
}
