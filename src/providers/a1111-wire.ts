// The AUTOMATIC1111 / Forge / SD.Next API's JSON as Atelier reads it (modules/api/models.py), its
// errors in the admin's and the user's terms, HTTP basic auth for `--api-auth`, and the task ids:
// what a set was made from (kind, instance, seed, variation seed and strength), so a follow-up and a
// restarted bot can read it back without any state of their own.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { HttpErrorResponse } from "./http.ts";
import { ProviderError } from "./types.ts";

export const generationSchema = z.object({
  images: z.array(z.string()).nullable().optional(),
  info: z.string().optional(),
});
export type GenerationAnswer = z.infer<typeof generationSchema>;

/** What Atelier reads of `info` (Processed.js()): the seeds and where the batch's own images start. */
const infoSchema = z.object({
  all_seeds: z.array(z.number()).optional(),
  all_subseeds: z.array(z.number()).optional(),
  index_of_first_image: z.number().int().min(0).optional(),
});

export function parseInfo(info: string | undefined): z.infer<typeof infoSchema> {
  try {
    const parsed = infoSchema.safeParse(JSON.parse(info ?? "{}"));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export const progressSchema = z.object({
  progress: z.number(),
  eta_relative: z.number().optional(),
  state: z
    .object({
      interrupted: z.boolean().optional(),
      job: z.string().optional(),
      job_count: z.number().optional(),
    })
    .passthrough(),
  current_image: z.string().nullable().optional(),
  textinfo: z.string().nullable().optional(),
});
export type ProgressAnswer = z.infer<typeof progressSchema>;

export const upscaleSchema = z.object({ image: z.string().nullable().optional() });
export const modelsSchema = z.array(z.object({ title: z.string(), model_name: z.string() }).passthrough());
export const upscalersSchema = z.array(z.object({ name: z.string() }).passthrough());
export const emptySchema = z.unknown();

/** The `Authorization` header for `user:password` (A1111_AUTH), and the values never to log. */
export function basicAuth(auth: string | undefined): { headers: Record<string, string>; secrets: string[] } {
  if (!auth) return { headers: {}, secrets: [] };
  const token = Buffer.from(auth, "utf8").toString("base64");
  const password = auth.slice(auth.indexOf(":") + 1);
  return { headers: { authorization: `Basic ${token}` }, secrets: [token, auth, password] };
}

/** FastAPI's 422: `{"detail":[{loc, msg, type}]}`, as one line. */
function validationText(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (!Array.isArray(detail)) return typeof detail === "string" && detail !== "" ? detail : undefined;
  return detail
    .map((issue: { loc?: unknown[]; msg?: string }) => {
      const where = (issue.loc ?? []).filter((part) => part !== "body").join(".");
      return where ? `${where}: ${issue.msg ?? "invalid"}` : (issue.msg ?? "invalid");
    })
    .join("; ");
}

/** The app's own error body (`handle_exception`): `{error, detail, body, errors}`. */
function appErrorText(body: unknown): string | undefined {
  const record = body as { detail?: unknown; errors?: unknown } | undefined;
  if (typeof record?.detail === "string" && record.detail !== "") return record.detail;
  return typeof record?.errors === "string" && record.errors !== "" ? record.errors : undefined;
}

/** A non-2xx answer of one instance, in terms an admin (auth, URL) or a user (422) can act on. */
export function mapA1111HttpError(
  response: HttpErrorResponse,
  url: string,
  hasAuth: boolean,
): ProviderError | undefined {
  const { status, body } = response;
  const at = `A1111 at ${url}`;
  if (status === 401 || status === 403) {
    const fix = hasAuth
      ? "check that A1111_AUTH is the user:password given to --api-auth"
      : "it was started with --api-auth: set A1111_AUTH to its user:password";
    return new ProviderError("auth", `${at} refused the login (HTTP ${status}): ${fix}.`, {
      code: String(status),
    });
  }
  if (status === 422)
    return new ProviderError(
      "invalid",
      `${at} refused the request: ${validationText(body) ?? response.excerpt}.`,
      { code: "422" },
    );
  if (status === 404 && (body as { detail?: unknown } | undefined)?.detail === "Not Found")
    return new ProviderError(
      "internal",
      `${at} has no API at ${response.path}: start it with --api (and check A1111_URL).`,
      { code: "404" },
    );
  const text = appErrorText(body);
  if (status >= 400 && status < 500)
    return new ProviderError("internal", `${at} answered HTTP ${status}: ${text ?? response.excerpt}.`, {
      code: String(status),
    });
  if (status >= 500 && text)
    return new ProviderError("transient", `${at} failed (HTTP ${status}): ${text}.`, {
      code: String(status),
    });
  return undefined;
}

/** A set of four (txt2img), a variation set (txt2img with a variation seed) or one upscaled image. */
export type TaskKind = "set" | "up";

/** Everything a task id carries. `instance` is undefined when the task waited for a free machine. */
export interface TaskIdentity {
  kind: TaskKind;
  instance?: number;
  seed: number;
  subseed: number;
  /** The variation strength in thousandths (0 for a plain set). */
  strength: number;
  nonce: string;
}

const prefix = "a1111";

export function encodeTaskId(task: Omit<TaskIdentity, "nonce">): string {
  const nonce = randomUUID().slice(0, 8);
  return [prefix, task.kind, task.instance ?? "q", task.seed, task.subseed, task.strength, nonce].join(".");
}

export function decodeTaskId(taskId: string): TaskIdentity | undefined {
  const match = /^a1111\.(set|up)\.(\d+|q)\.(\d+)\.(\d+)\.(\d+)\.([0-9a-f]{8})$/.exec(
    taskId.split("#")[0] ?? "",
  );
  if (!match) return undefined;
  return {
    kind: match[1] as TaskKind,
    instance: match[2] === "q" ? undefined : Number(match[2]),
    seed: Number(match[3]),
    subseed: Number(match[4]),
    strength: Number(match[5]),
    nonce: match[6] as string,
  };
}

/** Bytes' content type from their first bytes (A1111 answers PNG, JPEG or WebP as `samples_format` says). */
export function imageTypeOf(bytes: Buffer): string {
  if (bytes.subarray(0, 3).toString("hex") === "ffd8ff") return "image/jpeg";
  if (bytes.subarray(0, 4).toString("ascii") === "RIFF" && bytes.subarray(8, 12).toString("ascii") === "WEBP")
    return "image/webp";
  return "image/png";
}

/** A base64 image as A1111 sends it (a `data:` prefix tolerated). */
export function imageBytes(encoded: string): Buffer {
  return Buffer.from(encoded.startsWith("data:") ? (encoded.split(",")[1] ?? "") : encoded, "base64");
}
