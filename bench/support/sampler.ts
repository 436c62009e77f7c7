// What one process costs while a benchmark phase runs, its children (the image worker) included:
// CPU time and peak memory (sampled every 50 ms), read from /proc by the bench process, and
// event-loop delay, which only the process itself can see. `mark()` starts a phase; `read()` reports it.
//
// The bot is measured from outside: a sampler inside it cost it CPU of its own (20 memory reads a
// second, and an event-loop timer every 2 ms), once per process — three times over with three
// processes, which inflated exactly the figure compared (CPU per job, three against one). Inside the
// bot only the event-loop delay histogram runs, at a 10 ms resolution (bot-process.ts).
//
// Memory two ways. RSS summed over the process and its children counts the pages they share twice
// (the Node binary, libvips and the other libraries both map: ~50 MB). The footprint counts them
// once: the process's RSS plus each child's anonymous pages (RssAnon of /proc/PID/status).
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface ProcessFigures extends EventLoopFigures {
  /** Wall time since the mark. */
  elapsedMs: number;
  /** User + system CPU since the mark. */
  cpuMs: number;
  /** The part of `cpuMs` the children used (the bot's image worker). */
  childCpuMs: number;
  peakRssMb: number;
  rssMb: number;
  /** Peak of the process's RSS plus its children's own (unshared) pages. */
  peakFootprintMb: number;
}

export interface EventLoopFigures {
  /** Event-loop delay beyond the sampling resolution. */
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

const rssSampleMs = 50;
/** Linux reports CPU in clock ticks; 100 per second on every common kernel config. */
const ticksPerSecond = 100;
const mb = 1024 * 1024;

/** The process's children (the bot's image worker) as Linux shows them, so their cost counts too. */
function childPids(pid: number): number[] {
  try {
    const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return listed ? listed.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU ms the process has used so far (user + system, every thread); 0 once it has ended. */
function cpuMsOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/**
 * Resident and anonymous bytes, from one read of /proc/PID/status. The anonymous pages (heap,
 * buffers) are what a child adds to a parent that maps the same files. status is cheap to read;
 * smaps_rollup walks every page.
 */
function memoryOf(pid: number): { rssBytes: number; ownBytes: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rssBytes: kb("VmRSS") * 1024, ownBytes: kb("RssAnon") * 1024 };
  } catch {
    return { rssBytes: 0, ownBytes: 0 };
  }
}

/** CPU and memory of a process (and, if asked, its children), read from /proc. */
export class ProcessSampler {
  readonly #pid: number;
  /** Count child processes too (the bot's image worker); not for the bench process, whose children are the bots. */
  readonly #withChildren: boolean;
  #markedAt = performance.now();
  #cpuAtMark = new Map<number, number>();
  #peakRss = 0;
  #peakFootprint = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(options: { pid?: number; withChildren?: boolean } = {}) {
    this.#pid = options.pid ?? process.pid;
    this.#withChildren = options.withChildren ?? false;
    this.mark();
    // unref: sampling must never be what keeps a process alive.
    this.#timer = setInterval(() => this.#sampleMemory(), rssSampleMs).unref();
  }

  mark(): void {
    this.#markedAt = performance.now();
    this.#cpuAtMark = this.#cpu();
    this.#peakRss = 0;
    this.#peakFootprint = 0;
    this.#sampleMemory();
  }

  /** CPU and memory since the mark (event-loop figures are the measured process's own: zero here). */
  read(): ProcessFigures {
    const rssNow = this.#sampleMemory();
    let cpuMs = 0;
    let childCpuMs = 0;
    for (const [pid, ms] of this.#cpu()) {
      const used = ms - (this.#cpuAtMark.get(pid) ?? 0);
      cpuMs += used;
      if (pid !== this.#pid) childCpuMs += used;
    }
    return {
      elapsedMs: performance.now() - this.#markedAt,
      cpuMs,
      childCpuMs,
      peakRssMb: this.#peakRss / mb,
      rssMb: rssNow / mb,
      peakFootprintMb: this.#peakFootprint / mb,
      eventLoopDelayP50Ms: 0,
      eventLoopDelayP99Ms: 0,
      eventLoopDelayMaxMs: 0,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #pids(): number[] {
    return this.#withChildren ? [this.#pid, ...childPids(this.#pid)] : [this.#pid];
  }

  #cpu(): Map<number, number> {
    return new Map(this.#pids().map((pid) => [pid, cpuMsOf(pid)]));
  }

  /** Takes both peaks from one reading; returns the RSS (with children) now. */
  #sampleMemory(): number {
    const [own, ...children] = this.#pids().map(memoryOf);
    const rss = (own?.rssBytes ?? 0) + children.reduce((sum, child) => sum + child.rssBytes, 0);
    const footprint = (own?.rssBytes ?? 0) + children.reduce((sum, child) => sum + child.ownBytes, 0);
    this.#peakRss = Math.max(this.#peakRss, rss);
    this.#peakFootprint = Math.max(this.#peakFootprint, footprint);
    return rss;
  }
}

/** The histogram records whole timer intervals; the resolution is subtracted from each figure. */
export class EventLoopMonitor {
  readonly #resolutionMs: number;
  readonly #delay;

  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs;
    this.#delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#delay.enable();
  }

  mark(): void {
    this.#delay.reset();
  }

  read(): EventLoopFigures {
    const delay = (value: number) => Math.max(0, value / 1e6 - this.#resolutionMs);
    return {
      eventLoopDelayP50Ms: delay(this.#delay.percentile(50)),
      eventLoopDelayP99Ms: delay(this.#delay.percentile(99)),
      eventLoopDelayMaxMs: delay(this.#delay.max),
    };
  }

  stop(): void {
    this.#delay.disable();
  }
}
