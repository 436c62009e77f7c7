// ComfyUI workflows (API format: `{<node id>: {class_type, inputs}}`, what "Export (API)" saves):
// the shipped text-to-image default, a user's own (COMFYUI_WORKFLOW), and where the prompt, negative
// prompt, seed, size and batch go in either — by placeholder first (`"%prompt%"`, `"%negative%"`,
// `"%seed%"`, `"%width%"`, `"%height%"`, `"%batch%"`, `"%checkpoint%"`, `"%image%"`, `"%denoise%"`),
// then by node type, following the sampler's links: KSampler/KSamplerAdvanced (also its cfg and steps
// when the prompt has --stylize / --q) → positive and negative CLIPTextEncode, latent_image → EmptyLatentImage/EmptySD3LatentImage. V rewires the
// sampler to start from an uploaded image (LoadImage → VAEEncode → RepeatLatentBatch, denoise below
// 1); U is a graph of its own (an upscale model the server has, else a 2× lanczos resize).
import { readFileSync } from "node:fs";
import { ProviderError } from "./types.ts";

export interface GraphNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}
export type Graph = Record<string, GraphNode>;

/** What goes into a workflow. `image` and `denoise` only for image-to-image (V); `cfg` and `steps` only when asked for. */
export interface Placement {
  prompt: string;
  negative: string;
  seed: number;
  width: number;
  height: number;
  batch: number;
  /** The sampler's `cfg` (from `--stylize`); the workflow's own without it. */
  cfg?: number;
  /** The sampler's `steps` (from `--q`); the workflow's own without it. */
  steps?: number;
  checkpoint?: string;
  image?: string;
  denoise?: number;
}

type Key = keyof Placement;
const placeholderKeys: Key[] = [
  "prompt",
  "negative",
  "seed",
  "width",
  "height",
  "batch",
  "checkpoint",
  "image",
  "denoise",
];
const samplerClasses = new Set(["KSampler", "KSamplerAdvanced"]);
const latentClasses = new Set(["EmptyLatentImage", "EmptySD3LatentImage"]);

const defaultWorkflowUrl = new URL("./comfyui-default-workflow.json", import.meta.url);

function workflowError(message: string): ProviderError {
  return new ProviderError("internal", `COMFYUI_WORKFLOW: ${message}`, { code: "workflow" });
}

/** Checks a parsed file is an API-format workflow (not the UI's `{nodes, links}` save). */
export function asGraph(value: unknown, source: string): Graph {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw workflowError(`${source} is not a workflow object.`);
  if ("nodes" in value && "links" in value)
    throw workflowError(
      `${source} is a UI workflow; in ComfyUI use Workflow → Export (API) and point COMFYUI_WORKFLOW at that file.`,
    );
  for (const [id, node] of Object.entries(value)) {
    const shaped = node as Partial<GraphNode> | null;
    if (typeof shaped?.class_type !== "string" || typeof shaped.inputs !== "object" || shaped.inputs === null)
      throw workflowError(
        `node ${id} of ${source} has no class_type and inputs: is it an API-format workflow?`,
      );
  }
  return value as Graph;
}

/** The workflow at `path` (COMFYUI_WORKFLOW), or the shipped default. */
export function loadWorkflow(path?: string): Graph {
  const source = path ?? defaultWorkflowUrl;
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch (error) {
    throw workflowError(`cannot read ${String(source)} (${(error as Error).message}).`);
  }
  try {
    return asGraph(JSON.parse(text), String(path ?? "the default workflow"));
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw workflowError(`${String(source)} is not JSON (${(error as Error).message}).`);
  }
}

const isLink = (value: unknown): value is [string, number] =>
  Array.isArray(value) && value.length === 2 && typeof value[1] === "number";

const label = (graph: Graph, id: string) => `${graph[id]?.class_type} (node ${id})`;

/** Replaces placeholders in every input; returns the keys it placed. */
function substitute(graph: Graph, values: Placement): Set<Key> {
  const used = new Set<Key>();
  for (const node of Object.values(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value !== "string" || !value.includes("%")) continue;
      const whole = /^%(\w+)%$/.exec(value)?.[1] as Key | undefined;
      if (whole && placeholderKeys.includes(whole)) {
        if (values[whole] === undefined) continue;
        node.inputs[input] = values[whole];
        used.add(whole);
        continue;
      }
      node.inputs[input] = value.replace(/%(prompt|negative)%/g, (_, key: "prompt" | "negative") => {
        used.add(key);
        return values[key];
      });
    }
  }
  return used;
}

function findSampler(graph: Graph): string {
  const samplers = Object.keys(graph).filter((id) => samplerClasses.has(graph[id]?.class_type ?? ""));
  // The base sampler starts from an empty latent; a refiner or hires pass reads another sampler.
  const base = samplers.find((id) => {
    const latent = graph[id]?.inputs.latent_image;
    return isLink(latent) && latentClasses.has(graph[String(latent[0])]?.class_type ?? "");
  });
  const found = base ?? samplers[0];
  if (found === undefined)
    throw workflowError(
      'found no KSampler or KSamplerAdvanced node: put "%prompt%", "%seed%", "%width%", "%height%" and "%batch%" where they belong.',
    );
  return found;
}

/** The node `sampler`'s `input` links to, when it is of one of `classes`; an error naming both otherwise. */
function linked(
  graph: Graph,
  sampler: string,
  input: string,
  classes: Set<string>,
  placeholder: string,
): string {
  const link = graph[sampler]?.inputs[input];
  const target = isLink(link) ? String(link[0]) : undefined;
  if (target !== undefined && classes.has(graph[target]?.class_type ?? "")) return target;
  const what = target === undefined ? "no node" : label(graph, target);
  throw workflowError(
    `the ${input} input of ${label(graph, sampler)} comes from ${what}, not a ${[...classes].join(" or ")}: put "${placeholder}" where it belongs.`,
  );
}

