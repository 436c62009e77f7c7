// Gemini's JSON, the only place that knows it: the generateContent answer (an image, or a refusal in
// Google's words), the model list, and Google's error format (google.rpc.Status with ErrorInfo,
// QuotaFailure and RetryInfo details) in Atelier's terms.
import { z } from "zod";
import { type HttpErrorResponse, redactExcerpt } from "./http.ts";
import { ProviderError } from "./types.ts";

const partSchema = z.object({
  text: z.string().nullish(),
  inlineData: z.object({ mimeType: z.string(), data: z.string() }).nullish(),
  /** Gemini 3 models can return their interim "thought" images; only the final image counts. */
  thought: z.boolean().nullish(),
});

const candidateSchema = z.object({
  content: z.object({ parts: z.array(partSchema).nullish() }).nullish(),
  finishReason: z.string().nullish(),
  finishMessage: z.string().nullish(),
});

export const generateResponseSchema = z
  .object({
    candidates: z.array(candidateSchema).nullish(),
    promptFeedback: z.object({ blockReason: z.string().nullish() }).nullish(),
    usageMetadata: z
      .object({ promptTokenCount: z.number().nullish(), candidatesTokenCount: z.number().nullish() })
      .nullish(),
    modelVersion: z.string().nullish(),
    responseId: z.string().nullish(),
  })
  .refine((answer) => answer.candidates != null || answer.promptFeedback != null, {
    message: "neither candidates nor promptFeedback",
  });

export type GenerateResponse = z.infer<typeof generateResponseSchema>;

/** One model resource (`GET /v1beta/models/{model}`). */
export const modelSchema = z.object({ name: z.string() });

export const modelListSchema = z.object({
  models: z
    .array(z.object({ name: z.string(), supportedGenerationMethods: z.array(z.string()).nullish() }))
    .nullish(),
});

/** One image of a set, as it came back. */
export interface GeneratedImage {
  bytes: Buffer;
  contentType: string;
  /** Tokens Gemini counted for the call (it bills by them). */
  promptTokens: number;
  outputTokens: number;
}

/** Finish reasons that mean "filtered for safety or policy" (js-genai FinishReason). */
const refusedFinishReasons = new Set([
  "SAFETY",
  "IMAGE_SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_RECITATION",
]);

function refused(message: string, code: string, reason: string): ProviderError {
  return new ProviderError("refused", message, { code, reason });
}

/** Why an answer carries no image, in Google's words (the block reason, the finish message, the model's text). */
function noImageError(answer: GenerateResponse, secrets: string[]): ProviderError {
  const blocked = answer.promptFeedback?.blockReason;
  if (blocked) return refused(`Gemini blocked the prompt (${blocked}): rephrase it.`, blocked, blocked);
  const candidate = answer.candidates?.[0];
  const finish = candidate?.finishReason ?? "NO_IMAGE";
  const words = (candidate?.content?.parts ?? [])
    .filter((part) => part.text && !part.thought)
    .map((part) => part.text)
    .join(" ");
  const said = redactExcerpt(words || candidate?.finishMessage || "", secrets, 400);
  if (refusedFinishReasons.has(finish))
    return refused(`Gemini refused the image (${finish})${said ? `: ${said}` : "."}`, finish, said || finish);
  if (said) return refused(`Gemini answered in words instead of an image: “${said}”`, finish, said);
  return new ProviderError(
    "transient",
    `Gemini returned no image (${finish}): try again, or reword the prompt.`,
    {
      code: finish,
    },
  );
}

/** The image of a generateContent answer (the last one that is not a thought), or why there is none. */
export function generatedImage(answer: GenerateResponse, secrets: string[]): GeneratedImage {
  const parts = answer.candidates?.[0]?.content?.parts ?? [];
  const image = parts
    .filter((part) => part.inlineData?.mimeType.startsWith("image/") && !part.thought)
    .at(-1);
  if (!image?.inlineData) throw noImageError(answer, secrets);
  const bytes = Buffer.from(image.inlineData.data, "base64");
  if (bytes.length === 0)
    throw new ProviderError("internal", "Gemini sent an empty image.", { code: "empty_image" });
  return {
    bytes,
    contentType: image.inlineData.mimeType,
    promptTokens: answer.usageMetadata?.promptTokenCount ?? 0,
    outputTokens: answer.usageMetadata?.candidatesTokenCount ?? 0,
  };
}

// --- Google's errors ----------------------------------------------------------------------------

const detailSchema = z.object({
  "@type": z.string().nullish(),
  reason: z.string().nullish(),
  retryDelay: z.string().nullish(),
  violations: z.array(z.object({ quotaId: z.string().nullish() })).nullish(),
});

