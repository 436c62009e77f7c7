// The words src/jobs itself says to people: the errors it stores on a job (cancelled, timed out,
// restarted while sending, …) and its refusals (❌ Cancel, room in the queue). As data first and
// English second, the same way as src/prompt/messages.ts: a stable `code`, the `values` its sentence
// needs, and `message` in English filled in from `jobsEnglish`, the only English source
// (src/i18n/en/jobs.ts re-exports it; src/i18n/errors.ts renders any language). An image service's
// own error text is not here: it keeps the service's words and has no code.
import { englishText } from "../prompt/index.ts";
import { ProviderError, type ProviderErrorKind } from "../providers/types.ts";

interface TextValues {
  // Errors stored on a job.
  "cancelled-waiting": { user: string };
  "cancelled-running": { user: string };
  "cancelled-at-service": Empty;
  "failed-without-reason": Empty;
  "timed-out": { duration: JobsPhrase };
  "timed-out-at": { duration: JobsPhrase; progress: number };
  /** `problem`: why the download failed, in the image host's or Node's English. */
  "source-fetch": { problem: string };
  "source-fetch-unset": Empty;
  internal: Empty;
  "maybe-sent": Empty;
  "no-descriptions": Empty;
  "no-image-to-describe": Empty;
  "cannot-blend": { provider: string };
  "cannot-describe": { provider: string };
  "parent-unknown": Empty;
  /** `problem`: the prompt error's English message (a stored prompt that stops parsing is a bug). */
  "stored-prompt-unreadable": { problem: string };
  "provider-gone": { provider: string };
  "host-timed-out": { duration: JobsPhrase };
  /** `problem`: why the images could not be fetched, in the image host's or Node's English. */
  unfetched: { problem: string };
  // Refusals: ❌ Cancel.
  "already-finished": Empty;
  "not-requester": { user: string };
  "being-sent": Empty;
  "cannot-stop": Empty;
  /** `problem`: the image service's own words. */
  "not-stopped": { problem: string };
  // Refusals: room in the queue.
  "queue-over-limit": { count: number; limit: number };
  "queue-full": { count: number };
  "queue-full-adding": { count: number; adding: number; limit: number };
  "database-away": Empty;
}

type Empty = Record<string, never>;

export type JobTextCode = keyof TextValues;

/** Something src/jobs says, as data: its code, the values its sentence needs, and the English `message`. */
export type JobText = { [C in JobTextCode]: { code: C; values: TextValues[C] } }[JobTextCode] & {
  message: string;
};

/** Words of the `jobs` catalogue's `phrases`: a duration, said with the language's units and plurals. */
export interface JobsPhrase {
  phrase: "duration.seconds" | "duration.minutes";
  values: { count: number };
}

const tryAgain = "Try again; if it keeps happening, tell an admin.";
const imagesMade = "The images were made, but";

/** The English catalogue of src/jobs (namespace `jobs`). */
export const jobsEnglish = {
  texts: {
    "cancelled-waiting": "Cancelled by {{user}} before it started.",
    "cancelled-running": "Cancelled by {{user}} while it was running.",
    "cancelled-at-service": "The job was cancelled before it finished.",
    "failed-without-reason": "The image service reported a failure without a reason.",
    "timed-out": `The image service did not finish within {{duration}}. ${tryAgain}`,
    "timed-out-at": `The image service did not finish within {{duration}} (last seen at {{progress}}%). ${tryAgain}`,
    "source-fetch": "Atelier could not fetch an image to send to the image service: {{problem}}",
    "source-fetch-unset":
      "Atelier could not fetch an image to send to the image service: this Atelier is not set up to fetch images for /blend and /describe.",
    internal:
      "Something went wrong inside Atelier while running this job. Tell an admin; the log has details.",
    "maybe-sent":
      "Atelier restarted while sending this job, so it may or may not have started. It was not sent again to avoid paying twice: press 🔄 to run it again.",
    "no-descriptions": "The image service finished describing the image but suggested no prompts.",
    "no-image-to-describe": "There is no image to describe.",
    "cannot-blend": "The image service {{provider}} cannot blend images.",
    "cannot-describe": "The image service {{provider}} cannot describe images.",
    "parent-unknown": "The image this button belongs to is no longer known to Atelier.",
    "stored-prompt-unreadable": "The stored prompt no longer parses: {{problem}}",
    "provider-gone":
      'This job belongs to the image service "{{provider}}", which is no longer configured. Tell an admin.',
    "host-timed-out": `${imagesMade} the image host did not answer within {{duration}}.`,
    unfetched: `${imagesMade} Atelier could not fetch them from the image service: {{problem}}`,
    "already-finished": "This job has already finished.",
    "not-requester": "Only {{user}} can cancel this job.",
    "being-sent": "This job is already being sent to the image service; it cannot be cancelled now.",
    "cannot-stop": "The image service cannot stop a job once it has started.",
    "not-stopped": "The image service did not cancel it: {{problem}}",
    "queue-over-limit_one":
      "This would queue {{count}} job, but at most {{limit}} of yours may wait at once. Ask for fewer.",
    "queue-over-limit_other":
      "This would queue {{count}} jobs, but at most {{limit}} of yours may wait at once. Ask for fewer.",
    "queue-full_one": "You have {{count}} job waiting; wait for some to finish before starting more.",
    "queue-full_other": "You have {{count}} jobs waiting; wait for some to finish before starting more.",
    "queue-full-adding_one":
      "You have {{count}} job waiting and this would add {{adding}} (at most {{limit}} may wait); wait for some to finish before starting more.",
    "queue-full-adding_other":
      "You have {{count}} jobs waiting and this would add {{adding}} (at most {{limit}} may wait); wait for some to finish before starting more.",
    "database-away":
      "Atelier cannot reach its database right now, so it is not taking new jobs. Try again in a minute; jobs already started are kept.",
  } satisfies Record<TemplateKey<JobTextCode>, string>,
  phrases: {
    duration: {
      seconds_one: "{{count}} second",
      seconds_other: "{{count}} seconds",
      minutes_one: "{{count}} minute",
      minutes_other: "{{count}} minutes",
    },
  },
};

/** A plural code is written as `code_one` and `code_other`; any other code as itself. */
type TemplateKey<C extends JobTextCode> = C extends PluralCode ? `${C}_${"one" | "other"}` : C;
type PluralCode = {
  [C in JobTextCode]: TextValues[C] extends { count: number } ? C : never;
}[JobTextCode];

export function jobText<C extends JobTextCode>(code: C, values: TextValues[C]): JobText {
  return { code, values, message: englishText(jobsEnglish, `texts.${code}`, values) } as JobText;
}

/** "45 seconds", "1 minute", "20 minutes": a limit as people say it, in words of any language. */
export function duration(ms: number): JobsPhrase {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 60
    ? { phrase: "duration.seconds", values: { count: seconds } }
    : { phrase: "duration.minutes", values: { count: Math.round(seconds / 60) } };
}

/**
 * A failure in Atelier's own words, thrown where an image service's error would be (a time limit,
 * a follow-up whose image is gone): the job's error keeps its code and values (`toJobError`).
 */
export class JobFailure extends ProviderError {
  readonly text: JobText;

  constructor(kind: ProviderErrorKind, text: JobText, options: { code?: string } = {}) {
    super(kind, text.message, options);
    this.text = text;
  }
}
