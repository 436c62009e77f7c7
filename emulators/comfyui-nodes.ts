// The ComfyUI emulator's node classes: the core nodes a text-to-image, image-to-image and upscale
// workflow use, listed by `GET /object_info` as ComfyUI lists them (`input.required`, `input_order`,
// `output`, `output_node`…), validated as `execution.validate_prompt` does (unknown class → an
// `invalid_prompt` error; a missing input, a value not in a list or of the wrong type → a node error
// with `extra_info.input_name`), and evaluated just enough to know what each output image is: its
// size and, per batch index, its colour (new content takes the batch index's colour; loaded or
// upscaled images keep theirs).
// Sources: comfyanonymous/ComfyUI nodes.py (INPUT_TYPES of CheckpointLoaderSimple, CLIPTextEncode,
// EmptyLatentImage, KSampler, KSamplerAdvanced, VAEDecode, VAEEncode, RepeatLatentBatch,
// LatentUpscaleBy, LoadImage, ImageScale, ImageScaleBy, SaveImage, PreviewImage),
// comfy_extras/nodes_upscale_model.py (UpscaleModelLoader, ImageUpscaleWithModel),
// comfy_extras/nodes_sd3.py (EmptySD3LatentImage), execution.py (validate_prompt, validate_inputs).

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}
export type ApiPrompt = Record<string, ApiNode>;

/** An input's type: a ComfyUI type name, or the list of accepted values (a combo). */
type InputType = string | (() => string[]);
interface NodeClass {
  inputs: Record<string, InputType>;
  output: string[];
  outputNode?: boolean;
  category: string;
}

/** What lists change at run time: the models and files the server has. */
export interface NodeLists {
  checkpoints: string[];
  upscaleModels: string[];
  inputFiles: () => string[];
}

const samplers = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_sde", "ddim"];
const schedulers = ["normal", "karras", "exponential", "sgm_uniform", "simple"];
const scaleMethods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"];

function nodeClasses(lists: NodeLists): Record<string, NodeClass> {
  const latent = { width: "INT", height: "INT", batch_size: "INT" };
  const sampling = {
    model: "MODEL",
    cfg: "FLOAT",
    sampler_name: () => samplers,
    scheduler: () => schedulers,
  };
  const conditioning = { positive: "CONDITIONING", negative: "CONDITIONING", latent_image: "LATENT" };
  return {
    CheckpointLoaderSimple: {
      inputs: { ckpt_name: () => lists.checkpoints },
      output: ["MODEL", "CLIP", "VAE"],
      category: "loaders",
    },
    CLIPTextEncode: {
      inputs: { text: "STRING", clip: "CLIP" },
      output: ["CONDITIONING"],
      category: "conditioning",
    },
    EmptyLatentImage: { inputs: latent, output: ["LATENT"], category: "latent" },
    EmptySD3LatentImage: { inputs: latent, output: ["LATENT"], category: "latent/sd3" },
    KSampler: {
      inputs: { ...sampling, seed: "INT", steps: "INT", ...conditioning, denoise: "FLOAT" },
      output: ["LATENT"],
      category: "sampling",
    },
    KSamplerAdvanced: {
      inputs: {
        ...sampling,
        add_noise: () => ["enable", "disable"],
        noise_seed: "INT",
        steps: "INT",
        ...conditioning,
        start_at_step: "INT",
        end_at_step: "INT",
        return_with_leftover_noise: () => ["disable", "enable"],
      },
      output: ["LATENT"],
      category: "sampling",
    },
    VAEDecode: { inputs: { samples: "LATENT", vae: "VAE" }, output: ["IMAGE"], category: "latent" },
    VAEEncode: { inputs: { pixels: "IMAGE", vae: "VAE" }, output: ["LATENT"], category: "latent" },
    RepeatLatentBatch: {
      inputs: { samples: "LATENT", amount: "INT" },
      output: ["LATENT"],
      category: "latent/batch",
    },
    LatentUpscaleBy: {
      inputs: { samples: "LATENT", upscale_method: () => scaleMethods, scale_by: "FLOAT" },
      output: ["LATENT"],
      category: "latent",
    },
    LoadImage: { inputs: { image: lists.inputFiles }, output: ["IMAGE", "MASK"], category: "image" },
    UpscaleModelLoader: {
      inputs: { model_name: () => lists.upscaleModels },
      output: ["UPSCALE_MODEL"],
      category: "loaders",
    },
    ImageUpscaleWithModel: {
      inputs: { upscale_model: "UPSCALE_MODEL", image: "IMAGE" },
      output: ["IMAGE"],
      category: "image/upscaling",
    },
    ImageScale: {
      inputs: {
        image: "IMAGE",
        upscale_method: () => scaleMethods,
        width: "INT",
        height: "INT",
        crop: () => ["disabled", "center"],
      },
      output: ["IMAGE"],
      category: "image/upscaling",
    },
    ImageScaleBy: {
      inputs: { image: "IMAGE", upscale_method: () => scaleMethods, scale_by: "FLOAT" },
      output: ["IMAGE"],
      category: "image/upscaling",
    },
    SaveImage: {
      inputs: { images: "IMAGE", filename_prefix: "STRING" },
      output: [],
      outputNode: true,
      category: "image",
    },
    PreviewImage: { inputs: { images: "IMAGE" }, output: [], outputNode: true, category: "image" },
  };
}