const errorBodySchema = z.object({
  error: z.object({
    code: z.number().nullish(),
    message: z.string().nullish(),
    status: z.string().nullish(),
    details: z.array(z.unknown()).nullish(),
  }),
});

interface GoogleError {
  /** google.rpc.Code name: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, … */
  status?: string;
  message: string;
  /** ErrorInfo.reason, e.g. API_KEY_INVALID. */
  reason?: string;
  retryDelayMs?: number;
  quotaIds: string[];
}

/** "41s", "0.5s", "900ms" → milliseconds. */
function durationMs(text: string | null | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text?.trim() ?? "");
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (match[2] === "ms" ? 1 : 1000));
}

function readGoogleError(response: HttpErrorResponse, secrets: string[]): GoogleError {
  const parsed = errorBodySchema.safeParse(response.body);
  if (!parsed.success) return { message: response.excerpt, quotaIds: [] };
  const { error } = parsed.data;
  const details = (error.details ?? []).flatMap((detail) => {
    const read = detailSchema.safeParse(detail);
    return read.success ? [read.data] : [];
  });
  return {
    status: error.status ?? undefined,
    message: redactExcerpt(error.message ?? response.excerpt, secrets, 300),
    reason: details.find((detail) => detail.reason)?.reason ?? undefined,
    retryDelayMs: details.map((detail) => durationMs(detail.retryDelay)).find((ms) => ms !== undefined),
    quotaIds: details
      .flatMap((detail) => detail.violations ?? [])
      .flatMap((v) => (v.quotaId ? [v.quotaId] : [])),
  };
}

/** A 429 that passes: Google's RetryInfo says how long to wait, when it says. */
export class GeminiRateLimitError extends ProviderError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super("transient", message, { code: "RESOURCE_EXHAUSTED" });
  }
}

function rateLimitError(google: GoogleError): ProviderError {
  if (google.quotaIds.some((id) => /PerDay|Daily/i.test(id))) {
    return new ProviderError(
      "quota",
      `Gemini's daily quota for this key is used up (${google.quotaIds.join(", ")}): it resets at midnight Pacific time; raise the limit in Google AI Studio or tell an admin.`,
      { code: "RESOURCE_EXHAUSTED" },
    );
  }
  const wait = google.retryDelayMs === undefined ? "a minute" : `${Math.ceil(google.retryDelayMs / 1000)} s`;
  return new GeminiRateLimitError(
    `Gemini is rate-limiting this key (RESOURCE_EXHAUSTED): try again in ${wait}.`,
    google.retryDelayMs,
  );
}

/** Codes of errors that mean GEMINI_IMAGE_MODEL names no image model this key can use. */
export const modelProblemCodes = new Set(["NOT_FOUND", "model_not_image"]);

/** A 404 in Google's format is an unknown model; any other 404 is a server that is not Gemini's API. */
function modelError(google: GoogleError, response: HttpErrorResponse): ProviderError | undefined {
  const { status } = response;
  if (status === 404 && google.status === "NOT_FOUND")
    return new ProviderError(
      "internal",
      `Gemini does not know the image model (NOT_FOUND: ${google.message})`,
      {
        code: "NOT_FOUND",
      },
    );
  if (status === 404)
    return new ProviderError(
      "internal",
      `Gemini's API did not answer at GEMINI_BASE_URL (HTTP 404 for ${response.path}): check the URL.`,
      { code: "404" },
    );
  if (status === 400 && /response modalit/i.test(google.message))
    return new ProviderError("internal", `The configured Gemini model makes no images (${google.message})`, {
      code: "model_not_image",
    });
  return undefined;
}

export function mapGeminiHttpError(response: HttpErrorResponse, secrets: string[]): ProviderError {
  const google = readGoogleError(response, secrets);
  const { status } = response;
  const code = google.reason ?? google.status ?? String(status);
  const said = `${google.status ?? `HTTP ${status}`}: ${google.message}`;
  if (google.reason === "API_KEY_INVALID" || status === 401)
    return new ProviderError("auth", `Gemini rejected the API key (${said}): check GEMINI_API_KEY.`, {
      code,
    });
  if (status === 403)
    return new ProviderError(
      "auth",
      `Gemini refused this key (${said}): check GEMINI_API_KEY, and that its Google Cloud project may use the Gemini API.`,
      { code },
    );
  if (status === 429) return rateLimitError(google);
  const model = modelError(google, response);
  if (model) return model;
  if (google.status === "FAILED_PRECONDITION")
    return new ProviderError("internal", `Gemini cannot serve this key yet (${said}): tell an admin.`, {
      code,
    });
  if (status >= 500)
    return new ProviderError("transient", `Gemini is having trouble (${said}): try again shortly.`, { code });
  return new ProviderError("invalid", `Gemini rejected the request (${said}).`, { code });
}
