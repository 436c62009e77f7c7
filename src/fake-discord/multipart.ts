import { Response } from "undici";

/** One `files[n]` part of a multipart request, as the bot uploaded it. */
export interface UploadedFile {
  /** Form field name, e.g. `files[0]`. */
  fieldName: string;
  /** The `n` of `files[n]`: what `attachments[].id` refers to in `payload_json`. */
  index: number | undefined;
  filename: string;
  contentType: string | undefined;
  bytes: Buffer;
}

export interface ParsedBody {
  /** JSON body, or `payload_json` of a multipart body; undefined when there is no body. */
  json: unknown;
  files: UploadedFile[];
}

export class BodyParseError extends Error {}

const FILE_FIELD = /^files\[(\d+)\]$/;

/** Parses a REST request body the way Discord accepts it: JSON, or multipart with `payload_json` + `files[n]`. */
export async function parseRequestBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  if (contentType?.startsWith("multipart/form-data")) return parseMultipart(raw, contentType);
  return { json: parseJson(raw.toString("utf8")), files: [] };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyParseError("The request body contains invalid JSON.");
  }
}

/** undici's spec-compliant FormData parser saves us from hand-rolling boundary handling. */
async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  let json: unknown;
  const files: UploadedFile[] = [];
  for (const [fieldName, value] of form.entries()) {
    if (typeof value === "string") {
      if (fieldName === "payload_json") json = parseJson(value);
      continue;
    }
    const index = FILE_FIELD.exec(fieldName)?.[1];
    files.push({
      fieldName,
      index: index === undefined ? undefined : Number(index),
      filename: value.name,
      contentType: value.type === "" ? undefined : value.type,
      bytes: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files };
}
