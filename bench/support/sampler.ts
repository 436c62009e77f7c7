// What one process costs while a benchmark phase runs, its children (the image worker) included:
// CPU time, peak memory (sampled every 50 ms) and event-loop delay (of the process itself). `mark()` starts a phase; `read()` reports it.
//
// Memory two ways. RSS summed over the process and its children counts the pages they share twice
// (the Node binary, libvips and the other libraries both map: ~50 MB). The footprint counts them
// once: the process's RSS plus each child's anonymous pages (RssAnon of /proc/PID/status).
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface ProcessFigures {
  /** Wall time since the mark. */
  elapsedMs: number;
  /** User + system CPU since the mark. */
  cpuMs: number;
  peakRssMb: number;
  rssMb: number;
  /** Peak of the process's RSS plus its children's own (unshared) pages. */
  peakFootprintMb: number;
  /** Event-loop delay beyond the sampling resolution. */
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

const rssSampleMs = 50;
/** Linux reports child CPU in clock ticks; 100 per second on every common kernel config. */
const ticksPerSecond = 100;

/** The process's children (the bot's image worker) as Linux shows them, so their cost counts too. */
function childPids(): number[] {
  try {
    const listed = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim();
    return listed ? listed.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU ms each child has used so far (user + system). */
function childCpuMs(): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of childPids()) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      used.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond);
    } catch {
      // The child ended between listing and reading.
    }
  }
  return used;
}

/** Memory of the children, both ways, from one read of /proc/PID/status each. */
interface ChildrenMemory {
  rssBytes: number;
  /**
   * What the children add to a parent that maps the same files: their anonymous pages (heap,
   * buffers); their file pages (the Node binary, libraries) are the parent's too. status is cheap
   * to read; smaps_rollup walks every page and cost the bot a tenth of its thread at 20 reads/s.
   */
  ownBytes: number;
}

function childrenMemory(): ChildrenMemory {
  const memory = { rssBytes: 0, ownBytes: 0 };
  for (const pid of childPids()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
      memory.rssBytes += kb("VmRSS") * 1024;
      memory.ownBytes += kb("RssAnon") * 1024;
    } catch {
      // The child ended between listing and reading.
    }
  }
  return memory;
}

/** The histogram records whole timer intervals; a small resolution keeps the subtracted part small. */
const eventLoopResolutionMs = 2;
const mb = 1024 * 1024;

export class ProcessSampler {
  /** Count child processes too (the bot's image worker); not for the bench process, whose child is the bot. */
  readonly #withChildren: boolean;
  #markedAt = performance.now();
  #cpuAtMark = process.cpuUsage();
  #peakRss: number;
  #peakFootprint: number;
  #childCpuAtMark: Map<number, number>;
  readonly #delay = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
  readonly #timer: NodeJS.Timeout;

  constructor(options: { withChildren?: boolean } = {}) {
    this.#withChildren = options.withChildren ?? false;
    this.#peakRss = 0;
    this.#peakFootprint = 0;
    this.#sampleRss();
    this.#childCpuAtMark = this.#childCpu();
    this.#delay.enable();
    // unref: sampling must never be what keeps a process alive.
    this.#timer = setInterval(() => this.#sampleRss(), rssSampleMs).unref();
  }

  mark(): void {
    this.#markedAt = performance.now();
    this.#cpuAtMark = process.cpuUsage();
    this.#childCpuAtMark = this.#childCpu();
    this.#peakRss = 0;
    this.#peakFootprint = 0;
    this.#sampleRss();
    this.#delay.reset();
  }

  read(): ProcessFigures {
    const rssNow = this.#sampleRss();
    const cpu = process.cpuUsage(this.#cpuAtMark);
    let childCpu = 0;
    for (const [pid, ms] of this.#childCpu()) childCpu += ms - (this.#childCpuAtMark.get(pid) ?? 0);
    const delay = (value: number) => Math.max(0, value / 1e6 - eventLoopResolutionMs);
    return {
      elapsedMs: performance.now() - this.#markedAt,
      cpuMs: (cpu.user + cpu.system) / 1000 + childCpu,
      peakRssMb: this.#peakRss / mb,
      rssMb: rssNow / mb,
      peakFootprintMb: this.#peakFootprint / mb,
      eventLoopDelayP50Ms: delay(this.#delay.percentile(50)),
      eventLoopDelayP99Ms: delay(this.#delay.percentile(99)),
      eventLoopDelayMaxMs: delay(this.#delay.max),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#delay.disable();
  }

  /** Takes both peaks from one reading; returns the RSS (with children) now. */
  #sampleRss(): number {
    const own = process.memoryUsage.rss();
    const children = this.#withChildren ? childrenMemory() : { rssBytes: 0, ownBytes: 0 };
    const rss = own + children.rssBytes;
    this.#peakRss = Math.max(this.#peakRss, rss);
    this.#peakFootprint = Math.max(this.#peakFootprint, own + children.ownBytes);
    return rss;
  }

  #childCpu(): Map<number, number> {
    return this.#withChildren ? childCpuMs() : new Map();
  }
}
