// One small interface every image service sits behind. The Discord side reads `capabilities`
// to decide which buttons to show; jobs call the methods and never see a provider's JSON.
import { z } from "zod";
import type { ParsedPrompt } from "../prompt/types.ts";

export type Speed = "draft" | "fast" | "turbo" | "relax";
export type Quality = "standard" | "hd";
export type VariationStrength = "subtle" | "strong";

/** What `U<n>` does on this provider. */
export type UpscaleMode = "upscale" | "separate";

/**
 * What a provider offers, as the Discord side reads it. `blend`, `describe`, `cancel` and `callback`
 * are never declared: `defineProvider` reads them off the methods an adapter implements.
 */
export interface ProviderCapabilities extends DeclaredCapabilities {
  /** /blend: the adapter implements `blend`. */
  blend: boolean;
  /** /describe: the adapter implements `describe`. */
  describe: boolean;
  /** ❌ on a running job: the adapter implements `cancel`. */
  cancel: boolean;
  /** The provider can POST task updates to a URL we give it: the adapter implements `parseCallback`. */
  callback: boolean;
}

/** The capabilities that are data (modes, strengths, speeds, limits), declared by each adapter. */
export interface DeclaredCapabilities {
  /** U buttons: real upscaling (a provider call) or just picking image n out of the set (no call). */
  upscale: UpscaleMode;
  /** Extra upscalers offered on a single image, e.g. Upscale (Subtle) / Upscale (Creative). */
  upscaleStyles: ("subtle" | "creative")[];
  variation: VariationStrength[];
  reroll: boolean;
  /** "Run as HD": re-run a standard set in HD with the same prompt and seed. */
  hd: boolean;
  /** Zoom Out (1.5×, 2×), Pan ⬅️➡️⬆️⬇️ and Make Square on a single image (outpainting). */
  outpaint: boolean;
  remix: boolean;
  /** The task snapshot carries a preview image while running. */
  progressPreview: boolean;
  speeds: Speed[];
  draft: boolean;
  maxPromptLength: number;
  /** Canonical parameter names forwarded in the prompt text; others produce a warning or an error. */
  passThroughParams: string[];
  /** Upper bound on how long one task may run before it is failed as a timeout. */
  maxTaskDurationMs: number;
  /** Images per finished set (4; 24 in draft mode). */
  imagesPerSet: number;
}

/** An image the bot has already downloaded (safely); each adapter encodes it as its API wants. */
export interface ImageInput {
  bytes: Buffer;
  contentType: string;
}

export type BlendDimensions = "portrait" | "square" | "landscape";

export interface BlendRequest {
  /** 2–5 images, blended into one new set. */
  images: ImageInput[];
  dimensions: BlendDimensions;
  /** As for ImagineRequest. */
  callbackUrl?: string;
}

export interface DescribeRequest {
  image: ImageInput;
  /** As for ImagineRequest. */
  callbackUrl?: string;
}

export interface ImagineRequest {
  prompt: ParsedPrompt;
  speed?: Speed;
  quality?: Quality;
  /** Public HTTPS URL the provider should call on completion; polling is used without it. */
  callbackUrl?: string;
}

/** What a follow-up needs to know about the job it continues. Stored in the job record. */
export interface ParentTask {
  taskId: string;
  prompt: ParsedPrompt;
  /** Result image URLs in reading order (1..4). */
  imageUrls: string[];
  gridUrl?: string;
  speed?: Speed;
  quality?: Quality;
  /** Provider-listed follow-up buttons (midjourney-proxy). */
  buttons?: ProviderButton[];
}

export type FollowUpRequest =
  | { kind: "upscale"; parent: ParentTask; index: number; style?: "subtle" | "creative" }
  | {
      kind: "variation";
      parent: ParentTask;
      index: number;
      strength: VariationStrength;
      prompt?: ParsedPrompt;
    }
  | { kind: "reroll"; parent: ParentTask; prompt?: ParsedPrompt }
  | { kind: "hd"; parent: ParentTask }
  | { kind: "action"; parent: ParentTask; customId: string }
  /** Outpainting a single image (`parent.imageUrls[0]`): more canvas around it, filled in. */
  | { kind: "zoom"; parent: ParentTask; factor: 1.5 | 2 }
  | { kind: "pan"; parent: ParentTask; direction: PanDirection }
  | { kind: "square"; parent: ParentTask };

export type PanDirection = "left" | "right" | "up" | "down";

export type FollowUpKind = FollowUpRequest["kind"];

export interface ProviderButton {
  customId: string;
  label: string;
  emoji?: string;
}

export interface Usage {
  /** The provider's own billing figure in its credits (EvoLink, BFL): what /info adds up. */
  credits?: number;
  /** Tokens billed (OpenAI): a different unit, kept apart so /info never adds it to credits. */
  tokens?: number;
}

