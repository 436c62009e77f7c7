// OpenAI's JSON, the only place that knows it: the streamed events of the Images API, its error body,
// and both in Atelier's terms (which setting to fix, what to tell the person who asked).
import { z } from "zod";
import { type HttpErrorResponse, redactExcerpt } from "./http.ts";
import { openaiModels } from "./openai-plan.ts";
import { ProviderError } from "./types.ts";

const usageSchema = z.object({ total_tokens: z.number().nullish() }).passthrough();

/** `image_generation.partial_image` / `image_edit.partial_image`. */
export const partialImageSchema = z.object({
  type: z.string().regex(/\.partial_image$/),
  b64_json: z.string().min(1),
  partial_image_index: z.number().nullish(),
});

/** `image_generation.completed` / `image_edit.completed`. */
export const completedImageSchema = z.object({
  type: z.string().regex(/\.completed$/),
  b64_json: z.string().min(1),
  output_format: z.string().nullish(),
  usage: usageSchema.nullish(),
});

const errorDetailSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  param: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  moderation_details: z
    .object({ moderation_stage: z.string().nullish(), categories: z.array(z.string()).nullish() })
    .nullish(),
});

type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** OpenAI's error body, and the `error` event of a stream (the detail nested, or flat). */
const errorBodySchema = z.union([
  z.object({ error: errorDetailSchema }).transform((body) => body.error),
  errorDetailSchema,
]);

const contentTypes: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

export function contentTypeOf(format: string | null | undefined): string {
  return contentTypes[format ?? "png"] ?? "image/png";
}

/** The words OpenAI's safety system used, its categories when it named them. */
function refusal(detail: ErrorDetail, secrets: readonly string[]): ProviderError {
  const words = redactExcerpt(
    detail.message ?? "The request was rejected by OpenAI's safety system.",
    secrets,
    300,
  );
  const categories = detail.moderation_details?.categories ?? [];
  const stage = detail.moderation_details?.moderation_stage === "output" ? " (in the finished image)" : "";
  const named = categories.length > 0 ? ` Categories: ${categories.join(", ")}.` : "";
  return new ProviderError("refused", `OpenAI's safety system refused this${stage}: ${words}${named}`, {
    code: String(detail.code ?? "moderation_blocked"),
    reason: categories.length > 0 ? categories.join(", ") : words,
  });
}

const refusalCodes = new Set(["moderation_blocked", "content_policy_violation"]);

function isQuota(detail: ErrorDetail): boolean {
  return detail.code === "insufficient_quota" || detail.type === "insufficient_quota";
}

function unknownModel(model: string): ProviderError {
  return new ProviderError(
    "invalid",
    `OpenAI does not offer the model ${model} to this key: set OPENAI_IMAGE_MODEL to one it has (${Object.keys(openaiModels).join(", ")}).`,
    { code: "model_not_found" },
  );
}

/** A refusal, a quota, a bad model or a plain rejection, whatever the status it came with. */
function errorFromDetail(
  detail: ErrorDetail,
  model: string,
  secrets: readonly string[],
): ProviderError | undefined {
  if (refusalCodes.has(String(detail.code))) return refusal(detail, secrets);
  if (isQuota(detail)) {
    return new ProviderError(
      "quota",
      "OpenAI says the account has no credit left (insufficient_quota): add credit under Billing at platform.openai.com, or tell an admin.",
      { code: "insufficient_quota" },
    );
  }
  if (detail.code === "model_not_found" || detail.param === "model") return unknownModel(model);
  return undefined;
}

function statusError(
  status: number,
  detail: ErrorDetail | undefined,
  secrets: readonly string[],
): ProviderError {
  const code = detail?.code == null ? String(status) : String(detail.code);
  if (status === 401) {
    // OpenAI's 401 message echoes part of the key: it is never passed on.
    return new ProviderError("auth", "OpenAI rejected the API key: check OPENAI_API_KEY.", { code });
  }
  if (status === 403) {
    return new ProviderError(
      "auth",
      "OpenAI refused this key access to the model (HTTP 403). GPT Image models need a verified organization: check OPENAI_API_KEY's project and the organization's verification.",
      { code },
    );
  }
  if (status === 429) {
    return new ProviderError("transient", "OpenAI is rate-limiting this account: try again in a minute.", {
      code,
    });
  }
  if (status >= 500) {
    return new ProviderError("transient", `OpenAI is having trouble (HTTP ${status}): try again shortly.`, {
      code,
    });
  }
  const words = redactExcerpt(detail?.message ?? `HTTP ${status}`, secrets, 300);
  const param = detail?.param ? ` (${detail.param})` : "";
  return new ProviderError("invalid", `OpenAI rejected the request${param}: ${words}`, { code });
}

/** A non-2xx answer of the Images API in Atelier's terms. */
export function mapOpenAiHttpError(response: HttpErrorResponse, model: string, secrets: readonly string[]) {
  const parsed = errorBodySchema.safeParse(response.body);
  const detail = parsed.success ? parsed.data : undefined;
  if (response.status !== 401 && detail) {
    const named = errorFromDetail(detail, model, secrets);
    if (named) return named;
  }
  if (response.status === 404 && !detail?.code) {
    return new ProviderError("internal", `OpenAI has no ${response.path} here: check OPENAI_BASE_URL.`, {
      code: "404",
    });
  }
  return statusError(response.status, detail, secrets);
}

/** An `error` event in a stream: after the request was taken, so possibly billed. */
export function streamError(body: unknown, model: string, secrets: readonly string[]): ProviderError {
  const parsed = errorBodySchema.safeParse(body);
  const detail = parsed.success ? parsed.data : {};
  const named = errorFromDetail(detail, model, secrets);
  if (named) return named;
  const words = redactExcerpt(detail.message ?? "no reason given", secrets, 300);
  return new ProviderError("internal", `OpenAI stopped making the images: ${words}`, {
    code: String(detail.code ?? "stream_error"),
    maybeSubmitted: true,
  });
}

/** Whether a stream's data is an error rather than an image event. */
export function isErrorEvent(event: string | undefined, data: unknown): boolean {
  if (event === "error") return true;
  if (typeof data !== "object" || data === null) return false;
  const record = data as { type?: unknown; error?: unknown };
  return record.type === "error" || (record.error !== undefined && record.error !== null);
}
