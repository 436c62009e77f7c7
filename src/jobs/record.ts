// The durable job record. It is written before anything reaches a provider and after every
// transition, so a restart can always tell what happened and what is left to do.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { providerWarningSchema } from "../providers/types.ts";

export const jobStates = ["queued", "submitting", "running", "completed", "failed"] as const;
export type JobState = (typeof jobStates)[number];

/**
 * The legal transitions, as data: a job moves only along these edges, so a late or repeated event
 * (a cancel racing a completion, a second finish) cannot change a finished job.
 */
export const transitions: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ["submitting", "failed"],
  submitting: ["running", "completed", "failed"],
  running: ["completed", "failed"],
  completed: [],
  failed: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return transitions[from].includes(to);
}

/** What a follow-up does to the job it continues: one value, stored as one field, copied by a retry. */
export const followUpSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("upscale"),
    index: z.number().int().min(1),
    style: z.enum(["subtle", "creative"]).optional(),
  }),
  z.object({
    kind: z.literal("variation"),
    index: z.number().int().min(1),
    strength: z.enum(["subtle", "strong"]),
  }),
  z.object({ kind: z.literal("reroll") }),
  z.object({ kind: z.literal("hd") }),
  z.object({ kind: z.literal("action"), customId: z.string() }),
  z.object({ kind: z.literal("zoom"), factor: z.union([z.literal(1.5), z.literal(2)]) }),
  z.object({ kind: z.literal("pan"), direction: z.enum(["left", "right", "up", "down"]) }),
  z.object({ kind: z.literal("square") }),
]);
export type FollowUp = z.infer<typeof followUpSchema>;
export type FollowUpKind = FollowUp["kind"];

const providerButtonSchema = z.object({
  customId: z.string(),
  label: z.string(),
  emoji: z.string().optional(),
});

/** A value in words Atelier stores: verbatim text or a number, or words of the catalogue (a duration). */
const textValueSchema = z.union([
  z.string(),
  z.number(),
  z.object({
    phrase: z.string(),
    values: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  }),
]);

/** Words as data (src/jobs/messages.ts, src/prompt/messages.ts): what the views say in the reader's language. */
const codedSchema = { code: z.string(), values: z.record(z.string(), textValueSchema) };

export const jobErrorSchema = z.object({
  kind: z.enum(["refused", "invalid", "auth", "quota", "transient", "timeout", "internal", "cancelled"]),
  advice: z.enum(["retry", "rephrase", "admin"]),
  /** In English (logs, the CLI); views show the coded words in the job's language when there are some. */
  message: z.string(),
  /** For errors Atelier words itself; an image service's own words have none. */
  code: codedSchema.code.optional(),
  values: codedSchema.values.optional(),
  reason: z.string().optional(),
});
export type JobError = z.infer<typeof jobErrorSchema>;

