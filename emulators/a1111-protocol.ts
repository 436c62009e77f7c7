// The AUTOMATIC1111 web UI API's wire shapes, for the emulator in a1111.ts: request validation in
// FastAPI/pydantic's 422 shape, the app's own error body (api.py `handle_exception`), the `info`
// JSON string of a finished txt2img (processing.py `Processed.js()`), the seeds of a batch, and the
// model and upscaler lists. Sources are named in emulators/a1111.ts.
import type { Reply } from "./http.ts";

export interface SdModel {
  title: string;
  model_name: string;
  hash: string | null;
  sha256: string | null;
  filename: string;
  config: string | null;
}

export const defaultSdModels: readonly SdModel[] = [
  {
    title: "sd_xl_base_1.0.safetensors [31e35c80fc]",
    model_name: "sd_xl_base_1.0",
    hash: "31e35c80fc",
    sha256: "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b",
    filename: "/models/Stable-diffusion/sd_xl_base_1.0.safetensors",
    config: null,
  },
  {
    title: "v1-5-pruned-emaonly.safetensors [6ce0161689]",
    model_name: "v1-5-pruned-emaonly",
    hash: "6ce0161689",
    sha256: "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
    filename: "/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors",
    config: null,
  },
];

/** `shared.sd_upscalers` of a stock install (names as /sdapi/v1/upscalers lists them). */
export const defaultUpscalers: readonly string[] = [
  "None",
  "Lanczos",
  "Nearest",
  "DAT x2",
  "ESRGAN_4x",
  "LDSR",
  "R-ESRGAN 4x+",
  "R-ESRGAN 4x+ Anime6B",
  "ScuNET",
  "SwinIR_4x",
];

export const samplers: readonly string[] = ["DPM++ 2M", "DPM++ SDE", "Euler a", "Euler", "DDIM", "UniPC"];

/** An error raised inside the app (HTTPException or any other), as `handle_exception` sends it. */
export function appError(status: number, error: string, detail: string, errors?: string): Reply {
  return {
    status,
    body: { error, detail, body: "", errors: errors ?? (status < 500 ? `${status}: ${detail}` : detail) },
  };
}

/** FastAPI's RequestValidationError answer: `{"detail":[{type, loc, msg, input}]}`. */
export function validationError(
  issues: { type: string; loc: (string | number)[]; msg: string; input: unknown }[],
) {
  return { status: 422, body: { detail: issues } };
}

type Kind = "int" | "float" | "str" | "bool" | "list" | "dict";

/** Fields of StableDiffusionProcessingTxt2Img/Img2Img the emulator reads, with their pydantic types. */
const fieldKinds: Record<string, Kind> = {
  prompt: "str",
  negative_prompt: "str",
  styles: "list",
  seed: "int",
  subseed: "int",
  subseed_strength: "float",
  seed_resize_from_h: "int",
  seed_resize_from_w: "int",
  sampler_name: "str",
  sampler_index: "str",
  scheduler: "str",
  batch_size: "int",
  n_iter: "int",
  steps: "int",
  cfg_scale: "float",
  width: "int",
  height: "int",
  restore_faces: "bool",
  tiling: "bool",
  do_not_save_samples: "bool",
  do_not_save_grid: "bool",
  denoising_strength: "float",
  enable_hr: "bool",
  hr_scale: "float",
  override_settings: "dict",
  send_images: "bool",
  save_images: "bool",
  alwayson_scripts: "dict",
  init_images: "list",
  resize_mode: "int",
  script_args: "list",
};

const messages: Record<Kind, [type: string, msg: string]> = {
  int: ["int_parsing", "Input should be a valid integer, unable to parse string as an integer"],
  float: ["float_parsing", "Input should be a valid number, unable to parse string as a number"],
  str: ["string_type", "Input should be a valid string"],
  bool: ["bool_parsing", "Input should be a valid boolean, unable to interpret input"],
  list: ["list_type", "Input should be a valid list"],
  dict: ["dict_type", "Input should be a valid dictionary"],
};

