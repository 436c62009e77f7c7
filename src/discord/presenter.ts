// Keeps every job's message in step with the job: paced progress edits while it runs, then the
// final view with its image. Delivery is retried; a job leaves the open list only once delivered.
import { setTimeout as sleep } from "node:timers/promises";
import type { DownloadPolicy } from "../images/download.ts";
import type { EncodedImage } from "../images/encode.ts";
import type { ImageRenderer } from "../images/renderer.ts";
import { duration, jobText } from "../jobs/messages.ts";
import type { JobError, JobRecord } from "../jobs/record.ts";
import type { JobListener, JobService } from "../jobs/service.ts";
import type { Logger } from "../log.ts";
import type { ProviderCapabilities } from "../providers/types.ts";
import {
  type Delivery,
  deliverySchema,
  type MessageDelivery,
  MessageUnreachableError,
  type OutgoingFile,
  type OutgoingMessage,
} from "./delivery.ts";
import type { EditPacer } from "./pacing.ts";
import { jobView } from "./views.ts";

/** What the presenter needs of the job service. */
export type PresenterJobs = Pick<JobService, "get" | "provider" | "markDelivered" | "setDelivery">;

export interface PresenterOptions {
  jobs: PresenterJobs;
  delivery: MessageDelivery;
  pacer: EditPacer;
  downloadPolicy: DownloadPolicy;
  /** Fetches, composes and encodes images (in a worker process in production). */
  renderer: ImageRenderer;
  logger: Logger;
  /**
   * Waits between attempts to deliver a final view; the last one repeats for as long as the message
   * can be reached (an outage of minutes delays a result, never loses it).
   */
  retryDelaysMs?: number[];
  /** Told each time a delivery attempt failed and will be tried again (metrics). */
  onRetry?: () => void;
}

const defaultRetryDelaysMs = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];
/** Shortest time a result fetch gets, even when the task used up its own time limit. */
const minimumFetchMs = 10_000;

const fallbackCapabilities: ProviderCapabilities = {
  upscale: "separate",
  upscaleStyles: [],
  variation: [],
  reroll: true,
  hd: false,
  outpaint: false,
  remix: false,
  blend: false,
  describe: false,
  cancel: false,
  progressPreview: false,
  callback: false,
  speeds: [],
  draft: false,
  maxPromptLength: 8192,
  passThroughParams: [],
  maxTaskDurationMs: 20 * 60_000,
  imagesPerSet: 4,
};

function asFile(image: EncodedImage): OutgoingFile {
  return { name: image.fileName, data: image.bytes, contentType: image.contentType };
}

/** The result exists at the provider, but its images could not be fetched: say which way (the view words it in the job's language), offer 🔄. */
function unfetchedResultError(error: unknown, budgetMs: number): JobError {
  const timedOut = (error as { reason?: string }).reason === "timeout";
  const text = timedOut
    ? jobText("host-timed-out", { duration: duration(budgetMs) })
    : jobText("unfetched", { problem: (error as Error).message });
  return { kind: "transient", advice: "retry", ...text };
}

export class JobPresenter implements JobListener {
  private readonly stopping = new AbortController();
  /** Newest delivery per job: it changes when the token expires or a reply replaces the message. */
  private readonly deliveries = new Map<string, Delivery>();
  private readonly previews = new Map<string, { url: string; file?: OutgoingFile }>();

  constructor(private readonly options: PresenterOptions) {}

  capabilities(job: JobRecord): ProviderCapabilities {
    return this.options.jobs.provider(job.provider)?.capabilities ?? fallbackCapabilities;
  }

  onProgress(job: JobRecord): void {
    const delivery = this.deliveryOf(job);
    if (!delivery) return;
    const view = jobView(job, this.capabilities(job));
    const signature = JSON.stringify([view, job.previewUrl]);
    this.options.pacer
      .edit(job.id, signature, async () => {
        // A waiting job's place in line is shown by the process that queued it, paced; with many
        // processes another one may have started (even delivered) it meanwhile: then this view is stale.
        if (job.state === "queued" && (await this.options.jobs.get(job.id))?.state !== "queued") return;
        const file = await this.previewFile(job);
        await this.send(job.id, delivery, { ...view, file });
      })
      .catch((error: unknown) => this.options.logger.warn("progress edit failed", { job: job.id, error }));
  }

  onFinished(job: JobRecord): void {
    // Never an unhandled rejection: the job stays open and is delivered again at the next start.
    this.deliverFinal(job).catch((error: unknown) =>
      this.options.logger.error("delivering a finished job crashed", { job: job.id, error }),
    );
  }

  /** Stops retrying deliveries (shutdown); undelivered jobs are delivered again at the next start. */
  stop(): void {
    this.stopping.abort();
  }

