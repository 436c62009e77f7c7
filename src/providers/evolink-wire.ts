// EvoLink's JSON, the only place that knows it: the task body (create answer, query answer and
// callback are one shape), its statuses and error codes, and HTTP errors in Atelier's terms.
import { z } from "zod";
import { type HttpErrorResponse, redactExcerpt } from "./http.ts";
import { ProviderError, type ProviderErrorKind, type TaskSnapshot, type TaskStatus } from "./types.ts";

const resultSchema = z.union([z.string(), z.object({ url: z.string() }).transform((result) => result.url)]);

export const evolinkTaskSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  progress: z.number().nullish(),
  results: z.array(resultSchema).nullish(),
  error: z
    .object({ code: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() })
    .nullish(),
  usage: z.object({ credits_reserved: z.number().nullish() }).nullish(),
  task_info: z.object({ can_cancel: z.boolean().nullish(), estimated_time: z.number().nullish() }).nullish(),
});

export type EvolinkTask = z.infer<typeof evolinkTaskSchema>;

const errorBodySchema = z.object({
  error: z.object({
    code: z.union([z.string(), z.number()]).nullish(),
    message: z.string().nullish(),
    type: z.string().nullish(),
  }),
});

const taskErrorKinds: Record<string, ProviderErrorKind> = {
  content_policy_violation: "refused",
  invalid_parameters: "invalid",
  image_dimension_mismatch: "invalid",
  // A reference image that could not be read is the user's to fix, like a bad parameter.
  image_processing_error: "invalid",
  quota_exceeded: "quota",
  resource_exhausted: "quota",
  service_unavailable: "transient",
  service_error: "transient",
  generation_timeout: "transient",
};

/** The quoted word in a refusal message ("…banned word "gore"…"), else the whole message. */
function refusalReason(message: string): string {
  const quoted = /["'“‘`]([^"'”’`]{1,80})["'”’`]/.exec(message);
  return quoted?.[1] ?? message;
}

function errorFromCode(code: string, rawMessage: string | undefined, secrets: string[]): ProviderError {
  const message = redactExcerpt(rawMessage ?? code, secrets, 300);
  const kind = taskErrorKinds[code] ?? "internal";
  switch (kind) {
    case "refused":
      return new ProviderError("refused", `EvoLink refused the prompt (content policy): ${message}`, {
        code,
        reason: refusalReason(message),
      });
    case "invalid":
      return new ProviderError("invalid", `EvoLink could not run this prompt: ${message}`, { code });
    case "quota":
      return new ProviderError(
        "quota",
        `EvoLink's account has no capacity left (${code}): top up or tell an admin.`,
        { code },
      );
    case "transient":
      return new ProviderError("transient", `EvoLink could not finish the images (${code}): try again.`, {
        code,
      });
    default:
      return new ProviderError("internal", `EvoLink failed the task (${code}): ${message}`, { code });
  }
}

/** A status EvoLink names by itself: the key, the balance, the rate limit, an outage. */
function statusError(status: number, code: string | undefined): ProviderError | undefined {
  if (status === 401 || status === 403) {
    return new ProviderError("auth", "EvoLink rejected the API key: check EVOLINK_API_KEY.", {
      code: code ?? String(status),
    });
  }
  if (status === 402) {
    return new ProviderError("quota", "EvoLink account balance is insufficient: top up or tell an admin.", {
      code: code ?? "402",
    });
  }
  if (status === 429) {
    return new ProviderError("transient", "EvoLink is rate-limiting requests: try again in a minute.", {
      code: code ?? "429",
    });
  }
  if (status >= 500) {
    return new ProviderError("transient", `EvoLink is having trouble (HTTP ${status}): try again shortly.`, {
      code: code ?? String(status),
    });
  }
  return undefined;
}

export function mapEvolinkHttpError(response: HttpErrorResponse, secrets: string[]): ProviderError {
  const parsed = errorBodySchema.safeParse(response.body);
  const code = parsed.success && parsed.data.error.code != null ? String(parsed.data.error.code) : undefined;
  const message = parsed.success ? (parsed.data.error.message ?? undefined) : undefined;
  const { status } = response;
  const byStatus = statusError(status, code);
  if (byStatus) return byStatus;
  // A task error code on a 4xx (e.g. content_policy_violation at submit) says more than the status.
  if (code && code in taskErrorKinds) return errorFromCode(code, message, secrets);
  if (status === 404) {
    const what = response.method === "GET" ? "the task (it may have expired)" : `${response.path}`;
    return new ProviderError("internal", `EvoLink could not find ${what}: check EVOLINK_BASE_URL.`, {
      code: code ?? "404",
    });
  }
  if (status >= 400 && status < 500) {
    const detail = redactExcerpt(message ?? response.excerpt, secrets, 300);
    return new ProviderError("invalid", `EvoLink rejected the request: ${detail}`, {
      code: code ?? String(status),
    });
  }
  return new ProviderError("internal", `EvoLink answered HTTP ${status}.`, { code: code ?? String(status) });
}

function statusOf(task: EvolinkTask): TaskStatus {
  switch (task.status) {
    case "pending":
      return "queued";
    case "processing":
      return "running";
    case "completed":
      return "completed";
    case "cancelled":
    case "canceled":
      return "cancelled";
    case "failed":
      return task.error?.code === "request_cancelled" ? "cancelled" : "failed";
    default:
      // An undocumented status is treated as still running; the job layer's timeout bounds it.
      return "running";
  }
}

export function evolinkSnapshot(task: EvolinkTask, secrets: string[]): TaskSnapshot {
  const status = statusOf(task);
  const snapshot: TaskSnapshot = { taskId: task.id, status, imageUrls: task.results ?? [] };
  if (task.progress != null) snapshot.progress = Math.max(0, Math.min(100, task.progress));
  if (task.usage?.credits_reserved != null) snapshot.usage = { credits: task.usage.credits_reserved };
  if (status === "failed") {
    const code = task.error?.code == null ? "unknown_error" : String(task.error.code);
    snapshot.error = errorFromCode(code, task.error?.message ?? undefined, secrets);
  }
  if (status === "completed" && snapshot.imageUrls.length === 0) {
    snapshot.status = "failed";
    snapshot.error = new ProviderError("internal", "EvoLink finished the task without any images.", {
      code: "no_results",
    });
  }
  return snapshot;
}