function fits(kind: Kind, value: unknown): boolean {
  if (value === null) return true; // every generated field is Optional[...]
  switch (kind) {
    case "int":
      return typeof value === "number" && Number.isInteger(value);
    case "float":
      return typeof value === "number" && Number.isFinite(value);
    case "str":
      return typeof value === "string";
    case "bool":
      return typeof value === "boolean";
    case "list":
      return Array.isArray(value);
    default:
      return typeof value === "object" && !Array.isArray(value);
  }
}

/** Pydantic's check of a txt2img/img2img body: a 422 naming every field of the wrong type. */
export function checkFields(body: unknown): Reply | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return validationError([
      {
        type: "model_attributes_type",
        loc: ["body"],
        msg: "Input should be a valid dictionary",
        input: body,
      },
    ]);
  const issues = Object.entries(body as Record<string, unknown>).flatMap(([name, value]) => {
    const kind = fieldKinds[name];
    if (kind === undefined || fits(kind, value)) return [];
    const [type, msg] = messages[kind];
    return [{ type, loc: ["body", name], msg, input: value }];
  });
  return issues.length > 0 ? validationError(issues) : undefined;
}

/** The body of an unreadable JSON request, as FastAPI answers it. */
export const jsonInvalid = validationError([
  { type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} },
]);

/** Seeds of a batch as processing.py fills them: -1 is random; subseeds count up, seeds only without a variation. */
export function batchSeeds(
  count: number,
  seed: number,
  subseed: number,
  subseedStrength: number,
): { seeds: number[]; subseeds: number[] } {
  const seeds = Array.from({ length: count }, (_, index) => seed + (subseedStrength === 0 ? index : 0));
  const subseeds = Array.from({ length: count }, (_, index) => subseed + index);
  return { seeds, subseeds };
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 4_294_967_294);
}

export interface Generation {
  prompt: string;
  negativePrompt: string;
  seeds: number[];
  subseeds: number[];
  subseedStrength: number;
  width: number;
  height: number;
  sampler: string;
  cfgScale: number;
  steps: number;
  batchSize: number;
  denoisingStrength: number | null;
  model: SdModel;
  jobTimestamp: string;
}

/** `Processed.js()`: the JSON string sent as `info`. */
export function infoJson(g: Generation): string {
  const infotexts = g.seeds.map(
    (seed, index) =>
      `${g.prompt}\nNegative prompt: ${g.negativePrompt}\nSteps: ${g.steps}, Sampler: ${g.sampler}, CFG scale: ${g.cfgScale}, Seed: ${seed}, Size: ${g.width}x${g.height}, Model hash: ${g.model.hash}, Model: ${g.model.model_name}${g.subseedStrength > 0 ? `, Variation seed: ${g.subseeds[index]}, Variation seed strength: ${g.subseedStrength}` : ""}, Version: v1.10.1`,
  );
  return JSON.stringify({
    prompt: g.prompt,
    all_prompts: g.seeds.map(() => g.prompt),
    negative_prompt: g.negativePrompt,
    all_negative_prompts: g.seeds.map(() => g.negativePrompt),
    seed: g.seeds[0],
    all_seeds: g.seeds,
    subseed: g.subseeds[0],
    all_subseeds: g.subseeds,
    subseed_strength: g.subseedStrength,
    width: g.width,
    height: g.height,
    sampler_name: g.sampler,
    cfg_scale: g.cfgScale,
    steps: g.steps,
    batch_size: g.batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: g.model.model_name,
    sd_model_hash: g.model.hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: g.denoisingStrength,
    extra_generation_params: {},
    index_of_first_image: 0,
    infotexts,
    styles: [],
    job_timestamp: g.jobTimestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: "v1.10.1",
  });
}

/** `YYYYMMDDhhmmss`, as `shared.state.job_timestamp`. */
export function jobTimestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** `shared.state.dict()`. */
export interface State {
  skipped: boolean;
  interrupted: boolean;
  stopping_generation: boolean;
  job: string;
  job_count: number;
  job_timestamp: string;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
}

/** The job holding the lock, as the emulator draws it. */
export interface Running {
  colours: number[];
  width: number;
  height: number;
  startedAt: number;
  stalled: boolean;
  preview?: Promise<string>;
}
