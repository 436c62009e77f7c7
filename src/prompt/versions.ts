// The version table: which parameters each Midjourney model accepts, which quality values and
// style presets it knows, and whether it honours `::` weights. The single source for every
// version rule; validation reads it instead of branching on version numbers.
import { englishPart, list, type PartList } from "./messages.ts";
import type { ModelFamily, ParamKey } from "./parameters.ts";

export interface ModelVersion {
  family: ModelFamily;
  /** The canonical value of `--v` or `--niji`, e.g. "8.1", "6". */
  version: string;
  /** Other spellings read as this version (a note says so). */
  aliases?: readonly string[];
  /** Every parameter this model accepts. */
  accepts: readonly ParamKey[];
  /** Parameters the model accepts but ignores: dropped from the prompt with a warning. */
  ignores?: readonly ParamKey[];
  quality: readonly number[];
  styles: readonly string[];
  /** Honours `::` multi-prompt weights. */
  multiPrompt: boolean;
}

export const DEFAULT_VERSION = "8.1";

// Accepted by every model.
const EVERY_MODEL: readonly ParamKey[] = [
  "ar",
  "v",
  "niji",
  "stylize",
  "chaos",
  "seed",
  "tile",
  "iw",
  "no",
  "repeat",
  "fast",
  "relax",
  "turbo",
  "stealth",
  "public",
  "provider",
];
const OLD_QUALITY = [0.25, 0.5, 1] as const;
const NEW_QUALITY = [1, 2, 4] as const;
const V6_EXTRAS: readonly ParamKey[] = ["sref", "sw", "sv", "p", "cref", "cw"];
const V7_EXTRAS: readonly ParamKey[] = ["sref", "sw", "sv", "p", "oref", "ow", "exp", "draft"];

function oldModel(family: ModelFamily, version: string, extras: readonly ParamKey[], styles: string[] = []) {
  return {
    family,
    version,
    accepts: [...EVERY_MODEL, "quality", "stop", ...(styles.length > 0 ? ["style" as const] : []), ...extras],
    quality: OLD_QUALITY,
    styles,
    multiPrompt: true,
  } satisfies ModelVersion;
}

export const VERSIONS: readonly ModelVersion[] = [
  oldModel("v", "1", []),
  oldModel("v", "2", []),
  oldModel("v", "3", []),
  oldModel("v", "4", [], ["4a", "4b", "4c"]),
  oldModel("v", "5", []),
  oldModel("v", "5.1", [], ["raw"]),
  oldModel("v", "5.2", ["weird"], ["raw"]),
  oldModel("v", "6", ["weird", ...V6_EXTRAS], ["raw"]),
  oldModel("v", "6.1", ["weird", ...V6_EXTRAS], ["raw"]),
  {
    family: "v",
    version: "7",
    accepts: [...EVERY_MODEL, "quality", "style", "weird", ...V7_EXTRAS],
    quality: NEW_QUALITY,
    styles: ["raw"],
    multiPrompt: false,
  },
  {
    family: "v",
    version: "8.1",
    aliases: ["8"],
    accepts: [...EVERY_MODEL, "style", "weird", "hd", ...V7_EXTRAS],
    // Midjourney's FAQ: --q does nothing on V8.1 (HD is --hd); dropped with a warning.
    ignores: ["quality"],
    quality: [],
    styles: ["raw"],
    multiPrompt: false,
  },
  oldModel("niji", "4", []),
  oldModel("niji", "5", [], ["cute", "expressive", "original", "scenic"]),
  oldModel("niji", "6", ["weird", ...V6_EXTRAS], ["raw"]),
  {
    family: "niji",
    version: "7",
    accepts: [...EVERY_MODEL, "quality", "style", "weird", "sref", "sw", "sv", "p"],
    quality: NEW_QUALITY,
    styles: ["raw"],
    multiPrompt: false,
  },
];

/** Finds a model by family and the value the user gave (canonical or alias). */
export function findVersion(family: ModelFamily, value: string): ModelVersion | undefined {
  return VERSIONS.find(
    (model) => model.family === family && (model.version === value || model.aliases?.includes(value)),
  );
}

/** The model a prompt runs on: `--niji`, else `--v`, else the default. */
export function modelFor(params: { v?: string; niji?: string }): ModelVersion {
  const chosen = params.niji !== undefined ? findVersion("niji", params.niji) : undefined;
  const model = chosen ?? findVersion("v", params.v ?? DEFAULT_VERSION);
  if (!model) throw new Error("default version missing from the table"); // unreachable
  return model;
}

/** "V8.1" or "Niji 6". */
export function modelLabel(model: ModelVersion): string {
  return model.family === "v" ? `V${model.version}` : `Niji ${model.version}`;
}

export function versionValues(family: ModelFamily): string[] {
  return VERSIONS.filter((model) => model.family === family).map((model) => model.version);
}

/** Human list of the models accepting a parameter, e.g. "V1–V6.1 and Niji 4–6". */
export function describeModelsAccepting(key: ParamKey): string {
  return englishPart(modelsAccepting(key));
}

/** The runs of models accepting a parameter ("V1–V6.1", "Niji 4–6"), to be joined with "and". */
export function modelsAccepting(key: ParamKey): PartList {
  const runs: string[] = [];
  for (const family of ["v", "niji"] as const) {
    const models = VERSIONS.filter((model) => model.family === family);
    let run: ModelVersion[] = [];
    const flush = () => {
      if (run.length > 0) runs.push(describeRun(run));
      run = [];
    };
    for (const model of models) {
      if (model.accepts.includes(key)) run.push(model);
      else flush();
    }
    flush();
  }
  // A run of two is written "V7, V8.1", so runs are joined pairwise: "V6, V6.1 and Niji 6".
  return list(runs, "and", true);
}

function describeRun(run: ModelVersion[]): string {
  const first = run[0];
  const last = run[run.length - 1];
  if (!first || !last) return "";
  if (first === last) return modelLabel(first);
  if (run.length === 2) return `${modelLabel(first)}, ${modelLabel(last)}`;
  const lastLabel = first.family === "v" ? `V${last.version}` : last.version;
  return `${modelLabel(first)}–${lastLabel}`;
}
