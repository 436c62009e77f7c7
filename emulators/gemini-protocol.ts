// What the Gemini emulator knows of Google's protocol, independent of src/providers on purpose: the
// models it serves, Google's error bodies, the checks a generateContent request goes through and the
// shapes of its answers. Sources are listed at the top of emulators/gemini.ts.
import type { Reply } from "./http.ts";

/** One model as `GET /v1beta/models` lists it, plus what the emulator needs to serve it. */
export interface GeminiModelSpec {
  /** Without the "models/" prefix, e.g. "gemini-3.1-flash-image". */
  name: string;
  displayName: string;
  /** Whether it makes images (text models answer only in words). */
  image: boolean;
  aspectRatios: readonly string[];
  /** `imageConfig.imageSize` values it takes; empty: the field is refused. */
  imageSizes: readonly string[];
  /** Output tokens billed per image, by image size ("1K" when no size is given). */
  imageTokens: Readonly<Record<string, number>>;
  inputTokenLimit: number;
  outputTokenLimit: number;
}

/** The ten ratios every Gemini image model takes (ai.google.dev image-generation guide). */
export const standardAspectRatios = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];
/** The extra ratios of Gemini 3.1 Flash Image (js-genai ImageConfigAspectRatio, Feb 2026). */
const extremeAspectRatios = ["1:4", "4:1", "1:8", "8:1"];

export const defaultGeminiModels: readonly GeminiModelSpec[] = [
  {
    name: "gemini-2.5-flash-image",
    displayName: "Nano Banana",
    image: true,
    aspectRatios: standardAspectRatios,
    imageSizes: [],
    imageTokens: { "1K": 1290 },
    inputTokenLimit: 32_768,
    outputTokenLimit: 32_768,
  },
  {
    name: "gemini-3-pro-image",
    displayName: "Nano Banana Pro",
    image: true,
    aspectRatios: standardAspectRatios,
    imageSizes: ["1K", "2K", "4K"],
    imageTokens: { "1K": 1120, "2K": 1120, "4K": 2000 },
    inputTokenLimit: 65_536,
    outputTokenLimit: 32_768,
  },
  {
    name: "gemini-3.1-flash-image",
    displayName: "Nano Banana 2",
    image: true,
    aspectRatios: [...standardAspectRatios, ...extremeAspectRatios],
    imageSizes: ["512", "1K", "2K", "4K"],
    imageTokens: { "512": 747, "1K": 1120, "2K": 1680, "4K": 2520 },
    inputTokenLimit: 131_072,
    outputTokenLimit: 32_768,
  },
  {
    name: "gemini-2.5-flash",
    displayName: "Gemini 2.5 Flash",
    image: false,
    aspectRatios: [],
    imageSizes: [],
    imageTokens: {},
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
  },
];

/** Longer side of an image of each size, relative to "1K" (about 1024 px on the real service). */
export const sizeFactor: Readonly<Record<string, number>> = { "512": 0.5, "1K": 1, "2K": 2, "4K": 4 };

/** The model resource as the API shows it. */
export function modelResource(model: GeminiModelSpec) {
  return {
    name: `models/${model.name}`,
    version: "001",
    displayName: model.displayName,
    description: model.image ? "Image generation and editing" : "Text generation",
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: ["generateContent", "countTokens", "batchGenerateContent"],
    temperature: 1,
    topP: 0.95,
    maxTemperature: 2,
  };
}

// --- Google's error bodies ----------------------------------------------------------------------

