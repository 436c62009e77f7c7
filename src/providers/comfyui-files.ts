import { type Dispatcher, FormData } from "undici";
import type { LiveFeed } from "./comfyui-live.ts";
import { type ImageRef, uploadedSchema } from "./comfyui-wire.ts";
import type { HttpClient } from "./http.ts";
import type { PoolInstance } from "./pool.ts";
import { ProviderError } from "./types.ts";

/** One ComfyUI server of COMFYUI_URL. */
export interface Machine {
  instance: PoolInstance;
  http: HttpClient;
  live: LiveFeed;
  dispatcher: Dispatcher;
}

/** What a task runs: started again as it is on another machine when its machine dies. */
export type Work = (machine: Machine, signal?: AbortSignal) => Promise<string>;

const maxImageBytes = 64 * 1024 * 1024;

export function machineError(machine: Machine, message: string, code: string): ProviderError {
  return new ProviderError("internal", `ComfyUI at ${machine.instance.url}: ${message}`, { code });
}

/** GET `/view` of one result image (bytes, not JSON). */
export async function download(
  machine: Machine,
  ref: ImageRef,
  signal?: AbortSignal,
): Promise<{ bytes: Buffer; type: string }> {
  const url = new URL(`${machine.instance.url}/view`);
  url.search = new URLSearchParams({
    filename: ref.filename,
    subfolder: ref.subfolder,
    type: ref.type,
  }).toString();
  let response: Dispatcher.ResponseData;
  try {
    response = await machine.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      signal: signal ?? null,
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
  } catch (error) {
    throw new ProviderError(
      "transient",
      `ComfyUI at ${machine.instance.url} did not send image ${ref.filename}.`,
      { code: "view", cause: error },
    );
  }
  const bytes = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 200 || bytes.length === 0 || bytes.length > maxImageBytes)
    throw machineError(
      machine,
      `image ${ref.filename} could not be read (HTTP ${response.statusCode}).`,
      "view",
    );
  const type = String(response.headers["content-type"] ?? "image/png");
  return { bytes, type: type.startsWith("image/") ? type : "image/png" };
}

/** POST `/upload/image`: the image in the machine's input folder; its name there. */
export async function upload(
  machine: Machine,
  bytes: Buffer,
  name: string,
  signal?: AbortSignal,
): Promise<string> {
  const form = new FormData();
  form.set("image", new Blob([bytes], { type: "image/png" }), name);
  form.set("overwrite", "true");
  form.set("type", "input");
  const url = new URL(`${machine.instance.url}/upload/image`);
  let response: Dispatcher.ResponseData;
  try {
    response = await machine.dispatcher.request({
      origin: url.origin,
      path: url.pathname,
      method: "POST",
      body: form,
      signal: signal ?? null,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
  } catch (error) {
    throw new ProviderError("transient", `Could not send the image to ComfyUI at ${machine.instance.url}.`, {
      code: errorCode(error),
      cause: error,
    });
  }
  const text = await response.body.text();
  const parsed = response.statusCode === 200 ? uploadedSchema.safeParse(safeJson(text)) : undefined;
  if (!parsed?.success)
    throw machineError(machine, `the image upload was refused (HTTP ${response.statusCode}).`, "upload");
  return parsed.data.subfolder ? `${parsed.data.subfolder}/${parsed.data.name}` : parsed.data.name;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "upload";
}
