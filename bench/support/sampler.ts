// What one process costs while a benchmark phase runs: CPU time, peak RSS (sampled every 50 ms)
// and event-loop delay. `mark()` starts a phase; `read()` reports it.
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface ProcessFigures {
  /** Wall time since the mark. */
  elapsedMs: number;
  /** User + system CPU since the mark. */
  cpuMs: number;
  peakRssMb: number;
  rssMb: number;
  /** Event-loop delay beyond the sampling resolution. */
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

const rssSampleMs = 50;
/** The histogram records whole timer intervals; a small resolution keeps the subtracted part small. */
const eventLoopResolutionMs = 2;
const mb = 1024 * 1024;

export class ProcessSampler {
  #markedAt = performance.now();
  #cpuAtMark = process.cpuUsage();
  #peakRss = process.memoryUsage.rss();
  readonly #delay = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#delay.enable();
    // unref: sampling must never be what keeps a process alive.
    this.#timer = setInterval(() => this.#sampleRss(), rssSampleMs).unref();
  }

  mark(): void {
    this.#markedAt = performance.now();
    this.#cpuAtMark = process.cpuUsage();
    this.#peakRss = process.memoryUsage.rss();
    this.#delay.reset();
  }

  read(): ProcessFigures {
    this.#sampleRss();
    const cpu = process.cpuUsage(this.#cpuAtMark);
    const delay = (value: number) => Math.max(0, value / 1e6 - eventLoopResolutionMs);
    return {
      elapsedMs: performance.now() - this.#markedAt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMb: this.#peakRss / mb,
      rssMb: process.memoryUsage.rss() / mb,
      eventLoopDelayP50Ms: delay(this.#delay.percentile(50)),
      eventLoopDelayP99Ms: delay(this.#delay.percentile(99)),
      eventLoopDelayMaxMs: delay(this.#delay.max),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#delay.disable();
  }

  #sampleRss(): void {
    this.#peakRss = Math.max(this.#peakRss, process.memoryUsage.rss());
  }
}
