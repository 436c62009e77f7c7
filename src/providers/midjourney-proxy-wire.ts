// The midjourney-proxy JSON (reference/image-apis.md §3), the only place that knows it: submit
// answers and their codes, task bodies (polls and notifyHooks are one shape), and HTTP errors, all
// in Atelier's terms.
import { z } from "zod";
import { silentLogger } from "../log.ts";
import { type HttpErrorResponse, type ProviderLogger, redactExcerpt } from "./http.ts";
import { progressOf } from "./shared.ts";
import {
  type BlendDimensions,
  type ImageInput,
  type ProviderButton,
  ProviderError,
  type ProviderWarning,
  type SubmitResult,
  type TaskSnapshot,
  type TaskStatus,
} from "./types.ts";

export const proxyLabel = "midjourney-proxy";
export const proxySecretSetting = "MIDJOURNEY_PROXY_API_KEY";

const idSchema = z.union([z.string(), z.number()]).transform(String);

export const submitSchema = z.object({
  code: z.number(),
  description: z.string().nullish(),
  result: idSchema.nullish(),
  properties: z.record(z.string(), z.unknown()).nullish(),
});

type WireSubmit = z.infer<typeof submitSchema>;

const buttonSchema = z.object({
  customId: z.string(),
  label: z.string().nullish(),
  emoji: z.string().nullish(),
});

const imageUrlSchema = z.union([z.string(), z.object({ url: z.string() }).transform((image) => image.url)]);

export const proxyTaskSchema = z.object({
  id: idSchema,
  action: z.string().nullish(),
  status: z.string().nullish(),
  progress: z.union([z.string(), z.number()]).nullish(),
  prompt: z.string().nullish(),
  imageUrl: z.string().nullish(),
  imageUrls: z.array(imageUrlSchema).nullish(),
  failReason: z.string().nullish(),
  buttons: z.array(buttonSchema).nullish(),
  properties: z.object({ finalPrompt: z.string().nullish() }).nullish(),
});

type WireTask = z.infer<typeof proxyTaskSchema>;

export const wireDimensions: Record<BlendDimensions, string> = {
  portrait: "PORTRAIT",
  square: "SQUARE",
  landscape: "LANDSCAPE",
};

/** The proxy takes image bytes, not links: `data:image/png;base64,…`. */
export function dataUrlOf(image: ImageInput): string {
  return `data:${image.contentType};base64,${image.bytes.toString("base64")}`;
}

const statusByWire: Record<string, TaskStatus> = {
  "": "queued",
  NOT_START: "queued",
  SUBMITTED: "queued",
  // Waiting for a remix modal: still alive on the proxy's side, so it counts as running.
  MODAL: "running",
  IN_PROGRESS: "running",
  SUCCESS: "completed",
  FAILURE: "failed",
  CANCEL: "cancelled",
};

const refusalPattern = /banned|policy|moderat|sensitive|nsfw|inappropriate|prohibited|blocked|violat/i;
const transientPattern =
  /time(d)? ?out|queue|busy|try again|temporar|rate limit|unavailable|network|disconnect/i;

/** A FAILURE's failReason in our terms: refused prompts, passing trouble, or the proxy's fault. */
export function classifyFailReason(failReason: string | null | undefined): ProviderError {
  const text = failReason?.trim() || "no reason given";
  if (refusalPattern.test(text)) {
    return new ProviderError("refused", `Midjourney refused the prompt: ${text}`, { reason: text });
  }
  if (transientPattern.test(text)) {
    return new ProviderError("transient", `Midjourney could not finish the images: ${text}`);
  }
  return new ProviderError("internal", `Midjourney (via ${proxyLabel}) failed the task: ${text}`);
}

function buttonsOf(wire: WireTask): ProviderButton[] | undefined {
  if (!wire.buttons) return undefined;
  return wire.buttons.map((button) => ({
    customId: button.customId,
    label: button.label ?? "",
    ...(button.emoji ? { emoji: button.emoji } : {}),
  }));
}

/** Midjourney's four numbered suggestions ("1️⃣ …\n\n2️⃣ …") as plain prompts. */
export function descriptionsOf(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((part) => part.replace(/^\s*(?:\d\uFE0F?\u20E3|\d+[.)])\s*/u, "").trim())
    .filter((part) => part !== "");
}

/** The images of a finished task: one for an upscale, otherwise the grid plus split images if sent. */
function completedImages(wire: WireTask): Pick<TaskSnapshot, "gridUrl" | "imageUrls" | "descriptions"> {
  const action = (wire.action ?? "").toUpperCase();
  if (action === "DESCRIBE") {
    return { imageUrls: [], descriptions: descriptionsOf(wire.prompt ?? wire.properties?.finalPrompt ?? "") };
  }
  const imageUrl = wire.imageUrl ?? undefined;
  if (action.startsWith("UPSCALE")) return { imageUrls: imageUrl ? [imageUrl] : [] };
  return { ...(imageUrl ? { gridUrl: imageUrl } : {}), imageUrls: wire.imageUrls ?? [] };
}