const jobRecordShape = z.object({
  id: z.string(),
  /** A follow-up's kind is its `followUp.kind`. */
  kind: z.enum([
    "imagine",
    "blend",
    "describe",
    "upscale",
    "variation",
    "reroll",
    "hd",
    "action",
    "zoom",
    "pan",
    "square",
  ]),
  state: z.enum(jobStates),
  /** Set once the result or the error has reached the user. */
  delivered: z.boolean(),
  provider: z.string(),
  /** Canonical prompt text (renderPrompt); parsePrompt gives the structure back. */
  prompt: z.string(),
  /** Notes of the prompt language (a dash read as `--`, …), in English words. */
  warnings: z.array(z.string()),
  /** The same notes as data, to show in the job's language; records from before it existed show `warnings`. */
  notes: z.array(z.object({ ...codedSchema, message: z.string() })).optional(),
  /** What the provider could not honour, as data (src/providers/types.ts); views put it in words. */
  providerWarnings: z.array(providerWarningSchema).default([]),
  speed: z.enum(["draft", "fast", "turbo", "relax"]).optional(),
  quality: z.enum(["standard", "hd"]).optional(),
  requesterId: z.string(),
  /** Where the job was asked for: limits, usage and guild settings are per guild. */
  guildId: z.string().optional(),
  channelId: z.string().optional(),
  parentId: z.string().optional(),
  /** For a follow-up (U, V, 🔄, HD, a provider button): what it does to `parentId`. */
  followUp: followUpSchema.optional(),
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
  /** The provider's word for the progress line (shown while running, not persisted as a transition). */
  progressNote: z.string().optional(),
  imageUrls: z.array(z.string()).default([]),
  gridUrl: z.string().optional(),
  buttons: z.array(providerButtonSchema).optional(),
  /** A finished /describe: the prompts suggested for the image, in the service's order. */
  descriptions: z.array(z.string()).optional(),
  credits: z.number().optional(),
  /** Grid buttons already used ("u2", "v1"): shown highlighted, as in Midjourney. */
  pressed: z.array(z.string()).default([]),
  error: jobErrorSchema.optional(),
  /** Who asked the provider to stop the running job: the process tracking it may be another one. */
  cancelledBy: z.string().optional(),
  /**
   * The language of the job's public message (a code such as "fr"), chosen where it was asked for;
   * records from before it existed read as English.
   */
  language: z.string().optional(),
  /** Where the user sees this job; owned by src/discord (opaque here). */
  delivery: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Set once the job's message is shown; until then its requester's queue room is held for it. */
  launchedAt: z.number().optional(),
  /** The fair queue's ticket (src/jobs/queue.ts), set at creation: jobs start in (round, seq) order, also after a restart. */
  queueRound: z.number().int().optional(),
  queueSeq: z.number().int().optional(),
  submittedAt: z.number().optional(),
  /** When the provider's task must have finished (submittedAt + the time limit); result fetches count against it too. */
  deadlineAt: z.number().optional(),
  finishedAt: z.number().optional(),
});

/** The fields that say what was asked (not what happened): what a retry copies. */
export const askedFieldsSchema = jobRecordShape.pick({
  kind: true,
  prompt: true,
  warnings: true,
  notes: true,
  providerWarnings: true,
  speed: true,
  quality: true,
  parentId: true,
  followUp: true,
  sourceUrls: true,
  dimensions: true,
});

/** Records written before `followUp` existed kept its parts in loose fields; read them as one value. */
function liftLegacyFollowUp(value: unknown): unknown {
  if (typeof value !== "object" || value === null || "followUp" in value) return value;
  const { index, strength, upscaleStyle, customId, ...rest } = value as Record<string, unknown>;
  const kind = rest.kind;
  const followUp =
    kind === "upscale"
      ? { kind, index: index ?? 1, style: upscaleStyle }
      : kind === "variation"
        ? { kind, index: index ?? 1, strength: strength ?? "strong" }
        : kind === "reroll" || kind === "hd"
          ? { kind }
          : kind === "action"
            ? { kind, customId: customId ?? "" }
            : undefined;
  return followUp ? { ...rest, followUp } : rest;
}

export const jobRecordSchema = z.preprocess(liftLegacyFollowUp, jobRecordShape);

export type JobRecord = z.infer<typeof jobRecordShape>;
export type JobKind = JobRecord["kind"];

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Short ids keep custom_ids far under Discord's 100 characters; 10 base-36 chars ≈ 51 bits. */
export function newJobId(): string {
  const bytes = randomBytes(10);
  let id = "";
  for (const byte of bytes) id += idAlphabet[byte % idAlphabet.length];
  return id;
}

export function isFinished(job: Pick<JobRecord, "state">): boolean {
  return job.state === "completed" || job.state === "failed";
}

/** Image number (1-based) of the parent a U or V continues. */
export function followUpIndex(job: JobRecord): number | undefined {
  const followUp = job.followUp;
  return followUp && "index" in followUp ? followUp.index : undefined;
}