/** `GET /object_info`: every node class as ComfyUI's `node_info` describes it. */
export function objectInfo(lists: NodeLists): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(nodeClasses(lists)).map(([name, node]) => {
      const required = Object.fromEntries(
        Object.entries(node.inputs).map(([input, type]) => [
          input,
          typeof type === "string" ? [type, {}] : [type()],
        ]),
      );
      const info = {
        input: { required },
        input_order: { required: Object.keys(node.inputs) },
        output: node.output,
        output_is_list: node.output.map(() => false),
        output_name: node.output,
        name,
        display_name: name,
        description: "",
        python_module: "nodes",
        category: node.category,
        output_node: node.outputNode === true,
      };
      return [name, info];
    }),
  );
}

export interface NodeErrorEntry {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** What `POST /prompt` answers with 400, in ComfyUI's shape. */
export interface ValidationFailure {
  error: NodeErrorEntry;
  node_errors: Record<string, { errors: NodeErrorEntry[]; dependent_outputs: string[]; class_type: string }>;
}

const isLink = (value: unknown): value is [string, number] =>
  Array.isArray(value) && value.length === 2 && typeof value[1] === "number";

function topLevel(type: string, message: string, details = ""): ValidationFailure {
  return { error: { type, message, details, extra_info: {} }, node_errors: {} };
}

function inputErrors(prompt: ApiPrompt, node: ApiNode, spec: NodeClass): NodeErrorEntry[] {
  const errors: NodeErrorEntry[] = [];
  for (const [name, type] of Object.entries(spec.inputs)) {
    const value = node.inputs?.[name];
    const extra = { input_name: name, received_value: value };
    if (value === undefined) {
      errors.push({
        type: "required_input_missing",
        message: "Required input is missing",
        details: name,
        extra_info: { input_name: name },
      });
    } else if (isLink(value)) {
      if (!prompt[String(value[0])])
        errors.push({
          type: "invalid_link",
          message: "Bad linked input",
          details: `${name}: node ${value[0]} does not exist`,
          extra_info: extra,
        });
    } else if (typeof type === "function") {
      const allowed = type();
      if (!allowed.includes(String(value)))
        errors.push({
          type: "value_not_in_list",
          message: "Value not in list",
          details: `${name}: '${String(value)}' not in [${allowed.map((item) => `'${item}'`).join(", ")}]`,
          extra_info: extra,
        });
    } else if ((type === "INT" || type === "FLOAT") && typeof value !== "number") {
      errors.push({
        type: "invalid_input_type",
        message: `Failed to convert an input value to a ${type} value`,
        details: `${name}, ${String(value)}`,
        extra_info: extra,
      });
    } else if (type === "STRING" && typeof value !== "string") {
      errors.push({
        type: "invalid_input_type",
        message: "Failed to convert an input value to a STRING value",
        details: `${name}, ${String(value)}`,
        extra_info: extra,
      });
    }
  }
  return errors;
}

/** `execution.validate_prompt`: the output node ids to run, or the 400 body. */
export function validatePrompt(prompt: unknown, lists: NodeLists): { outputs: string[] } | ValidationFailure {
  if (typeof prompt !== "object" || prompt === null || Array.isArray(prompt))
    return topLevel("invalid_prompt", "Invalid prompt", "the prompt is not an object");
  const graph = prompt as ApiPrompt;
  const classes = nodeClasses(lists);
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node?.class_type !== "string")
      return topLevel(
        "invalid_prompt",
        `Cannot execute because a node is missing the class_type property.: Node ID '#${id}'`,
      );
    const spec = classes[node.class_type];
    if (!spec)
      return topLevel(
        "invalid_prompt",
        `Cannot execute because node ${node.class_type} does not exist.: Node ID '#${id}'`,
      );
    if (spec.outputNode) outputs.push(id);
  }
  if (outputs.length === 0) return topLevel("prompt_no_outputs", "Prompt has no outputs");
  const failure: ValidationFailure = {
    error: {
      type: "prompt_outputs_failed_validation",
      message: "Prompt outputs failed validation",
      details: "",
      extra_info: {},
    },
    node_errors: {},
  };
  for (const [id, node] of Object.entries(graph)) {
    const errors = inputErrors(graph, node, classes[node.class_type] as NodeClass);
    if (errors.length > 0)
      failure.node_errors[id] = { errors, dependent_outputs: outputs, class_type: node.class_type };
  }
  return Object.keys(failure.node_errors).length > 0 ? failure : { outputs };
}

