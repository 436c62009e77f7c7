// Progress edits are paced per message: at most one edit per interval, only when the view
// changed, always showing the newest state. Final edits skip the wait but never overlap an edit.
export interface PacerOptions {
  intervalMs: number;
  now?: () => number;
}

interface PendingEdit {
  signature: string;
  perform: () => Promise<void>;
  final: boolean;
  settle: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

interface Lane {
  lastSignature?: string;
  lastEditAt: number;
  busy: boolean;
  pending?: PendingEdit;
  timer?: NodeJS.Timeout;
  closed: boolean;
}

export class EditPacer {
  private readonly lanes = new Map<string, Lane>();
  private readonly now: () => number;

  constructor(private readonly options: PacerOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Schedules an edit of the message `key`. Resolves once this view (or a newer one replacing it)
   * is on the message; an unchanged view resolves at once without an edit.
   */
  edit(
    key: string,
    signature: string,
    perform: () => Promise<void>,
    options: { final?: boolean } = {},
  ): Promise<void> {
    const lane = this.lane(key);
    if (lane.closed) return Promise.resolve();
    const final = options.final ?? false;
    if (!final && !lane.pending && !lane.busy && lane.lastSignature === signature) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const replaced = lane.pending;
      // A newer view replaces an unsent one; those waiting on the old one wait on the new one.
      lane.pending = {
        signature,
        perform,
        final: final || (replaced?.final ?? false),
        settle: [...(replaced?.settle ?? []), { resolve, reject }],
      };
      this.drive(key, lane);
    });
  }

  /** Forgets a message once its final view is delivered, so memory does not grow with history. */
  close(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    lane.closed = true;
    if (lane.timer) clearTimeout(lane.timer);
    if (!lane.busy) this.lanes.delete(key);
  }

  /** Number of messages with state held (for memory benchmarks). */
  get size(): number {
    return this.lanes.size;
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { lastEditAt: Number.NEGATIVE_INFINITY, busy: false, closed: false };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private drive(key: string, lane: Lane): void {
    if (lane.busy || !lane.pending) return;
    const wait = lane.pending.final ? 0 : lane.lastEditAt + this.options.intervalMs - this.now();
    if (wait > 0) {
      lane.timer ??= setTimeout(() => {
        lane.timer = undefined;
        this.drive(key, lane);
      }, wait);
      return;
    }
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    const edit = lane.pending;
    lane.pending = undefined;
    if (!edit.final && edit.signature === lane.lastSignature) {
      for (const waiter of edit.settle) waiter.resolve();
      return;
    }
    lane.busy = true;
    lane.lastEditAt = this.now();
    edit
      .perform()
      .then(
        () => {
          lane.lastSignature = edit.signature;
          for (const waiter of edit.settle) waiter.resolve();
        },
        (error: unknown) => {
          for (const waiter of edit.settle) waiter.reject(error);
        },
      )
      .finally(() => {
        lane.busy = false;
        if (lane.closed && !lane.pending) this.lanes.delete(key);
        else this.drive(key, lane);
      });
  }
}
