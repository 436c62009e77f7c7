// Sending to OpenAI: a set's request (a generation, or a JSON edit naming the prompt's image links) or
// an edit of images Atelier holds (multipart), each opened as a stream and handed to the task book,
// which keeps it while the images arrive and asks again for missing ones with the same body.
import { randomUUID } from "node:crypto";
import type { ParsedPrompt } from "../prompt/types.ts";
import type { ResultBlobs } from "../store/blobs.ts";
import {
  editPrompt,
  type ImageSize,
  type OpenAiQuality,
  planGeneration,
  referenceInstruction,
  sizeText,
  traitsOf,
} from "./openai-plan.ts";
import { FormData, type StreamTransport } from "./openai-stream.ts";
import type { StreamedRequest, TaskBook } from "./openai-tasks.ts";
import type { ImageInput, ProviderWarning, Quality, SubmitResult } from "./types.ts";

/** Images in a set: one request asks for all four (`n: 4`). */
export const setSize = 4;

/** One configured OpenAI account, as every call below needs it. */
export interface OpenAi {
  transport: StreamTransport;
  tasks: TaskBook;
  model: string;
  blobs: ResultBlobs;
  partials: number;
}

/** What an edit sends besides the model and the stream settings. */
export interface EditSpec {
  prompt: string;
  images: ImageInput[];
  mask?: Buffer;
  size: ImageSize;
  quality: OpenAiQuality;
  fidelity?: "high" | "low";
}

/** Sends the first request and hands its stream to the task book; OpenAI's errors reject here. */
async function submit(
  openai: OpenAi,
  path: string,
  body: (count: number) => Record<string, unknown> | FormData,
  warnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  // The stream outlives this call: only the sending listens to the caller's signal.
  const control = new AbortController();
  const relay = () => control.abort(signal?.reason);
  signal?.addEventListener("abort", relay, { once: true });
  const request: StreamedRequest = {
    count: setSize,
    partials: openai.partials,
    open: (count, streamSignal) => openai.transport.open(path, body(count), streamSignal),
  };
  try {
    const first = await request.open(setSize, control.signal);
    // OpenAI's request id names the task (support asks for it); anything odd gets an id of our own.
    const given = first.requestId;
    const usable = given !== undefined && /^[\w.-]{1,100}$/.test(given) && !openai.tasks.has(given);
    const taskId = usable ? given : `openai-${randomUUID()}`;
    openai.tasks.start(taskId, request, first, control);
    return { kind: "task", taskId, warnings };
  } finally {
    signal?.removeEventListener("abort", relay);
  }
}

export async function generate(
  openai: OpenAi,
  prompt: ParsedPrompt,
  quality: Quality | undefined,
  extraWarnings: ProviderWarning[],
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const planned = planGeneration(prompt, { quality }, openai.model);
  if ("error" in planned) throw planned.error;
  const { plan } = planned;
  const warnings = [...extraWarnings, ...plan.warnings];
  const common = (count: number) => ({
    model: openai.model,
    n: count,
    size: sizeText(plan.size),
    quality: plan.quality,
    stream: true,
    partial_images: openai.partials,
  });
  if (plan.images.length === 0) {
    return submit(
      openai,
      "/images/generations",
      (count) => ({ ...common(count), prompt: plan.text }),
      warnings,
      signal,
    );
  }
  // Image prompts and reference links: a JSON edit naming them; OpenAI fetches the links itself.
  const body = (count: number) => ({
    ...common(count),
    prompt: editPrompt(referenceInstruction, plan.text),
    images: plan.images.map((url) => ({ image_url: url })),
  });
  return submit(openai, "/images/edits", body, warnings, signal);
}

function fileName(image: ImageInput, index: number): string {
  return `image-${index + 1}.${image.contentType.split("/")[1] ?? "png"}`;
}

function editForm(openai: OpenAi, spec: EditSpec, count: number): FormData {
  const form = new FormData();
  form.set("model", openai.model);
  form.set("prompt", spec.prompt);
  form.set("n", String(count));
  form.set("size", sizeText(spec.size));
  form.set("quality", spec.quality);
  form.set("stream", "true");
  form.set("partial_images", String(openai.partials));
  if (spec.fidelity && traitsOf(openai.model).inputFidelity) form.set("input_fidelity", spec.fidelity);
  spec.images.forEach((image, index) => {
    form.append("image[]", new Blob([image.bytes], { type: image.contentType }), fileName(image, index));
  });
  if (spec.mask) form.set("mask", new Blob([spec.mask], { type: "image/png" }), "mask.png");
  return form;
}

export function edit(openai: OpenAi, spec: EditSpec, warnings: ProviderWarning[], signal?: AbortSignal) {
  return submit(openai, "/images/edits", (count) => editForm(openai, spec, count), warnings, signal);
}
