// Black Forest Labs' JSON, the only place that knows it: the create answer, get_result (and webhook)
// bodies, FastAPI error bodies, task statuses as Atelier's errors, and the set's task id: BFL makes
// one image per task, so one Atelier task is four BFL tasks, named in one id a restart can poll.
import { z } from "zod";
import { type HttpErrorResponse, redactExcerpt } from "./http.ts";
import { ProviderError } from "./types.ts";

export const bflCreateSchema = z.object({
  id: z.string().min(1),
  polling_url: z.string().min(1).nullish(),
  cost: z.number().nullish(),
});

const sampleSchema = z.object({ sample: z.string().nullish(), seed: z.number().nullish() }).passthrough();

export const bflResultSchema = z.object({
  id: z.string().nullish(),
  status: z.string().min(1),
  result: sampleSchema.nullish(),
  progress: z.number().nullish(),
  details: z.unknown().optional(),
});

export type BflResult = z.infer<typeof bflResultSchema>;

/** A webhook: BFL's guides show `{id, status: "Ready", result}`, integrators log `{task_id, status: "SUCCESS", …}`. */
export const bflWebhookSchema = z
  .object({
    id: z.string().min(1).optional(),
    task_id: z.string().min(1).optional(),
    status: z.string().min(1),
    result: sampleSchema.nullish(),
    progress: z.number().nullish(),
    error: z.unknown().optional(),
    details: z.unknown().optional(),
  })
  .refine((body) => body.id !== undefined || body.task_id !== undefined, { message: "no task id" });

/** What a status means for the set: still running, one image ready, or the end of the set. */
export type TaskState = "pending" | "ready" | "failed";

export function stateOf(status: string): TaskState {
  switch (status) {
    case "Ready":
    case "SUCCESS":
      return "ready";
    case "Error":
    case "Failed":
    case "FAILED":
    case "Task not found":
    case "Request Moderated":
    case "Content Moderated":
      return "failed";
    default:
      // Pending, and statuses BFL may add: still running; the job layer's timeout bounds it.
      return "pending";
  }
}

/** BFL's `progress` as 0..100: a 0–1 fraction in the API reference, read as percent when above 1. */
export function percentOf(progress: number | null | undefined): number | undefined {
  if (progress === null || progress === undefined || !Number.isFinite(progress)) return undefined;
  const percent = progress <= 1 ? progress * 100 : progress;
  return Math.round(Math.max(0, Math.min(100, percent)));
}

/** "Moderation Reasons" (or any strings) out of a `details` object, joined. */
function reasonsOf(details: unknown): string | undefined {
  if (typeof details === "string") return details || undefined;
  if (typeof details !== "object" || details === null) return undefined;
  const texts = Object.values(details).flatMap((value) =>
    Array.isArray(value)
      ? value.filter((item) => typeof item === "string")
      : typeof value === "string"
        ? [value]
        : [],
  );
  return texts.length > 0 ? texts.join(", ") : undefined;
}

/** A failed task as the error the set ends with, in BFL's words; `image` is its place in the set. */
export function taskFailure(
  status: string,
  taskId: string,
  image: number,
  details: unknown,
  secrets: readonly string[],
): ProviderError {
  const reasons = reasonsOf(details);
  const said = reasons ? `: ${redactExcerpt(reasons, secrets, 200)}` : "";
  const moderated = status.includes("Moderated") || (reasons ?? "").includes("Moderated");
  if (moderated) {
    const what =
      status === "Content Moderated"
        ? `BFL's safety filter withheld image ${image} it made (${status}${said})`
        : `BFL refused the prompt (${status}${said})`;
    return new ProviderError("refused", `${what}.`, { code: status, reason: reasons ?? status });
  }
  if (status === "Task not found") {
    return new ProviderError(
      "internal",
      `BFL does not know task ${taskId} (image ${image} of this set): its results may have expired, or BFL_BASE_URL points at another service.`,
      { code: "task_not_found" },
    );
  }
  return new ProviderError("internal", `BFL failed to make image ${image} (${status}${said}).`, {
    code: status,
  });
}