/** The workflow with the values placed; the template is not changed. */
export function placeValues(template: Graph, values: Placement): Graph {
  const graph = structuredClone(template);
  const used = substitute(graph, values);
  const needs = (...keys: Key[]) => keys.some((key) => !used.has(key) && values[key] !== undefined);
  if (needs("prompt", "negative", "seed", "width", "height", "batch")) {
    const sampler = findSampler(graph);
    const inputs = (graph[sampler] as GraphNode).inputs;
    const text = new Set(["CLIPTextEncode"]);
    if (!used.has("prompt")) linkedInputs(graph, sampler, "positive", text, "%prompt%").text = values.prompt;
    if (!used.has("negative") && (values.negative !== "" || isTextNode(graph, inputs.negative)))
      linkedInputs(graph, sampler, "negative", text, "%negative%").text = values.negative;
    if (!used.has("seed"))
      inputs[graph[sampler]?.class_type === "KSamplerAdvanced" ? "noise_seed" : "seed"] = values.seed;
    if (values.image === undefined && needs("width", "height", "batch")) {
      const latent = linkedInputs(graph, sampler, "latent_image", latentClasses, "%width%");
      if (!used.has("width")) latent.width = values.width;
      if (!used.has("height")) latent.height = values.height;
      if (!used.has("batch")) latent.batch_size = values.batch;
    }
  }
  if (values.cfg !== undefined || values.steps !== undefined) {
    const inputs = (graph[findSampler(graph)] as GraphNode).inputs;
    if (values.cfg !== undefined) inputs.cfg = values.cfg;
    if (values.steps !== undefined) inputs.steps = values.steps;
  }
  if (values.checkpoint !== undefined && !used.has("checkpoint"))
    for (const node of Object.values(graph))
      if (node.class_type === "CheckpointLoaderSimple") node.inputs.ckpt_name = values.checkpoint;
  if (values.image !== undefined && !used.has("image")) startFromImage(graph, values);
  const left = Object.entries(graph).find(([, node]) =>
    Object.values(node.inputs).some((value) => typeof value === "string" && /^%\w+%$/.test(value)),
  );
  if (left) throw workflowError(`${label(graph, left[0])} still has a placeholder no setting fills.`);
  return graph;
}

function isTextNode(graph: Graph, link: unknown): boolean {
  return isLink(link) && graph[String(link[0])]?.class_type === "CLIPTextEncode";
}

function linkedInputs(
  graph: Graph,
  sampler: string,
  input: string,
  classes: Set<string>,
  placeholder: string,
) {
  return (graph[linked(graph, sampler, input, classes, placeholder)] as GraphNode).inputs;
}

function nextIds(graph: Graph, count: number): string[] {
  const top = Math.max(0, ...Object.keys(graph).map(Number).filter(Number.isFinite));
  return Array.from({ length: count }, (_, index) => String(top + 1 + index));
}

/**
 * Image-to-image: the sampler starts from the uploaded image (LoadImage → VAEEncode, repeated to
 * the batch size) instead of an empty latent, and denoises only part of the way.
 */
function startFromImage(graph: Graph, values: Placement): void {
  const sampler = findSampler(graph);
  const decoder = Object.keys(graph).find((id) => graph[id]?.class_type === "VAEDecode");
  const vae = decoder === undefined ? undefined : graph[decoder]?.inputs.vae;
  if (!isLink(vae))
    throw workflowError(
      'found no VAEDecode node to borrow the VAE from: use "%image%" and "%denoise%" yourself.',
    );
  const [load, encode, repeat] = nextIds(graph, 3) as [string, string, string];
  graph[load] = { class_type: "LoadImage", inputs: { image: values.image } };
  graph[encode] = { class_type: "VAEEncode", inputs: { pixels: [load, 0], vae } };
  graph[repeat] = { class_type: "RepeatLatentBatch", inputs: { samples: [encode, 0], amount: values.batch } };
  const inputs = (graph[sampler] as GraphNode).inputs;
  inputs.latent_image = [repeat, 0];
  const denoise = values.denoise ?? 1;
  if (graph[sampler]?.class_type === "KSamplerAdvanced") {
    const steps = Number(inputs.steps) || 20;
    inputs.start_at_step = Math.round(steps * (1 - denoise));
  } else inputs.denoise = denoise;
}

/** U: image `image` twice as large — through `model` (then to exactly 2×), or a lanczos resize. */
export function upscaleGraph(image: string, size: { width: number; height: number }, model?: string): Graph {
  const load = { class_type: "LoadImage", inputs: { image } };
  const save = (from: string) => ({
    class_type: "SaveImage",
    inputs: { images: [from, 0], filename_prefix: "atelier-upscale" },
  });
  if (model === undefined)
    return {
      "1": load,
      "2": {
        class_type: "ImageScaleBy",
        inputs: { image: ["1", 0], upscale_method: "lanczos", scale_by: 2 },
      },
      "3": save("2"),
    };
  return {
    "1": load,
    "2": { class_type: "UpscaleModelLoader", inputs: { model_name: model } },
    "3": { class_type: "ImageUpscaleWithModel", inputs: { upscale_model: ["2", 0], image: ["1", 0] } },
    "4": {
      class_type: "ImageScale",
      inputs: {
        image: ["3", 0],
        upscale_method: "lanczos",
        width: size.width * 2,
        height: size.height * 2,
        crop: "disabled",
      },
    },
    "5": save("4"),
  };
}