export type TaskStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export interface TaskSnapshot {
  taskId: string;
  status: TaskStatus;
  /** 0..100 when the provider reports it. */
  progress?: number;
  /** Position in the provider's own queue, when it says. */
  queuePosition?: number;
  previewUrl?: string;
  /** A word for the progress line while running, e.g. "restarted on gpu2: gpu1 stopped answering". */
  note?: string;
  /** The provider's own 2x2 grid, when it makes one. */
  gridUrl?: string;
  /** Finished images in reading order. */
  imageUrls: string[];
  buttons?: ProviderButton[];
  /** A finished /describe: the prompts the service suggests for the image. */
  descriptions?: string[];
  usage?: Usage;
  error?: ProviderError;
}

/**
 * A setting the provider could not honour as asked, as data (after the Vercel AI SDK's image-model
 * call warnings); `warningText` in src/discord/warning-text.ts puts it in words.
 * - `unsupported`: left out; `details` says why or what to use instead.
 * - `moved`: taken out of the prompt text into a request setting; `details` names where it went.
 * - `changed`: honoured differently than asked; `details` says how.
 */
export const providerWarningSchema = z.object({
  type: z.enum(["unsupported", "moved", "changed"]),
  /** What the user asked for, as they wrote or chose it: "--chaos", "relax speed", "Vary (Subtle)". */
  feature: z.string().min(1),
  details: z.string().optional(),
});

export type ProviderWarning = z.infer<typeof providerWarningSchema>;

/** The warnings of several lists, each once: a check and the submit after it report the same ones. */
export function mergeWarnings(...lists: readonly (readonly ProviderWarning[])[]): ProviderWarning[] {
  const seen = new Map<string, ProviderWarning>();
  for (const warning of lists.flat()) {
    seen.set(JSON.stringify([warning.type, warning.feature, warning.details ?? null]), warning);
  }
  return [...seen.values()];
}

/** A submit either started a remote task or, for `separate`, finished at once without a call. */
export type SubmitResult =
  | { kind: "task"; taskId: string; warnings: ProviderWarning[]; usage?: Usage; queuePosition?: number }
  | { kind: "done"; snapshot: TaskSnapshot; warnings: ProviderWarning[] };

/** Configured providers by name (the registry, or a plain Map in tests). */
export interface ProviderLookup {
  get(name: string): ImageProvider | undefined;
}

export interface ImageProvider {
  /** Stable name stored with each job so follow-ups go back to the same provider. */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Settings this provider cannot honour for the prompt, without submitting anything. */
  check(request: ImagineRequest): { warnings: ProviderWarning[]; error?: ProviderError };
  imagine(request: ImagineRequest, signal?: AbortSignal): Promise<SubmitResult>;
  followUp(request: FollowUpRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** /blend (`capabilities.blend`): a new set made from 2–5 images. */
  blend?(request: BlendRequest, signal?: AbortSignal): Promise<SubmitResult>;
  /** /describe (`capabilities.describe`): the finished snapshot carries `descriptions`. */
  describe?(request: DescribeRequest, signal?: AbortSignal): Promise<SubmitResult>;
  fetchTask(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot>;
  cancel?(taskId: string, signal?: AbortSignal): Promise<void>;
  /** Turns a callback/webhook body into a snapshot (`capabilities.callback`). */
  parseCallback?(body: unknown): TaskSnapshot;
  /**
   * At start: proves the key and the base URL with one cheap call; throws a ProviderError naming the
   * setting to fix. Absent when the API offers no such call.
   */
  verify?(signal?: AbortSignal): Promise<void>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}

/** The capabilities read off the methods an adapter implements. */
export type DerivedCapability = Exclude<keyof ProviderCapabilities, keyof DeclaredCapabilities>;

/** What an adapter writes: the methods it implements and only the capabilities that are data. */
export type ProviderAdapter = Omit<ImageProvider, "capabilities"> & {
  readonly capabilities: DeclaredCapabilities;
};

export type ProviderErrorKind =
  | "refused"
  | "invalid"
  | "auth"
  | "quota"
  | "transient"
  | "timeout"
  | "internal";

/** What the user should do about an error. */
export type ProviderAdvice = "retry" | "rephrase" | "admin";

const adviceByKind: Record<ProviderErrorKind, ProviderAdvice> = {
  refused: "rephrase",
  invalid: "rephrase",
  auth: "admin",
  quota: "admin",
  transient: "retry",
  timeout: "retry",
  internal: "admin",
};

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  readonly kind: ProviderErrorKind;
  readonly advice: ProviderAdvice;
  /** The provider's own code, when it gave one (e.g. "content_policy_violation", 24). */
  readonly code?: string;
  /** For `refused`: the word or reason the service named. */
  readonly reason?: string;
  /** True when a create may have reached the provider (never retry it silently). */
  readonly maybeSubmitted: boolean;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { code?: string; reason?: string; maybeSubmitted?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.advice = adviceByKind[kind];
    this.code = options.code;
    this.reason = options.reason;
    this.maybeSubmitted = options.maybeSubmitted ?? false;
  }
}