/** The text of a FastAPI `detail` (a string, or a list of `{loc, msg}`), or of `{message}`/`{error}`. */
function detailOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { detail, message, error } = body as Record<string, unknown>;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const parts = detail.map((item) => {
      const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
      const field = Array.isArray(loc) ? loc.filter((part) => part !== "body").join(".") : "";
      return field ? `${field}: ${String(msg)}` : String(msg);
    });
    return parts.join("; ");
  }
  if (typeof message === "string") return message;
  return typeof error === "string" ? error : undefined;
}

export function mapBflHttpError(response: HttpErrorResponse, secrets: readonly string[]): ProviderError {
  const { status } = response;
  const said = redactExcerpt(detailOf(response.body) ?? response.excerpt, secrets, 300);
  const code = String(status);
  if (status === 401 || status === 403)
    return new ProviderError("auth", `BFL rejected the API key (${said}): check BFL_API_KEY.`, { code });
  if (status === 402)
    return new ProviderError(
      "quota",
      "The BFL account of BFL_API_KEY has run out of credits: an admin must add credits at dashboard.bfl.ai.",
      { code },
    );
  if (status === 429)
    return new ProviderError(
      "transient",
      "BFL is running as many tasks as this account may have at once (24 on most models): try again in a minute.",
      { code },
    );
  if (status >= 500)
    return new ProviderError("transient", `BFL is having trouble (HTTP ${status}): try again shortly.`, {
      code,
    });
  if (status === 404) {
    const what = response.method === "GET" ? "the task" : `the model ${response.path.replace(/^\/v1\//, "")}`;
    // get_result answers an unknown task with 200 "Task not found": a 404 means a wrong route.
    return new ProviderError("internal", `BFL does not know ${what}: check BFL_MODEL and BFL_BASE_URL.`, {
      code: "no_such_route",
    });
  }
  if (/moderat/i.test(said))
    return new ProviderError("refused", `BFL refused the prompt: ${said}`, { code, reason: said });
  return new ProviderError("invalid", `BFL rejected the request: ${said}`, { code });
}

// --- the set's task id ---------------------------------------------------------------------------

export interface BflSubTask {
  id: string;
  /** Where BFL said to poll it; absent when that is `<base>/v1/get_result?id=<id>`. */
  pollingUrl?: string;
}

/** One Atelier task: the BFL tasks of one set, in reading order, and the seed of the first. */
export interface BflSet {
  seed: number;
  tasks: BflSubTask[];
}

const prefix = "bfl:";

/** The default polling URL of `id` below `baseUrl`. */
export function defaultPollingUrl(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/get_result?id=${encodeURIComponent(id)}`;
}

/**
 * `bfl:<seed>:<id1>,<id2>,<id3>,<id4>`; a task polled elsewhere than the default (a regional host)
 * carries its URL: `<id>@<url-encoded polling url>`. Everything a restart needs, nothing secret.
 */
export function encodeSetId(set: BflSet, baseUrl: string): string {
  const entries = set.tasks.map((task) => {
    const id = encodeURIComponent(task.id);
    const polling = task.pollingUrl;
    const plain = polling === undefined || polling === defaultPollingUrl(baseUrl, task.id);
    return plain ? id : `${id}@${encodeURIComponent(polling)}`;
  });
  return `${prefix}${set.seed}:${entries.join(",")}`;
}

/** The set named by a task id (a `#U2`-style suffix of a picked image is ignored); undefined if it is none. */
export function decodeSetId(taskId: string): BflSet | undefined {
  const match = /^bfl:(\d+):([^#]+)(?:#.*)?$/.exec(taskId);
  if (!match) return undefined;
  const tasks: BflSubTask[] = [];
  for (const entry of (match[2] ?? "").split(",")) {
    const [id, polling] = entry.split("@");
    if (!id) return undefined;
    try {
      tasks.push({
        id: decodeURIComponent(id),
        ...(polling ? { pollingUrl: decodeURIComponent(polling) } : {}),
      });
    } catch {
      return undefined;
    }
  }
  return { seed: Number(match[1]), tasks };
}
