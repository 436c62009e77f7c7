// A pool of self-hosted machines behind one provider (several ComfyUI or AUTOMATIC1111 URLs): a
// job goes to the least busy healthy instance; an instance that stops answering is skipped and
// checked again later; each instance runs at most `concurrency` jobs at once (A1111: one).

export interface PoolInstance {
  /** The base URL, as configured. */
  readonly url: string;
  /** Position in the configured list (stable: task ids may carry it across restarts). */
  readonly index: number;
}

export interface Lease {
  readonly instance: PoolInstance;
  /** Frees the slot; call once, when the job is done on this instance (or moved off it). */
  release(): void;
}

export interface PoolOptions {
  urls: readonly string[];
  /** Jobs one instance runs at once. */
  concurrency: number;
  /** How long an instance that failed is skipped before it is tried again. Default 30 s. */
  retryAfterMs?: number;
  now?: () => number;
}

interface InstanceState extends PoolInstance {
  busy: number;
  /** Skipped until this time (ms since epoch) after it stopped answering. */
  downUntil: number;
}

export class InstancePool {
  private readonly instances: InstanceState[];
  private readonly waiting: Array<(lease: Lease) => void> = [];
  private readonly now: () => number;

  constructor(private readonly options: PoolOptions) {
    if (options.urls.length === 0) throw new Error("A pool needs at least one URL.");
    this.instances = options.urls.map((url, index) => ({ url, index, busy: 0, downUntil: 0 }));
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.instances.length;
  }

  instance(index: number): PoolInstance | undefined {
    return this.instances[index];
  }

  /** A slot on the least busy instance that is up (waits for one to free); `avoid` skips an instance. */
  acquire(avoid?: PoolInstance): Promise<Lease> {
    const chosen = this.pick(avoid);
    if (chosen) return Promise.resolve(this.lease(chosen));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** An instance stopped answering: skip it for a while (its running jobs move elsewhere). */
  markDown(instance: PoolInstance): void {
    const state = this.instances[instance.index];
    if (state) state.downUntil = this.now() + (this.options.retryAfterMs ?? 30_000);
  }

  /** The instance answered: it is up again. */
  markUp(instance: PoolInstance): void {
    const state = this.instances[instance.index];
    if (state) state.downUntil = 0;
  }

  /** Instances and their load, for logs and the progress line. */
  describe(): Array<{ url: string; busy: number; up: boolean }> {
    const now = this.now();
    return this.instances.map((state) => ({ url: state.url, busy: state.busy, up: state.downUntil <= now }));
  }

  private pick(avoid?: PoolInstance): InstanceState | undefined {
    const now = this.now();
    const free = this.instances.filter((state) => state.busy < this.options.concurrency);
    const up = free.filter((state) => state.downUntil <= now && state.index !== avoid?.index);
    // When every instance is marked down, trying one again beats waiting forever.
    const candidates = up.length > 0 ? up : free.filter((state) => state.index !== avoid?.index);
    return candidates.sort((a, b) => a.busy - b.busy || a.downUntil - b.downUntil || a.index - b.index)[0];
  }

  private lease(state: InstanceState): Lease {
    state.busy += 1;
    let released = false;
    return {
      instance: state,
      release: () => {
        if (released) return;
        released = true;
        state.busy -= 1;
        this.handOver();
      },
    };
  }

  private handOver(): void {
    while (this.waiting.length > 0) {
      const chosen = this.pick();
      if (!chosen) return;
      this.waiting.shift()?.(this.lease(chosen));
    }
  }
}