  /**
   * /show: the finished job's view, images and buttons, on a new message (`at`: the /show reply).
   * Its buttons name the job, so they work as on the first message.
   */
  async showAgain(job: JobRecord, at: Delivery): Promise<void> {
    await this.options.delivery.edit(at, await this.finalMessage(job));
  }

  /** Shows the finished job, retrying through outages while the message can be reached. */
  async deliverFinal(job: JobRecord): Promise<void> {
    const delivery = this.deliveryOf(job);
    if (!delivery) {
      await this.options.jobs.markDelivered(job.id);
      return;
    }
    const message = await this.finalMessage(job);
    const delays = this.options.retryDelaysMs ?? defaultRetryDelaysMs;
    for (let attempt = 0; !this.stopping.signal.aborted; attempt += 1) {
      try {
        await this.options.pacer.edit(job.id, "final", () => this.send(job.id, delivery, message), {
          final: true,
        });
        await this.options.jobs.markDelivered(job.id);
        break;
      } catch (error) {
        const unreachable = error instanceof MessageUnreachableError;
        this.options.logger[unreachable ? "error" : "warn"]("delivering a finished job failed", {
          job: job.id,
          attempt: attempt + 1,
          error,
        });
        if (unreachable) break;
        this.options.onRetry?.();
        await sleep(delays[Math.min(attempt, delays.length - 1)] ?? 1_000, undefined, {
          signal: this.stopping.signal,
        }).catch(() => undefined);
      }
    }
    this.forget(job.id);
  }

  private async finalMessage(job: JobRecord): Promise<OutgoingMessage> {
    const capabilities = this.capabilities(job);
    if (job.state !== "completed") return jobView(job, capabilities);
    if (job.kind === "describe")
      return { ...jobView(job, capabilities), file: await this.describedFile(job) };
    const policy = { ...this.options.downloadPolicy, timeoutMs: this.fetchBudgetMs(job) };
    try {
      const shown = await this.options.renderer.renderResult(job, policy);
      return { ...jobView(job, capabilities), file: asFile(shown) };
    } catch (error) {
      this.options.logger.warn("could not fetch the finished images", { job: job.id, error });
      return jobView(
        { ...job, state: "failed", error: unfetchedResultError(error, policy.timeoutMs) },
        capabilities,
      );
    }
  }

  /**
   * How long the finished images may take to arrive: what is left of the job's time limit, at least
   * a little, at most the download policy's own limit. One stalled host thus delays only its job.
   */
  private fetchBudgetMs(job: JobRecord): number {
    const ceiling = this.options.downloadPolicy.timeoutMs;
    const left = (job.deadlineAt ?? Number.POSITIVE_INFINITY) - Date.now();
    return Math.min(ceiling, Math.max(Math.min(minimumFetchMs, ceiling), left));
  }

  /** The image a /describe read, shown with its prompts when it can still be fetched (a courtesy only). */
  private async describedFile(job: JobRecord): Promise<OutgoingFile | undefined> {
    const url = job.sourceUrls?.[0];
    if (!url) return undefined;
    try {
      return asFile(await this.options.renderer.renderImage(url, this.options.downloadPolicy, "described"));
    } catch (error) {
      this.options.logger.debug("described image unavailable", {
        job: job.id,
        error,
      });
      return undefined;
    }
  }

  private async previewFile(job: JobRecord): Promise<OutgoingFile | undefined> {
    if (!job.previewUrl) return undefined;
    const known = this.previews.get(job.id);
    if (known?.url === job.previewUrl) return undefined; // already on the message
    try {
      const file = asFile(
        await this.options.renderer.renderImage(job.previewUrl, this.options.downloadPolicy, "preview"),
      );
      this.previews.set(job.id, { url: job.previewUrl, file });
      return file;
    } catch (error) {
      this.options.logger.debug("preview unavailable", { job: job.id, error });
      this.previews.set(job.id, { url: job.previewUrl });
      return undefined;
    }
  }

  private deliveryOf(job: JobRecord): Delivery | undefined {
    const known = this.deliveries.get(job.id);
    if (known) return known;
    const parsed = deliverySchema.safeParse(job.delivery);
    return parsed.success ? parsed.data : undefined;
  }

  private async send(jobId: string, fallback: Delivery, message: OutgoingMessage): Promise<void> {
    const current = this.deliveries.get(jobId) ?? fallback;
    const next = await this.options.delivery.edit(current, message);
    if (next.messageId !== current.messageId || next.token !== current.token) {
      this.deliveries.set(jobId, next);
      await this.options.jobs.setDelivery(jobId, next);
    }
  }

  private forget(jobId: string): void {
    this.deliveries.delete(jobId);
    this.previews.delete(jobId);
    this.options.pacer.close(jobId);
  }
}
