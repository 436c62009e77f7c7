// Rules across parameters: conflicts, which model accepts what (read from the version table),
// version-dependent values, and parameters that need a partner. Runs after every value is read.
import { CONFLICTS, PARAMETERS, type ParamKey, REQUIRES } from "./parameters.ts";
import type { PromptError, PromptParams } from "./types.ts";
import { quote } from "./values.ts";
import { describeModelsAccepting, type ModelVersion, modelFor, modelLabel } from "./versions.ts";

export function findConflict(params: PromptParams): PromptError | undefined {
  for (const conflict of CONFLICTS) {
    const present = conflict.keys.filter((key) => params[key] !== undefined);
    const [first, second] = present;
    if (first === undefined || second === undefined) continue;
    const names = present.map((key) => `--${key}`);
    const list =
      names.length === 2 ? names.join(" and ") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    return { message: `${list} ${conflict.reason}`, parameter: `--${first}` };
  }
  return undefined;
}

/**
 * Checks every parameter against the model the prompt runs on. Parameters the model ignores are
 * removed from `params` with a warning; anything it does not accept is an error.
 */
export function checkAgainstModel(params: PromptParams, warnings: string[]): PromptError | undefined {
  const model = modelFor(params);
  for (const { key } of PARAMETERS) {
    if (params[key] === undefined) continue;
    if (model.ignores?.includes(key)) {
      delete params[key];
      warnings.push(`${modelLabel(model)} ignores --${key}; left it out`);
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
  const where = describeModelsAccepting(key);
  return {
    message: `--${key} works only with ${where}, not ${modelLabel(model)}${hint ? `; ${hint}` : ""}`,
    parameter: `--${key}`,
  };
}

/** Values whose allowed set depends on the model: `--quality` and `--style`. */
function checkModelValue(model: ModelVersion, key: ParamKey, params: PromptParams): PromptError | undefined {
  if (key === "quality" && params.quality !== undefined && !model.quality.includes(params.quality)) {
    return {
      message: `--quality on ${modelLabel(model)} must be ${orList(model.quality.map(String))}, not ${quote(String(params.quality))}`,
      parameter: "--quality",
    };
  }
  if (key === "style" && params.style !== undefined && !model.styles.includes(params.style)) {
    return {
      message: `--style on ${modelLabel(model)} must be ${orList(model.styles)}, not ${quote(params.style)}`,
      parameter: "--style",
    };
  }
  return undefined;
}

function orList(values: readonly string[]): string {
  if (values.length <= 1) return values[0] ?? "";
  return `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
}

/** Warnings for parameters that do nothing on their own, e.g. `--cw` without `--cref`. */
export function partnerWarnings(params: PromptParams, imageCount: number): string[] {
  const warnings: string[] = [];
  for (const { key, needs } of REQUIRES) {
    if (params[key] !== undefined && params[needs] === undefined) {
      warnings.push(`--${key} has no effect without --${needs}`);
    }
  }
  if (params.iw !== undefined && imageCount === 0)
    warnings.push("--iw has no effect without an image prompt");
  return warnings;
}

/** Whether the prompt's model honours `::` weights. */
export function modelHonoursWeights(params: PromptParams): { honours: boolean; label: string } {
  const model = modelFor(params);
  return { honours: model.multiPrompt, label: modelLabel(model) };
}
