// The embedded store: keyv over better-sqlite3, answered in the bot's own thread. Every statement
// of the asynchronous sqlite3 driver took a trip through libuv's thread pool and back; with the
// cores busy composing grids each trip waited for a thread to be scheduled, so a store read took
// ~4 ms at the median and 35 ms at p99 (bench/bot.ts, 50 /imagine/s), and the reply to /imagine,
// which waits for the new job's record, waited for several of them. Here a read or a write is a
// function call of a few microseconds that nothing can queue in front of.
//
// Durability: write-ahead log with synchronous=NORMAL, so a write is in the log (the operating
// system's file) when its promise resolves and survives the bot crashing or being killed at any
// instant. The log is made durable against power loss by a checkpoint every second in a worker
// thread (below), as Redis does with `appendfsync everysec`: a power cut can lose the
// last second of writes, never the file. The same table as before (`keyv`, key → value), so a data
// directory written by earlier versions reads as it was.
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { KeyvStoreAdapter, StoredData } from "keyv";

export interface SqliteStoreOptions {
  /** The database file. */
  file: string;
  /** How long a write waits for another process (e.g. `atelier imagine` beside the bot) to finish its own. */
  busyTimeoutMs?: number;
  /** How often the write-ahead log is checkpointed (fsynced) off the bot's thread; 0 turns it off. */
  checkpointEveryMs?: number;
}

const table = "keyv";

export class SqliteStore extends EventEmitter implements KeyvStoreAdapter {
  opts: { dialect: "sqlite"; file: string };
  namespace?: string;
  readonly #db: Database.Database;
  readonly #checkpointer: Worker | undefined;
  readonly #select: Database.Statement<[string], { value: string }>;
  readonly #selectMany: Database.Statement<[string], { key: string; value: string }>;
  readonly #upsert: Database.Statement<[string, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deleteMany: Database.Statement<[string]>;
  readonly #clear: Database.Statement<[string]>;
  readonly #page: Database.Statement<[string, number, number], { key: string; value: string }>;

  constructor(options: SqliteStoreOptions) {
    super();
    this.opts = { dialect: "sqlite", file: options.file };
    this.#db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 10_000 });
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    const checkpointEveryMs = options.checkpointEveryMs ?? 1_000;
    // Checkpoints copy the log into the file and fsync both: done in the worker, never in this thread.
    if (checkpointEveryMs > 0) this.#db.pragma("wal_autocheckpoint = 0");
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(255) PRIMARY KEY, value TEXT)`);
    this.#select = this.#db.prepare(`SELECT value FROM ${table} WHERE key = ?`);
    this.#selectMany = this.#db.prepare(
      `SELECT key, value FROM ${table} WHERE key IN (SELECT value FROM json_each(?))`,
    );
    this.#upsert = this.#db.prepare(
      `INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    );
    this.#delete = this.#db.prepare(`DELETE FROM ${table} WHERE key = ?`);
    this.#deleteMany = this.#db.prepare(`DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?))`);
    this.#clear = this.#db.prepare(`DELETE FROM ${table} WHERE key LIKE ?`);
    this.#page = this.#db.prepare(
      `SELECT key, value FROM ${table} WHERE key LIKE ? ORDER BY key LIMIT ? OFFSET ?`,
    );
    this.#checkpointer =
      checkpointEveryMs > 0 ? startCheckpointer(options, checkpointEveryMs, this) : undefined;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#select.get(key)?.value as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const found = new Map(this.#selectMany.all(JSON.stringify(keys)).map((row) => [row.key, row.value]));
    return keys.map((key) => found.get(key) as StoredData<Value | undefined>);
  }

  async has(key: string): Promise<boolean> {
    return this.#select.get(key) !== undefined;
  }

  async set(key: string, value: string): Promise<void> {
    this.#upsert.run(key, value);
  }

  async delete(key: string): Promise<boolean> {
    return this.#delete.run(key).changes > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return this.#deleteMany.run(JSON.stringify(keys)).changes > 0;
  }

  async clear(): Promise<void> {
    this.#clear.run(this.namespace ? `${this.namespace}:%` : "%");
  }

  /** Keys with their stored (serialized) values; keyv reads the values itself. */
  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const pattern = `${namespace ? `${namespace}:` : ""}%`;
    const pageSize = 100;
    for (let offset = 0; ; offset += pageSize) {
      const rows = this.#page.all(pattern, pageSize, offset);
      for (const row of rows) yield [row.key, row.value];
      if (rows.length < pageSize) return;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.#db.open) return;
    await this.#checkpointer?.terminate();
    // What the worker had not copied yet goes into the file now, and the log is emptied.
    this.#db.pragma("wal_checkpoint(TRUNCATE)");
    this.#db.close();
  }
}

/**
 * A worker thread with its own connection to the same file, checkpointing on a timer. Its code is
 * plain JavaScript handed over as text, so it runs the same from source and from an installed copy.
 */
function startCheckpointer(options: SqliteStoreOptions, everyMs: number, store: EventEmitter): Worker {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     const Database = require(workerData.driver);
     const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
     setInterval(() => {
       try {
         db.pragma("wal_checkpoint(PASSIVE)");
       } catch (error) {
         parentPort.postMessage(String(error));
       }
     }, workerData.everyMs);`,
    {
      eval: true,
      workerData: { driver, file: options.file, busyTimeoutMs: options.busyTimeoutMs ?? 10_000, everyMs },
    },
  );
  // Not a reason to keep the process alive; an error is the store's (keyv reports it). A failed
  // checkpoint (a full disk) is tried again at the next tick: the log keeps every write meanwhile.
  worker.unref();
  worker.on("error", (error) => store.emit("error", error));
  worker.on("message", (message: string) =>
    store.emit("error", new Error(`SQLite checkpoint failed: ${message}`)),
  );
  return worker;
}