/** Our snapshot of one proxy task; unknown statuses count as running (and are logged). */
export function toSnapshot(wire: WireTask, logger: ProviderLogger = silentLogger): TaskSnapshot {
  const wireStatus = wire.status ?? "";
  let status = statusByWire[wireStatus];
  if (status === undefined) {
    logger.debug(`${proxyLabel}: unknown task status, treating it as running`, {
      taskId: wire.id,
      status: wireStatus,
    });
    status = "running";
  }
  if (wireStatus === "MODAL")
    logger.debug(`${proxyLabel}: task waits for a remix modal`, { taskId: wire.id });
  const progress = progressOf(wire.progress);
  const buttons = buttonsOf(wire);
  const snapshot: TaskSnapshot = {
    taskId: wire.id,
    status,
    imageUrls: [],
    ...(progress === undefined ? {} : { progress }),
    ...(buttons === undefined ? {} : { buttons }),
  };
  if (status === "failed") return { ...snapshot, error: classifyFailReason(wire.failReason) };
  if (status === "running" || status === "queued") {
    // While running, imageUrl is Midjourney's blurry in-progress grid.
    return wire.imageUrl ? { ...snapshot, previewUrl: wire.imageUrl } : snapshot;
  }
  if (status !== "completed") return snapshot;
  const images = completedImages(wire);
  if (images.descriptions === undefined && images.gridUrl === undefined && images.imageUrls.length === 0) {
    const error = new ProviderError(
      "internal",
      `${proxyLabel} reported the task finished but sent no image.`,
      {
        code: "no_image",
      },
    );
    return { ...snapshot, status: "failed", error };
  }
  return { ...snapshot, ...images, progress: 100 };
}

/** An accepted submit (code 1, 21 "already exists", 22 queued) as a task to follow. */
function acceptedTask(
  answer: WireSubmit,
  warnings: ProviderWarning[],
): Extract<SubmitResult, { kind: "task" }> {
  if (!answer.result) {
    throw new ProviderError("internal", `${proxyLabel} accepted the request but sent no task id.`, {
      code: String(answer.code),
      maybeSubmitted: true,
    });
  }
  const result: Extract<SubmitResult, { kind: "task" }> = { kind: "task", taskId: answer.result, warnings };
  const ahead = Number(answer.properties?.numberOfQueues);
  // numberOfQueues counts the tasks ahead of this one, so the position is one more.
  if (answer.code === 22 && Number.isFinite(ahead)) result.queuePosition = Math.max(0, ahead) + 1;
  return result;
}

/** Turns a submit answer into a task id, or the error its code stands for. */
export function submitOutcome(
  answer: WireSubmit,
  warnings: ProviderWarning[],
  secrets: string[] = [],
): Extract<SubmitResult, { kind: "task" }> {
  const description = redactExcerpt(answer.description ?? `code ${answer.code}`, secrets, 300);
  const code = String(answer.code);
  switch (answer.code) {
    case 1:
    case 21: // "already exists": the same follow-up was submitted before; its task is the answer.
    case 22:
      return acceptedTask(answer, warnings);
    case 23:
      throw new ProviderError("transient", "The Midjourney queue is full, try again in a few minutes.", {
        code,
      });
    case 24: {
      const bannedWord = answer.properties?.bannedWord;
      const word = typeof bannedWord === "string" ? bannedWord : undefined;
      const message = word
        ? `Midjourney would refuse this prompt: it contains the banned word "${word}".`
        : `Midjourney would refuse this prompt: ${description}`;
      throw new ProviderError("refused", message, { code, reason: word ?? description });
    }
    case 4:
      throw new ProviderError("invalid", `${proxyLabel} did not accept the request: ${description}`, {
        code,
      });
    case 3:
      throw new ProviderError("invalid", `${proxyLabel} no longer knows the original task: ${description}`, {
        code,
      });
    default:
      throw new ProviderError("internal", `${proxyLabel} could not submit the request: ${description}`, {
        code,
      });
  }
}

/** Maps a non-2xx answer; the setting to fix is named so an admin knows where to look. */
export function mapProxyHttpError(
  response: HttpErrorResponse,
  secretConfigured: boolean,
  secrets: string[] = [],
): ProviderError | undefined {
  const code = String(response.status);
  switch (response.status) {
    case 401:
    case 403: {
      const fix = secretConfigured
        ? `the mj-api-secret was rejected: check ${proxySecretSetting}`
        : `the server needs an API secret: set ${proxySecretSetting}`;
      return new ProviderError("auth", `${proxyLabel} refused access (HTTP ${code}): ${fix}.`, { code });
    }
    case 404:
      return new ProviderError(
        "internal",
        `${proxyLabel} has no ${response.path} (HTTP 404): check MIDJOURNEY_PROXY_BASE_URL (it usually ends in /mj).`,
        { code },
      );
    case 429:
    case 502:
    case 503:
    case 504:
      return new ProviderError(
        "transient",
        `${proxyLabel} is busy or unreachable (HTTP ${code}); try again shortly.`,
        {
          code,
        },
      );
  }
  // Some servers send their submit codes with a 4xx status; the code says more than the status.
  const parsed = submitSchema.safeParse(response.body);
  if (response.status < 500 && parsed.success && parsed.data.code !== 1) {
    try {
      submitOutcome(parsed.data, [], secrets);
    } catch (error) {
      if (error instanceof ProviderError) return error;
    }
  }
  return undefined;
}
