// Typed access to records in the shared keyv: each repository owns one key prefix and
// validates what it reads with its zod schema, so a stale or foreign record fails loudly.
import type Keyv from "keyv";
import type { z } from "zod";

export class Repository<Schema extends z.ZodType> {
  constructor(
    protected readonly keyv: Keyv,
    private readonly prefix: string,
    private readonly schema: Schema,
  ) {}

  async get(id: string): Promise<z.infer<Schema> | undefined> {
    const stored = await this.keyv.get(this.key(id));
    return stored === undefined ? undefined : this.validate(id, stored);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, z.infer<Schema>>> {
    const found = new Map<string, z.infer<Schema>>();
    for (const id of ids) {
      const record = await this.get(id);
      if (record !== undefined) found.set(id, record);
    }
    return found;
  }

  async set(id: string, record: z.infer<Schema>, ttlMs?: number): Promise<void> {
    await this.keyv.set(this.key(id), record, ttlMs);
  }

  async delete(id: string): Promise<void> {
    await this.keyv.delete(this.key(id));
  }

  /**
   * Read-modify-write of one record: `change` gets the record as stored (undefined when there is
   * none) and returns its new value, or undefined to leave it as it is; the result is what was
   * stored. `change` may be called more than once (when another process wrote meanwhile), so it must
   * not do anything else. One process's updates of one record must not overlap (the caller
   * serializes them); with the embedded store there is no other process.
   */
  async update(
    id: string,
    change: (current: z.infer<Schema> | undefined) => z.infer<Schema> | undefined,
  ): Promise<z.infer<Schema> | undefined> {
    const next = change(await this.get(id));
    if (next !== undefined) await this.set(id, next);
    return next;
  }

  protected key(id: string): string {
    return `${this.prefix}:${id}`;
  }

  /** A stale or foreign record fails loudly instead of flowing on. */
  protected validate(id: string, stored: unknown): z.infer<Schema> {
    const parsed = this.schema.safeParse(stored);
    if (!parsed.success) {
      throw new Error(`Stored ${this.prefix} record ${id} is unreadable: ${parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }
}

export interface CacheOptions {
  /** Records kept in memory at most; the least recently loaded clean ones go first. */
  maxEntries?: number;
  /** A background write failed (the record stays in memory; the next write of it retries). */
  onWriteError?: (error: unknown) => void;
}

/**
 * A Repository whose records this process keeps in memory: reads after the first cost nothing,
 * writes change memory at once and reach the store in order, in the background. Only for records
 * this process alone writes (the bot runs as one process) on paths where a store round trip per
 * read would keep people waiting: admission, usage, preferences, guild settings.
 */
export class CachedRepository<Schema extends z.ZodType> {
  private readonly records = new Map<string, Promise<z.infer<Schema> | undefined>>();
  /** Changes not yet in the store; `undefined` is a delete. */
  private readonly unwritten = new Map<string, z.infer<Schema> | undefined>();
  private writing: Promise<void> = Promise.resolve();
  private flushQueued = false;

  constructor(
    private readonly repository: Repository<Schema>,
    private readonly options: CacheOptions = {},
  ) {}

  /** `Repository.update` on the record in memory; the store gets the result behind (see `flushed`). */
  async update(
    id: string,
    change: (current: z.infer<Schema> | undefined) => z.infer<Schema> | undefined,
  ): Promise<z.infer<Schema> | undefined> {
    const next = change(await this.get(id));
    if (next !== undefined) this.set(id, next);
    return next;
  }

  get(id: string): Promise<z.infer<Schema> | undefined> {
    const known = this.records.get(id);
    if (known) return known;
    const loading = this.repository.get(id);
    this.records.set(id, loading);
    // A failed read is not remembered: the next get asks the store again.
    loading.catch(() => this.records.delete(id));
    this.evict();
    return loading;
  }

  set(id: string, record: z.infer<Schema>): void {
    this.records.set(id, Promise.resolve(record));
    this.unwritten.set(id, record);
    this.flushSoon();
  }

  delete(id: string): void {
    this.records.set(id, Promise.resolve(undefined));
    this.unwritten.set(id, undefined);
    this.flushSoon();
  }

  /** Resolves once every change made so far is in the store (shutdown, tests, admin writes). */
  async flushed(): Promise<void> {
    do await this.writing;
    while (this.flushQueued);
  }

  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.writing = this.writing.then(() => this.writeBatch());
  }

  private async writeBatch(): Promise<void> {
    this.flushQueued = false;
    const batch = [...this.unwritten];
    this.unwritten.clear();
    for (const [id, record] of batch) {
      try {
        if (record === undefined) await this.repository.delete(id);
        else await this.repository.set(id, record);
      } catch (error) {
        if (!this.unwritten.has(id)) this.unwritten.set(id, record);
        this.options.onWriteError?.(error);
      }
    }
  }

  private evict(): void {
    const limit = this.options.maxEntries ?? 10_000;
    for (const id of this.records.keys()) {
      if (this.records.size <= limit) return;
      if (!this.unwritten.has(id)) this.records.delete(id);
    }
  }
}

/**
 * An ordered list of ids under one key (e.g. the jobs not yet delivered, in arrival order).
 * Concurrent updates in this process never lose each other: they are applied in call order, and all
 * that arrive while a write is in flight go out together in the next one (one read and one write
 * per batch, not per id — under load a per-id chain made every caller wait behind every other).
 */
export class KeyList {
  private queued: QueuedChange[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly keyv: Keyv,
    private readonly key: string,
  ) {}

  async all(): Promise<string[]> {
    await this.flushing;
    return this.read();
  }

  add(id: string): Promise<void> {
    return this.update((ids) => (ids.includes(id) ? ids : [...ids, id]));
  }

  /** Adds `id` at the end and keeps only the newest `keep` ids. */
  addKeepingLast(id: string, keep: number): Promise<void> {
    return this.update((ids) => [...ids.filter((existing) => existing !== id), id].slice(-keep));
  }

  remove(id: string): Promise<void> {
    return this.update((ids) => ids.filter((existing) => existing !== id));
  }

  private async read(): Promise<string[]> {
    const raw = await this.keyv.get<string[]>(this.key);
    return Array.isArray(raw) ? raw : [];
  }

  private update(change: (ids: string[]) => string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ change, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        const before = await this.read();
        const after = batch.reduce((ids, queued) => queued.change(ids), before);
        if (after !== before) await this.keyv.set(this.key, after);
        for (const queued of batch) queued.resolve();
      } catch (error) {
        // Nothing of this batch was written; every caller in it sees the error, later batches still run.
        for (const queued of batch) queued.reject(error);
      }
    }
    this.flushing = undefined;
  }
}

interface QueuedChange {
  change: (ids: string[]) => string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}