const statusNames: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** `{"error":{"code","message","status","details"}}`, Google's error format (google.rpc.Status). */
export function googleErrorBody(code: number, message: string, details: unknown[] = [], status?: string) {
  return {
    error: {
      code,
      message,
      status: status ?? statusNames[code] ?? "UNKNOWN",
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

export function googleError(code: number, message: string, details: unknown[] = [], status?: string): Reply {
  return { status: code, body: googleErrorBody(code, message, details, status) };
}

export const invalidArgument = (message: string): Reply => googleError(400, message);

/** A wrong key: 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID (as the real service answers). */
export function apiKeyInvalid(): Reply {
  const message = "API key not valid. Please pass a valid API key.";
  return googleError(400, message, [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" },
    },
    { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
  ]);
}

/** No key at all: 403 PERMISSION_DENIED. */
export function keyMissing(): Reply {
  return googleError(
    403,
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );
}

export function modelNotFound(model: string): Reply {
  return googleError(
    404,
    `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
  );
}

/**
 * 429 RESOURCE_EXHAUSTED as the Gemini API sends it: QuotaFailure naming the quota, Help, and (for
 * per-minute limits) RetryInfo with the wait. No Retry-After header is documented; none is sent.
 */
export function geminiRateLimitBody(
  model: string,
  limit: "minute" | "day" = "minute",
  retryDelaySeconds = 7,
) {
  const quotaId =
    limit === "day"
      ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
      : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
  const details: unknown[] = [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
          quotaId,
          quotaDimensions: { location: "global", model },
          quotaValue: "10",
        },
      ],
    },
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [
        {
          description: "Learn more about Gemini API quotas",
          url: "https://ai.google.dev/gemini-api/docs/rate-limits",
        },
      ],
    },
  ];
  if (limit === "minute")
    details.push({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: `${retryDelaySeconds}s`,
    });
  const message =
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";
  return googleErrorBody(429, message, details);
}

/** The body an injected failure of `status` carries when the test gives none. */
export function injectedErrorBody(status: number, model: string): unknown {
  switch (status) {
    case 429:
      return geminiRateLimitBody(model);
    case 500:
      return googleErrorBody(
        500,
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      );
    case 503:
      return googleErrorBody(503, "The model is overloaded. Please try again later.");
    default:
      return googleErrorBody(status, `Injected HTTP ${status}.`);
  }
}

// --- generateContent requests -------------------------------------------------------------------

/** What a valid generateContent request asks for, as the emulator serves it. */
export interface GenerateAsk {
  texts: string[];
  images: { mimeType: string; bytes: Buffer }[];
  aspectRatio?: string;
  imageSize?: string;
  modalities: string[];
}

const inputMimeTypes = new Set(["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"]);
const maxInputImages = 14;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A field by its JSON name or its proto name (Google's JSON parser takes both spellings). */
function field(object: Record<string, unknown>, camel: string, snake: string): unknown {
  return object[camel] ?? object[snake];
}

const knownFields: Record<string, readonly string[]> = {
  request: [
    "contents",
    "generationConfig",
    "generation_config",
    "safetySettings",
    "safety_settings",
    "systemInstruction",
    "system_instruction",
    "tools",
    "toolConfig",
    "tool_config",
    "cachedContent",
    "cached_content",
  ],
  generationConfig: [
    "responseModalities",
    "response_modalities",
    "imageConfig",
    "image_config",
    "candidateCount",
    "candidate_count",
    "temperature",
    "topP",
    "top_p",
    "topK",
    "top_k",
    "seed",
    "maxOutputTokens",
    "max_output_tokens",
    "stopSequences",
    "stop_sequences",
    "thinkingConfig",
    "thinking_config",
  ],
  imageConfig: [
    "aspectRatio",
    "aspect_ratio",
    "imageSize",
    "image_size",
    "personGeneration",
    "person_generation",
  ],
};

/** Google's strict JSON parsing: an unknown field is an error naming it. */
function unknownField(object: Record<string, unknown>, known: readonly string[]): Reply | undefined {
  const unknown = Object.keys(object).find((key) => !known.includes(key));
  return unknown === undefined
    ? undefined
    : invalidArgument(`Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`);
}

function readParts(contents: unknown): { texts: string[]; images: GenerateAsk["images"] } | Reply {
  if (!Array.isArray(contents) || contents.length === 0)
    return invalidArgument("* GenerateContentRequest.contents: contents is not specified");
  const texts: string[] = [];
  const images: GenerateAsk["images"] = [];
  for (const [index, content] of contents.entries()) {
    const parts = record(content)?.parts;
    if (!Array.isArray(parts) || parts.length === 0)
      return invalidArgument(
        `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.`,
      );
    for (const part of parts) {
      const fields = record(part) ?? {};
      const inline = record(field(fields, "inlineData", "inline_data"));
      if (typeof fields.text === "string") texts.push(fields.text);
      else if (inline) {
        const mimeType = field(inline, "mimeType", "mime_type");
        const data = typeof inline.data === "string" ? Buffer.from(inline.data, "base64") : Buffer.alloc(0);
        if (typeof mimeType !== "string" || !inputMimeTypes.has(mimeType))
          return invalidArgument(`Unsupported MIME type: ${String(mimeType)}`);
        if (data.length === 0) return invalidArgument("Provided image is not valid.");
        images.push({ mimeType, bytes: data });
      } else
        return invalidArgument("Invalid JSON payload received. A part must have one of text, inline_data.");
    }
  }
  if (images.length > maxInputImages)
    return invalidArgument(`Too many images: at most ${maxInputImages} images are allowed per request.`);
  return { texts, images };
}

function readImageConfig(
  model: GeminiModelSpec,
  config: Record<string, unknown>,
): { aspectRatio?: string; imageSize?: string } | Reply {
  const problem = unknownField(config, knownFields.imageConfig ?? []);
  if (problem) return problem;
  const aspectRatio = field(config, "aspectRatio", "aspect_ratio");
  const imageSize = field(config, "imageSize", "image_size");
  if (aspectRatio !== undefined && !model.aspectRatios.includes(String(aspectRatio)))
    return invalidArgument(
      `Unsupported aspect ratio: ${String(aspectRatio)}. Supported values are ${model.aspectRatios.join(", ")}.`,
    );
  if (imageSize !== undefined && !model.imageSizes.includes(String(imageSize)))
    return invalidArgument(
      model.imageSizes.length === 0
        ? `Image size is not supported by models/${model.name}.`
        : `Unsupported image size: ${String(imageSize)}. Supported values are ${model.imageSizes.join(", ")}.`,
    );
  return {
    ...(aspectRatio === undefined ? {} : { aspectRatio: String(aspectRatio) }),
    ...(imageSize === undefined ? {} : { imageSize: String(imageSize) }),
  };
}

function readGenerationConfig(
  model: GeminiModelSpec,
  value: unknown,
): Pick<GenerateAsk, "aspectRatio" | "imageSize" | "modalities"> | Reply {
  const config = record(value) ?? {};
  const problem = unknownField(config, knownFields.generationConfig ?? []);
  if (problem) return problem;
  const modalities = field(config, "responseModalities", "response_modalities") ?? ["TEXT"];
  if (!Array.isArray(modalities) || modalities.some((m) => m !== "TEXT" && m !== "IMAGE"))
    return invalidArgument("responseModalities must be a list of TEXT and IMAGE.");
  const candidates = field(config, "candidateCount", "candidate_count");
  if (candidates !== undefined && candidates !== 1)
    return invalidArgument(`Multiple candidates is not enabled for models/${model.name}`);
  if (modalities.includes("IMAGE") && !model.image)
    return invalidArgument(
      `The requested combination of response modalities (${modalities.join(", ")}) is not supported by the model. models/${model.name} accepts the following combination of response modalities:\n* TEXT\n`,
    );
  const imageConfig = readImageConfig(model, record(field(config, "imageConfig", "image_config")) ?? {});
  if ("status" in imageConfig) return imageConfig;
  return { ...imageConfig, modalities: modalities as string[] };
}

/** A rough token count: 4 characters a token, 258 tokens an image (Gemini's figure for a small image). */
export function promptTokens(ask: Pick<GenerateAsk, "texts" | "images">): number {
  const characters = ask.texts.reduce((sum, text) => sum + text.length, 0);
  return Math.ceil(characters / 4) + ask.images.length * 258;
}

/** The request checked as the service checks it; the answer to send when it does not pass. */
export function readGenerateRequest(model: GeminiModelSpec, body: unknown): GenerateAsk | Reply {
  const request = record(body);
  if (!request) return invalidArgument("Invalid JSON payload received. Expected an object.");
  const problem = unknownField(request, knownFields.request ?? []);
  if (problem) return problem;
  const parts = readParts(request.contents);
  if ("status" in parts) return parts;
  const config = readGenerationConfig(model, field(request, "generationConfig", "generation_config"));
  if ("status" in config) return config;
  const tokens = promptTokens(parts);
  if (tokens > model.inputTokenLimit)
    return invalidArgument(
      `The input token count (${tokens}) exceeds the maximum number of tokens allowed (${model.inputTokenLimit}).`,
    );
  return { ...parts, ...config };
}

// --- answers ------------------------------------------------------------------------------------

/** How a refused request is answered (all three happen on the real service). */
export type GeminiRefusal =
  /** The model explains in words and makes no image (finishReason STOP, text only). */
  | "text"
  /** The prompt is blocked before any generation: `promptFeedback.blockReason`, no candidates. */
  | "prompt"
  /** The image is made, then filtered: finishReason IMAGE_SAFETY with a finishMessage. */
  | "image"
  /** No image and no words: finishReason NO_IMAGE. */
  | "no-image";

export function usageMetadata(prompt: number, output: number, modality: "IMAGE" | "TEXT" = "IMAGE") {
  return {
    promptTokenCount: prompt,
    ...(output > 0 ? { candidatesTokenCount: output } : {}),
    totalTokenCount: prompt + output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
    ...(output > 0 ? { candidatesTokensDetails: [{ modality, tokenCount: output }] } : {}),
  };
}

/** The body of a refused generation, in Google's words. */
export function refusalBody(
  how: GeminiRefusal,
  word: string,
  meta: { modelVersion: string; responseId: string; promptTokens: number },
): Record<string, unknown> {
  const common = { modelVersion: meta.modelVersion, responseId: meta.responseId };
  switch (how) {
    case "prompt":
      return {
        promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
        usageMetadata: usageMetadata(meta.promptTokens, 0),
        ...common,
      };
    case "image":
      return {
        candidates: [
          {
            finishReason: "IMAGE_SAFETY",
            finishMessage:
              "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy. You will not be charged for blocked images. Try rephrasing the prompt.",
            index: 0,
          },
        ],
        usageMetadata: usageMetadata(meta.promptTokens, 0),
        ...common,
      };
    case "no-image":
      return {
        candidates: [{ finishReason: "NO_IMAGE", index: 0 }],
        usageMetadata: usageMetadata(meta.promptTokens, 0),
        ...common,
      };
    default: {
      const text = `I can't create images of ${word}. I can help with a different idea, though.`;
      return {
        candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: usageMetadata(meta.promptTokens, Math.ceil(text.length / 4), "TEXT"),
        ...common,
      };
    }
  }
}
