// Rules across parameters: conflicts, which model accepts what (read from the version table),
// version-dependent values, and parameters that need a partner. Runs after every value is read.

import { list, type PromptNote, phrase, promptError, promptNote } from "./messages.ts";
import { CONFLICTS, PARAMETERS, type ParamKey, REQUIRES } from "./parameters.ts";
import type { PromptError, PromptParams } from "./types.ts";
import { quote } from "./values.ts";
import { type ModelVersion, modelFor, modelLabel, modelsAccepting } from "./versions.ts";

export function findConflict(params: PromptParams): PromptError | undefined {
  for (const conflict of CONFLICTS) {
    const present = conflict.keys.filter((key) => params[key] !== undefined);
    const [first, second] = present;
    if (first === undefined || second === undefined) continue;
    const parameters = list(
      present.map((key) => `--${key}`),
      "and",
    );
    return promptError("conflict", { parameters, reason: phrase(conflict.reason) }, `--${first}`);
  }
  return undefined;
}

/**
 * Checks every parameter against the model the prompt runs on. Parameters the model ignores are
 * removed from `params` with a warning; anything it does not accept is an error.
 */
export function checkAgainstModel(params: PromptParams, notes: PromptNote[]): PromptError | undefined {
  const model = modelFor(params);
  for (const { key } of PARAMETERS) {
    if (params[key] === undefined) continue;
    if (model.ignores?.includes(key)) {
      delete params[key];
      notes.push(promptNote("model-ignores", { model: modelLabel(model), parameter: `--${key}` }));
      continue;
    }
    const error = checkAccepted(model, key) ?? checkModelValue(model, key, params);
    if (error) return error;
  }
  return undefined;
}

function checkAccepted(model: ModelVersion, key: ParamKey): PromptError | undefined {
  if (model.accepts.includes(key)) return undefined;
  const hint = PARAMETERS.find((definition) => definition.key === key)?.versionHint;
  const values = { parameter: `--${key}`, models: modelsAccepting(key), model: modelLabel(model) };
  return hint
    ? promptError("model-refuses-hint", { ...values, hint: phrase(hint) }, `--${key}`)
    : promptError("model-refuses", values, `--${key}`);
}

/** Values whose allowed set depends on the model: `--quality` and `--style`. */
function checkModelValue(model: ModelVersion, key: ParamKey, params: PromptParams): PromptError | undefined {
  if (key === "quality" && params.quality !== undefined && !model.quality.includes(params.quality)) {
    const values = {
      model: modelLabel(model),
      allowed: list(model.quality.map(String), "or"),
      value: quote(String(params.quality)),
    };
    return promptError("quality-on-model", values, "--quality");
  }
  if (key === "style" && params.style !== undefined && !model.styles.includes(params.style)) {
    const values = {
      model: modelLabel(model),
      allowed: list(model.styles, "or"),
      value: quote(params.style),
    };
    return promptError("style-on-model", values, "--style");
  }
  return undefined;
}

/** Notes on parameters that do nothing on their own, e.g. `--cw` without `--cref`. */
export function partnerNotes(params: PromptParams, imageCount: number): PromptNote[] {
  const notes: PromptNote[] = [];
  for (const { key, needs } of REQUIRES) {
    if (params[key] !== undefined && params[needs] === undefined) {
      notes.push(promptNote("needs-partner", { parameter: `--${key}`, partner: `--${needs}` }));
    }
  }
  if (params.iw !== undefined && imageCount === 0) notes.push(promptNote("iw-without-image", {}));
  return notes;
}

/** Whether the prompt's model honours `::` weights. */
export function modelHonoursWeights(params: PromptParams): { honours: boolean; label: string } {
  const model = modelFor(params);
  return { honours: model.multiPrompt, label: modelLabel(model) };
}
