// The table of job kinds: what a new job of each kind records, and how it is sent to its provider.
// The only place that switches on a job's kind; everything else treats jobs alike.
import { parsePrompt, renderPrompt } from "../prompt/index.ts";
import type { ParsedPrompt } from "../prompt/types.ts";
import type {
  BlendDimensions,
  FollowUpRequest,
  ImageInput,
  ImageProvider,
  ParentTask,
  ProviderWarning,
  Quality,
  Speed,
  SubmitResult,
  TaskSnapshot,
} from "../providers/types.ts";
import { JobFailure, jobText } from "./messages.ts";
import { askedFieldsSchema, type FollowUp, type JobError, type JobRecord } from "./record.ts";
import type { NewJobFields } from "./records.ts";

/** What someone asks for; `JobService.create` turns it into a record. */
export type JobRequest =
  | {
      kind: "imagine";
      prompt: ParsedPrompt;
      /** A configured provider's name; the default provider when absent. */
      provider?: string;
      speed?: Speed;
      quality?: Quality;
      providerWarnings?: ProviderWarning[];
    }
  /** 2–5 image links (Discord attachment URLs), fetched when the job starts. */
  | { kind: "blend"; imageUrls: string[]; dimensions: BlendDimensions; provider?: string }
  /** The image link (a Discord attachment URL), fetched when the job starts. */
  | { kind: "describe"; imageUrl: string; provider?: string }
  /** U, V, 🔄, HD or a provider's own button on `parentId`; `prompt` is a remix's edited prompt. */
  | { kind: "followUp"; parentId: string; followUp: FollowUp; prompt?: ParsedPrompt }
  /** The same job again (a failed one's 🔄, a /describe's 🔄). */
  | { kind: "retry"; jobId: string };

/** Who asked, and where; `delivery` is src/discord's opaque note of where the message will be. */
export interface JobOrigin {
  requesterId: string;
  guildId?: string;
  channelId?: string;
  delivery?: Record<string, unknown>;
  /** The language of the job's public message (see JobRecord.language). */
  language?: string;
}

/** Midjourney writes a blend's shape as --ar in the prompt it shows; so do we. */
const blendAspects: Record<BlendDimensions, string | undefined> = {
  portrait: "2:3",
  square: undefined,
  landscape: "3:2",
};

/** What a /blend's message shows in place of a prompt: its images (links), and its shape. */
export function blendPromptText(imageUrls: string[], dimensions: BlendDimensions): string {
  const ar = blendAspects[dimensions];
  return renderPrompt({ images: imageUrls, text: "", params: ar ? { ar } : {}, warnings: [] });
}

type OwnFields = Omit<NewJobFields, "provider" | "requesterId" | "guildId" | "channelId" | "delivery">;

/** The fields of a new job that depend on what was asked; `parent` is the job a follow-up or retry continues. */
export function fieldsFor(request: JobRequest, parent: JobRecord | undefined): OwnFields {
  switch (request.kind) {
    case "imagine":
      return {
        kind: "imagine",
        prompt: renderPrompt(request.prompt),
        warnings: request.prompt.warnings,
        ...notesOf(request.prompt),
        providerWarnings: request.providerWarnings ?? [],
        speed: request.speed,
        quality: request.quality,
      };
    case "blend":
      return {
        kind: "blend",
        prompt: blendPromptText(request.imageUrls, request.dimensions),
        warnings: [],
        sourceUrls: request.imageUrls,
        dimensions: request.dimensions,
      };
    case "describe":
      return {
        kind: "describe",
        prompt: renderPrompt({ images: [request.imageUrl], text: "", params: {}, warnings: [] }),
        warnings: [],
        sourceUrls: [request.imageUrl],
      };
    case "followUp":
      return followUpFields(request, parent as JobRecord);
    case "retry":
      return retryFields(parent as JobRecord);
  }
}

