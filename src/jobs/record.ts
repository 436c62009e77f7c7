// The durable job record. It is written before anything reaches a provider and after every
// transition, so a restart can always tell what happened and what is left to do.
import { randomBytes } from "node:crypto";
import { z } from "zod";

export const jobStates = ["queued", "submitting", "running", "completed", "failed"] as const;
export type JobState = (typeof jobStates)[number];

export const jobKinds = [
  "imagine",
  "variation",
  "reroll",
  "upscale",
  "hd",
  "action",
  "blend",
  "describe",
] as const;
export type JobKind = (typeof jobKinds)[number];

const providerButtonSchema = z.object({
  customId: z.string(),
  label: z.string(),
  emoji: z.string().optional(),
});

export const jobErrorSchema = z.object({
  kind: z.enum(["refused", "invalid", "auth", "quota", "transient", "timeout", "internal", "cancelled"]),
  advice: z.enum(["retry", "rephrase", "admin"]),
  message: z.string(),
  reason: z.string().optional(),
});
export type JobError = z.infer<typeof jobErrorSchema>;

export const jobRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(jobKinds),
  state: z.enum(jobStates),
  /** Set once the result or the error has reached the user. */
  delivered: z.boolean(),
  provider: z.string(),
  /** Canonical prompt text (renderPrompt); parsePrompt gives the structure back. */
  prompt: z.string(),
  warnings: z.array(z.string()),
  speed: z.enum(["draft", "fast", "turbo", "relax"]).optional(),
  quality: z.enum(["standard", "hd"]).optional(),
  requesterId: z.string(),
  /** Where the job was asked for: limits, usage and guild settings are per guild. */
  guildId: z.string().optional(),
  channelId: z.string().optional(),
  parentId: z.string().optional(),
  /** Image number (1-based) of the parent this job continues, for U/V. */
  index: z.number().int().min(1).optional(),
  strength: z.enum(["subtle", "strong"]).optional(),
  upscaleStyle: z.enum(["subtle", "creative"]).optional(),
  customId: z.string().optional(),
  /**
   * /blend and /describe: the images to send, as links (Discord attachment URLs). The bytes are
   * fetched when the job starts, so the record stays small.
   */
  sourceUrls: z.array(z.string()).optional(),
  /** /blend: the shape of the new set. */
  dimensions: z.enum(["portrait", "square", "landscape"]).optional(),
  taskId: z.string().optional(),
  progress: z.number().optional(),
  queuePosition: z.number().optional(),
  previewUrl: z.string().optional(),
  imageUrls: z.array(z.string()).default([]),
  gridUrl: z.string().optional(),
  buttons: z.array(providerButtonSchema).optional(),
  /** A finished /describe: the prompts suggested for the image, in the service's order. */
  descriptions: z.array(z.string()).optional(),
  credits: z.number().optional(),
  /** Grid buttons already used ("u2", "v1"): shown highlighted, as in Midjourney. */
  pressed: z.array(z.string()).default([]),
  error: jobErrorSchema.optional(),
  /** Where the user sees this job; owned by src/discord (opaque here). */
  delivery: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Set by `launch`; a queued job without it was prepared but never shown. */
  launchedAt: z.number().optional(),
  /** The fair queue's ticket (src/jobs/queue.ts), set at launch: jobs start in (round, seq) order, also after a restart. */
  queueRound: z.number().int().optional(),
  queueSeq: z.number().int().optional(),
  submittedAt: z.number().optional(),
  finishedAt: z.number().optional(),
});

export type JobRecord = z.infer<typeof jobRecordSchema>;

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Short ids keep custom_ids far under Discord's 100 characters; 10 base-36 chars ≈ 51 bits. */
export function newJobId(): string {
  const bytes = randomBytes(10);
  let id = "";
  for (const byte of bytes) id += idAlphabet[byte % idAlphabet.length];
  return id;
}

export function isFinished(job: JobRecord): boolean {
  return job.state === "completed" || job.state === "failed";
}
