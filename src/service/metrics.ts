// What an operator graphs: jobs by outcome and provider, job durations, provider errors by kind,
// the queue, Discord calls and rate limits, delivery retries, plus Node's own process metrics
// (event-loop lag included). Prometheus text through prom-client, served at GET /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { JobRecord } from "../jobs/record.ts";
import type { JobListener } from "../jobs/service.ts";

export interface AtelierMetrics {
  registry: Registry;
  /** Register with `JobService.listen`: counts and times every finished job. */
  jobs: JobListener;
  discordResponse(status: number): void;
  discordRateLimited(): void;
  deliveryRetried(): void;
}

export interface MetricsSources {
  /** Jobs waiting in the queue now. */
  queueDepth(): number;
}

/** The job figures: how jobs end, how long they take, which provider errors they meet. */
function jobMetrics(registry: Registry) {
  return {
    finished: new Counter({
      name: "atelier_jobs_finished_total",
      help: "Jobs that ended, by provider, kind of job and outcome (completed, or the error kind).",
      labelNames: ["provider", "kind", "outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "atelier_job_duration_seconds",
      help: "From asking to the end of the job (queue wait included), by provider and outcome.",
      labelNames: ["provider", "outcome"],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200],
      registers: [registry],
    }),
    providerErrors: new Counter({
      name: "atelier_provider_errors_total",
      help: "Jobs the provider failed, by provider and kind of error (refused, auth, quota, transient, timeout, …).",
      labelNames: ["provider", "kind"],
      registers: [registry],
    }),
  };
}

/** The Discord figures: responses by status class, rate limits met, delivery retries. */
function discordMetrics(registry: Registry) {
  return {
    discordCalls: new Counter({
      name: "atelier_discord_responses_total",
      help: "Discord REST responses by status class (2xx, 4xx, 429, 5xx).",
      labelNames: ["status"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "atelier_discord_rate_limited_total",
      help: "Times a Discord rate limit made a request wait.",
      registers: [registry],
    }),
    retries: new Counter({
      name: "atelier_delivery_retries_total",
      help: "Attempts to deliver a finished job that failed and were retried.",
      registers: [registry],
    }),
  };
}

export function createMetrics(sources: MetricsSources): AtelierMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { finished, duration, providerErrors } = jobMetrics(registry);
  const { discordCalls, rateLimited, retries } = discordMetrics(registry);
  new Gauge({
    name: "atelier_queue_depth",
    help: "Jobs waiting for a running slot.",
    registers: [registry],
    collect() {
      this.set(sources.queueDepth());
    },
  });
  const onFinished = (job: JobRecord) => {
    const outcome = job.state === "completed" ? "completed" : (job.error?.kind ?? "failed");
    finished.inc({ provider: job.provider, kind: job.kind, outcome });
    duration.observe(
      { provider: job.provider, outcome },
      ((job.finishedAt ?? Date.now()) - job.createdAt) / 1000,
    );
    if (job.error && job.error.kind !== "cancelled")
      providerErrors.inc({ provider: job.provider, kind: job.error.kind });
  };
  return {
    registry,
    jobs: { onProgress: () => undefined, onFinished },
    discordResponse: (status) =>
      discordCalls.inc({ status: status === 429 ? "429" : `${Math.floor(status / 100)}xx` }),
    discordRateLimited: () => rateLimited.inc(),
    deliveryRetried: () => retries.inc(),
  };
}
