// The embedded store's SQLite adapter, with group commit. sqlite3 sends every statement on its own
// trip through libuv's thread pool, and commits (fsyncs the write-ahead log) every write on its own.
// Under a burst each job reads and writes its record ~20 times, and those trips queue one behind the
// other: measured with bench/bot.ts at 50 /imagine/s, a new job's record waited ~500 ms behind other
// jobs' writes before its /imagine could be answered. Here the writes that arrive while a commit is
// under way go out together in the next one, as one statement, and reads that arrive together are
// one statement too. A caller is still answered only once its own write is committed (synchronous
// stays FULL), so durability is exactly as before; reads see writes not yet committed.
import KeyvSqlite, { type KeyvSqliteOptions } from "@keyv/sqlite";

/** A queued delete (a queued write is the serialized value). */
const deleted = Symbol("deleted");
type Change = string | typeof deleted;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Rows per upsert statement: two bound values each, well under SQLite's 32,766. */
const rowsPerStatement = 2_000;

/** Runs `work` after the callbacks of this turn of the event loop: what they write or read goes together. */
const afterThisTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class GroupCommitSqlite extends KeyvSqlite {
  /** Changes waiting for the next commit, and those being committed now (read back from here meanwhile). */
  #queued = new Map<string, Change>();
  #queuedWaiters: Waiter<void>[] = [];
  #committing = new Map<string, Change>();
  #draining: Promise<void> | undefined;
  #reads = new Map<string, Waiter<string | undefined>[]>();
  #readsScheduled = false;
  /** The read batch on its way: a commit waits for it, so a read asked before a write never sees it. */
  #reading: Promise<void> = Promise.resolve();

  constructor(options: KeyvSqliteOptions) {
    super(options);
  }

  override async get<Value>(key: string): Promise<Value | undefined> {
    const change = this.#queued.get(key) ?? this.#committing.get(key);
    if (change !== undefined) return change === deleted ? undefined : (change as Value);
    return new Promise<string | undefined>((resolve, reject) => {
      const waiting = this.#reads.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.#reads.set(key, [{ resolve, reject }]);
      if (!this.#readsScheduled) {
        this.#readsScheduled = true;
        this.#reading = afterThisTurn().then(() => this.#readBatch());
      }
    }) as Promise<Value | undefined>;
  }

  override async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }

  override async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  override set(key: string, value: string): Promise<void> {
    return this.#change(key, value);
  }

  override async delete(key: string): Promise<boolean> {
    // Asked before the delete is queued, which happens now: a read right after sees it gone.
    const existed = this.has(key);
    await this.#change(key, deleted);
    return existed;
  }

  override async deleteMany(keys: string[]): Promise<boolean> {
    return (await Promise.all(keys.map((key) => this.delete(key)))).some(Boolean);
  }

  override async clear(): Promise<void> {
    await this.#idle();
    await super.clear();
  }

  override async disconnect(): Promise<void> {
    await this.#idle();
    await super.disconnect();
  }

  async #idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #change(key: string, change: Change): Promise<void> {
    this.#queued.set(key, change);
    const committed = new Promise<void>((resolve, reject) => this.#queuedWaiters.push({ resolve, reject }));
    this.#draining ??= this.#drain();
    return committed;
  }

  async #drain(): Promise<void> {
    await afterThisTurn();
    while (this.#queued.size > 0) {
      const batch = this.#queued;
      const waiters = this.#queuedWaiters;
      this.#queued = new Map();
      this.#queuedWaiters = [];
      this.#committing = batch;
      try {
        // sqlite3 may run two statements of one connection in either order on its thread pool.
        await this.#reading;
        await this.#commit(batch);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      } finally {
        this.#committing = new Map();
      }
    }
    this.#draining = undefined;
  }

  /** One statement when it can be; several in one transaction otherwise (all or nothing). */
  async #commit(batch: Map<string, Change>): Promise<void> {
    const table = this.opts.table;
    const rows: string[] = [];
    const removed: string[] = [];
    for (const [key, change] of batch) {
      if (change === deleted) removed.push(key);
      else rows.push(key, change);
    }
    const statements: Array<[string, ...unknown[]]> = [];
    for (let start = 0; start < rows.length; start += rowsPerStatement * 2) {
      const chunk = rows.slice(start, start + rowsPerStatement * 2);
      const values = Array.from({ length: chunk.length / 2 }, () => "(?, ?)").join(", ");
      statements.push([
        `INSERT INTO ${table} (key, value) VALUES ${values} ON CONFLICT(key) DO UPDATE SET value=excluded.value`,
        ...chunk,
      ]);
    }
    if (removed.length > 0)
      statements.push([
        `DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?))`,
        JSON.stringify(removed),
      ]);
    if (statements.length === 1) {
      const [sql, ...parameters] = statements[0] as [string, ...unknown[]];
      await this.query(sql, ...parameters);
      return;
    }
    await this.query("BEGIN IMMEDIATE");
    try {
      for (const [sql, ...parameters] of statements) await this.query(sql, ...parameters);
      await this.query("COMMIT");
    } catch (error) {
      await this.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }

  async #readBatch(): Promise<void> {
    this.#readsScheduled = false;
    const reads = this.#reads;
    this.#reads = new Map();
    try {
      const rows = (await this.query(
        `SELECT key, value FROM ${this.opts.table} WHERE key IN (SELECT value FROM json_each(?))`,
        JSON.stringify([...reads.keys()]),
      )) as Array<{ key: string; value: string }>;
      const found = new Map(rows.map((row) => [row.key, row.value]));
      for (const [key, waiters] of reads) for (const waiter of waiters) waiter.resolve(found.get(key));
    } catch (error) {
      for (const waiters of reads.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}
