// Bounds how many images are composed or encoded at once. sharp runs on libuv's thread pool (4
// threads), which file I/O shares, first come first served (the embedded store once did too): fifty
// grids at once queue hundreds of sharp tasks ahead of every store read, so replies to new commands
// wait seconds, and memory holds fifty canvases. libvips already spreads one image over the cores;
// measured with bench/bot.ts on 2 cores, one grid at a time gave the same throughput with ~30% less
// CPU per job, half the peak RSS and a tenth of the event-loop delay of unbounded composition.
import { availableParallelism } from "node:os";

export class WorkSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private limit: number) {}

  /** Changes how many may run at once; callers waiting get the new room at once. */
  setLimit(limit: number): void {
    this.limit = limit;
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active += 1;
      this.waiting.shift()?.();
    }
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next caller, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** Shared by everything that composes or encodes result images in this process. */
export const imageSlots = new WorkSlots(Math.max(1, Math.floor(availableParallelism() / 2)));