/** An image or latent batch as the emulator follows it: its size and each batch item's colour. */
export interface Pictures {
  width: number;
  height: number;
  colours: number[];
}

/** What an uploaded input image is. */
export interface InputImage {
  width: number;
  height: number;
  colour: number;
}

const numberInput = (node: ApiNode, name: string) => Number(node.inputs[name]);
const scaled = (p: Pictures, factor: number): Pictures => ({
  ...p,
  width: Math.round(p.width * factor),
  height: Math.round(p.height * factor),
});

/** The upscale factor a model's name says ("4x-UltraSharp.pth" → 4); 4 when it says none. */
export function modelFactor(name: string): number {
  const match = /(\d+)x/i.exec(name);
  return match ? Number(match[1]) : 4;
}

/** Evaluates node `id` (and what it reads); `loadInput` reads an uploaded file. */
export function evaluate(prompt: ApiPrompt, id: string, loadInput: (name: string) => InputImage): Pictures {
  const node = prompt[id] as ApiNode;
  const from = (name: string): Pictures => {
    const link = node.inputs[name] as [string, number];
    return evaluate(prompt, String(link[0]), loadInput);
  };
  switch (node.class_type) {
    case "EmptyLatentImage":
    case "EmptySD3LatentImage": {
      const batch = Math.max(1, numberInput(node, "batch_size"));
      return {
        width: numberInput(node, "width"),
        height: numberInput(node, "height"),
        colours: Array.from({ length: batch }, (_, index) => index),
      };
    }
    case "KSampler":
    case "KSamplerAdvanced": {
      // New content: each batch item takes its index's colour.
      const latent = from("latent_image");
      return { ...latent, colours: latent.colours.map((_, index) => index) };
    }
    case "RepeatLatentBatch": {
      const latent = from("samples");
      const amount = Math.max(1, numberInput(node, "amount"));
      return { ...latent, colours: Array.from({ length: amount }, () => latent.colours).flat() };
    }
    case "LoadImage": {
      const image = loadInput(String(node.inputs.image));
      return { width: image.width, height: image.height, colours: [image.colour] };
    }
    case "LatentUpscaleBy":
    case "ImageScaleBy":
      return scaled(
        from(node.class_type === "LatentUpscaleBy" ? "samples" : "image"),
        numberInput(node, "scale_by"),
      );
    case "ImageUpscaleWithModel": {
      const loader = prompt[String((node.inputs.upscale_model as [string, number])[0])];
      return scaled(from("image"), modelFactor(String(loader?.inputs.model_name ?? "")));
    }
    case "ImageScale":
      return { ...from("image"), width: numberInput(node, "width"), height: numberInput(node, "height") };
    case "VAEDecode":
    case "SaveImage":
    case "PreviewImage":
      return from(node.class_type === "VAEDecode" ? "samples" : "images");
    case "VAEEncode":
      return from("pixels");
    default:
      throw new Error(`the emulator cannot evaluate ${node.class_type}`);
  }
}

/** Node ids in an order where every node comes after the nodes it reads (ComfyUI's execution order). */
export function executionOrder(prompt: ApiPrompt, outputs: string[]): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id) || !prompt[id]) return;
    for (const value of Object.values(prompt[id].inputs ?? {})) if (isLink(value)) visit(String(value[0]));
    order.push(id);
  };
  for (const id of outputs) visit(id);
  return order;
}

/** Nodes that report progress (samplers, model upscales). */
export const workingNodes = new Set(["KSampler", "KSamplerAdvanced", "ImageUpscaleWithModel"]);
