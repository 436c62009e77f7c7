// The simple hosted "Midjourney API" JSON (seed 000, reference/image-apis.md §2), the only place
// that knows it: the create answer, task bodies (polls and webhooks are one shape) and HTTP errors,
// in Atelier's terms.
import { z } from "zod";
import { silentLogger } from "../log.ts";
import type { HttpErrorResponse, ProviderLogger } from "./http.ts";
import { progressOf } from "./shared.ts";
import { ProviderError, type TaskSnapshot, type TaskStatus } from "./types.ts";

export const mjapiLabel = "MJAPI";
const label = mjapiLabel;
const keySetting = "MJAPI_API_KEY";

// ---------------------------------------------------------------------------------------------
// Wire format

export const createdSchema = z.object({
  task_id: z.union([z.string().min(1), z.number()]).transform(String),
});

const errorFieldSchema = z.union([
  z.string(),
  z.object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).optional() }),
]);

export const mjapiTaskSchema = z.object({
  task_id: z.union([z.string(), z.number()]).transform(String).optional(),
  status: z.string(),
  progress: z.union([z.number(), z.string()]).nullish(),
  images: z.array(z.string()).nullish(),
  error: errorFieldSchema.nullish(),
});

type WireTask = z.infer<typeof mjapiTaskSchema>;

const httpErrorBodySchema = z.object({ error: errorFieldSchema.optional(), message: z.string().optional() });

// ---------------------------------------------------------------------------------------------
// Pure mapping (exported for tests)

const statusByWire: Record<string, TaskStatus> = {
  pending: "queued",
  queued: "queued",
  processing: "running",
  in_progress: "running",
  running: "running",
  completed: "completed",
  failed: "failed",
};

const refusalPattern = /banned|policy|moderat|nsfw|inappropriate|prohibited|not allowed|blocked/i;
const transientPattern = /time(d)? ?out|overload|busy|try again|temporar|rate limit|unavailable/i;

function errorText(error: z.infer<typeof errorFieldSchema> | null | undefined): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === "string" ? error : error.message;
}

function errorCode(error: z.infer<typeof errorFieldSchema> | null | undefined): string | undefined {
  return typeof error === "object" && error !== null && error.code !== undefined
    ? String(error.code)
    : undefined;
}

/** A failed task's error in our terms: refused prompts, passing trouble, or the service's fault. */
export function classifyTaskFailure(message: string | undefined, code?: string): ProviderError {
  const text = message?.trim() || "no reason given";
  if (refusalPattern.test(text) || refusalPattern.test(code ?? "")) {
    return new ProviderError("refused", `${label} refused the prompt: ${text}`, { code, reason: text });
  }
  if (transientPattern.test(text)) {
    return new ProviderError("transient", `${label} could not finish the image: ${text}`, { code });
  }
  return new ProviderError("internal", `${label} failed to make the image: ${text}`, { code });
}

/** Our snapshot of one wire task; unknown statuses count as running (and are logged). */
export function toSnapshot(
  taskId: string,
  wire: WireTask,
  logger: ProviderLogger = silentLogger,
): TaskSnapshot {
  let status = statusByWire[wire.status.toLowerCase()];
  if (status === undefined) {
    logger.debug(`${label}: unknown task status, treating it as running`, { taskId, status: wire.status });
    status = "running";
  }
  const progress = progressOf(wire.progress);
  const snapshot: TaskSnapshot = {
    taskId,
    status,
    imageUrls: [],
    ...(progress === undefined ? {} : { progress }),
  };
  if (status === "failed") {
    return { ...snapshot, error: classifyTaskFailure(errorText(wire.error), errorCode(wire.error)) };
  }
  if (status !== "completed") return snapshot;
  const images = wire.images ?? [];
  if (images.length === 0) {
    const error = new ProviderError("internal", `${label} reported the task completed but sent no images.`);
    return { ...snapshot, status: "failed", error };
  }
  return { ...snapshot, progress: 100, imageUrls: images };
}

/** Maps a non-2xx answer; the setting to fix is named so an admin knows where to look. */
export function mapMjapiHttpError(response: HttpErrorResponse): ProviderError | undefined {
  const parsed = httpErrorBodySchema.safeParse(response.body);
  const message = (parsed.success ? (errorText(parsed.data.error) ?? parsed.data.message) : undefined)?.slice(
    0,
    300,
  );
  const code = String(response.status);
  switch (response.status) {
    case 401:
    case 403:
      return new ProviderError("auth", `${label} rejected the API key (HTTP ${code}): check ${keySetting}.`, {
        code,
      });
    case 402:
      return new ProviderError(
        "quota",
        `${label} says the account is out of credits (HTTP 402): top it up.`,
        { code },
      );
    case 400:
    case 422:
      if (message !== undefined && refusalPattern.test(message)) {
        return new ProviderError("refused", `${label} refused the prompt: ${message}`, {
          code,
          reason: message,
        });
      }
      return new ProviderError(
        "invalid",
        `${label} did not accept the request: ${message ?? `HTTP ${code}`}`,
        { code },
      );
    case 404:
      return new ProviderError(
        "internal",
        `${label} does not know ${response.method} ${response.path} (HTTP 404): check MJAPI_BASE_URL, or the task expired.`,
        { code },
      );
    case 429:
    case 503:
      return new ProviderError("transient", `${label} is busy (HTTP ${code}); try again in a minute.`, {
        code,
      });
    default:
      return undefined;
  }
}