function followUpFields(request: Extract<JobRequest, { kind: "followUp" }>, parent: JobRecord): OwnFields {
  return {
    kind: request.followUp.kind,
    followUp: request.followUp,
    parentId: parent.id,
    prompt: request.prompt ? renderPrompt(request.prompt) : parent.prompt,
    warnings: request.prompt?.warnings ?? [],
    ...notesOf(request.prompt),
    speed: parent.speed,
    quality: request.followUp.kind === "hd" ? "hd" : parent.quality,
  };
}

/** The prompt's notes as data, when it has any (shown in the job's language). */
function notesOf(prompt: ParsedPrompt | undefined): Pick<OwnFields, "notes"> {
  return prompt?.notes?.length ? { notes: prompt.notes } : {};
}

/** What a retry keeps of the job it runs again: what was asked, not what happened. */
function retryFields(failed: JobRecord): OwnFields {
  return askedFieldsSchema.parse(failed);
}

/** Sends `job` to its provider. `sources` are the fetched images of a /blend or /describe. */
export function submitJob(
  provider: ImageProvider,
  job: JobRecord,
  sources: ImageInput[],
  parent: JobRecord | undefined,
): Promise<SubmitResult> {
  switch (job.kind) {
    case "imagine":
      return provider.imagine({ prompt: storedPrompt(job), speed: job.speed, quality: job.quality });
    case "blend":
      if (!provider.blend)
        throw new JobFailure("invalid", jobText("cannot-blend", { provider: provider.name }));
      return provider.blend({ images: sources, dimensions: job.dimensions ?? "square" });
    case "describe": {
      const [image] = sources;
      if (!provider.describe)
        throw new JobFailure("invalid", jobText("cannot-describe", { provider: provider.name }));
      if (!image) throw new JobFailure("invalid", jobText("no-image-to-describe", {}));
      return provider.describe({ image });
    }
    default:
      return provider.followUp(followUpRequest(job, parent));
  }
}

function followUpRequest(job: JobRecord, parent: JobRecord | undefined): FollowUpRequest {
  if (!parent || !job.followUp) throw new JobFailure("invalid", jobText("parent-unknown", {}));
  const parentTask: ParentTask = {
    taskId: parent.taskId ?? "",
    prompt: storedPrompt(parent),
    imageUrls: parent.imageUrls,
    gridUrl: parent.gridUrl,
    speed: parent.speed,
    quality: parent.quality,
    buttons: parent.buttons,
  };
  // A remix changed the prompt; otherwise the provider continues the parent's own.
  const edited = job.prompt === parent.prompt ? undefined : storedPrompt(job);
  const followUp = job.followUp;
  switch (followUp.kind) {
    case "variation":
    case "reroll":
      return { ...followUp, parent: parentTask, prompt: edited };
    default:
      return { ...followUp, parent: parentTask };
  }
}

/** Whether a job of this kind needs its parent's record to be sent. */
export function needsParent(job: JobRecord): boolean {
  return job.followUp !== undefined;
}

const noDescriptionsError: JobError = {
  kind: "transient",
  advice: "retry",
  ...jobText("no-descriptions", {}),
};

/** Why a finished task is no result for this job, if it is not one (a /describe needs its prompts). */
export function completionProblem(job: JobRecord, snapshot: TaskSnapshot): JobError | undefined {
  if (job.kind === "describe" && !snapshot.descriptions?.length) return noDescriptionsError;
  return undefined;
}

function storedPrompt(job: JobRecord): ParsedPrompt {
  const parsed = parsePrompt(job.prompt, {
    maxLength: Number.MAX_SAFE_INTEGER,
    maxJobs: Number.MAX_SAFE_INTEGER,
  });
  if (!parsed.ok)
    throw new JobFailure("invalid", jobText("stored-prompt-unreadable", { problem: parsed.error.message }));
  // A provider gets the prompt only: the notes were shown when it was asked for.
  const { notes: _, ...prompt } = parsed.prompt;
  return { ...prompt, warnings: [] };
}
