// Public API of the Midjourney prompt language. Pure: no I/O, never throws on user input.
export { type AddressVerdict, classifyIpAddress } from "./addresses.ts";
export { checkPrompt, DEFAULT_MAX_JOBS, unknownProvider } from "./check.ts";
export { type LinkRules, linkProblem, linkProblemPhrase } from "./image-links.ts";
export {
  type EnglishTemplates,
  englishPart,
  englishText,
  joinItems,
  type Part,
  type PartList,
  type Phrase,
  type PhraseKey,
  type PromptErrorCode,
  type PromptNote,
  type PromptNoteCode,
  type PromptProblem,
  promptEnglish,
  promptError,
  promptNote,
} from "./messages.ts";
export {
  CONFLICTS,
  findParameter,
  KNOWN_NAMES,
  LEGACY_PARAMETERS,
  type ModelFamily,
  PARAMETERS,
  type ParameterDefinition,
  type ParamKey,
  REQUIRES,
  type ValueSpec,
} from "./parameters.ts";
export { DEFAULT_MAX_LENGTH, type ParseResult, parsePrompt } from "./parse.ts";
export { expandPermutations } from "./permutations.ts";
export {
  appendSuffix,
  blamePreferences,
  type Expansion,
  expandOptions,
  type PromptPreferences,
  quoteValue,
  type UsedOption,
  valueProblem,
} from "./preferences.ts";
export { renderParams, renderPrompt } from "./render.ts";
export type {
  ParsedPrompt,
  PromptCheck,
  PromptError,
  PromptOptions,
  PromptParams,
  PromptSegment,
} from "./types.ts";
export { describeValue } from "./values.ts";
export {
  DEFAULT_VERSION,
  describeModelsAccepting,
  findVersion,
  type ModelVersion,
  modelFor,
  modelLabel,
  VERSIONS,
} from "./versions.ts";
