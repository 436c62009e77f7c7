// What changes when several processes share one Redis: nothing one process keeps in memory may be
// something another needs to see. Records are read through (no write-behind cache), read-modify-write
// of one record is a compare-and-set, and id lists are sorted sets changed in one command each.
// With the embedded store every helper here is the single-process code it always was.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { z } from "zod";
import type { Logger } from "../log.ts";
import type { Store } from "./index.ts";
import { redisScript } from "./redis-script.ts";
import { CachedRepository, type CacheOptions, KeyList, Repository } from "./repository.ts";
import { type SharedStore, sharedRepository } from "./shared-repository.ts";

/** Keys of our own Redis structures (keyv's are `atelier::…`, BullMQ's `atelier-queue:…`). */
export const sharedPrefix = "atelier:shared:";

/** Records read on hot paths: cached in memory for one process, read through from Redis for many. */
export interface RecordCache<Schema extends z.ZodType> {
  get(id: string): Promise<z.infer<Schema> | undefined>;
  /** Resolves once written when shared; with the embedded store the write happens behind (see `flushed`). */
  set(id: string, record: z.infer<Schema>): void | Promise<void>;
  delete(id: string): void | Promise<void>;
  /**
   * Read-modify-write (see `Repository.update`): a compare-and-set when shared, so another process's
   * change is never lost; in memory, written behind, for one process. Callers serialize their own.
   */
  update(
    id: string,
    change: (current: z.infer<Schema> | undefined) => z.infer<Schema> | undefined,
  ): Promise<z.infer<Schema> | undefined>;
  flushed(): Promise<void>;
}

export function recordCache<Schema extends z.ZodType>(
  store: SharedStore,
  prefix: string,
  schema: Schema,
  options: CacheOptions = {},
): RecordCache<Schema> {
  return store.redis
    ? new ReadThrough(sharedRepository(store, prefix, schema))
    : new CachedRepository(new Repository(store.keyv, prefix, schema), options);
}

/** Every read asks Redis (well under a millisecond), so a change made by another process is seen at once. */
class ReadThrough<Schema extends z.ZodType> implements RecordCache<Schema> {
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly repository: Repository<Schema>) {}

  get(id: string): Promise<z.infer<Schema> | undefined> {
    return this.repository.get(id);
  }

  set(id: string, record: z.infer<Schema>): Promise<void> {
    return this.track(this.repository.set(id, record));
  }

  delete(id: string): Promise<void> {
    return this.track(this.repository.delete(id));
  }

  update(
    id: string,
    change: (current: z.infer<Schema> | undefined) => z.infer<Schema> | undefined,
  ): Promise<z.infer<Schema> | undefined> {
    const updated = this.repository.update(id, change);
    this.track(updated.then(() => undefined));
    return updated;
  }

  async flushed(): Promise<void> {
    await Promise.allSettled([...this.writing]);
  }

  private track(write: Promise<void>): Promise<void> {
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write)).catch(() => undefined);
    return write;
  }
}

const lockLeaseMs = 10_000;
const lockWaitMs = 15_000;
/** Deletes the lock only if it is still ours (its lease may have run out and been taken). */
const releaseScript = {
  name: "atelierReleaseLock",
  numberOfKeys: 1,
  lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`,
};

/**
 * Runs `work` while no other process works on `key`: for a decision over several records (a usage
 * limit reads totals and counts). A change of one record is a compare-and-set instead
 * (`RecordCache.update`, shared-repository.ts). One process serializes its own work before calling
 * this (KeyedSerializer), so the lock is contended only between processes. The embedded store has
 * one process: `work` runs directly.
 */
export async function lockShared<T>(
  store: Pick<Store, "redis">,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  const redis = store.redis;
  if (!redis) return work();
  const lockKey = `${sharedPrefix}lock:${key}`;
  const token = randomUUID();
  const deadline = Date.now() + lockWaitMs;
  let pause = 2;
  while ((await redis.set(lockKey, token, "PX", lockLeaseMs, "NX")) !== "OK") {
    if (Date.now() > deadline) throw new Error(`The record ${key} stayed locked for ${lockWaitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
  try {
    return await work();
  } finally {
    await redisScript(redis, releaseScript)(lockKey, token).catch(() => undefined);
  }
}

/** An ordered list of ids (jobs not yet delivered, a person's latest jobs). */
export interface IdList {
  all(): Promise<string[]>;
  add(id: string): Promise<void>;
  /** Adds `id` at the end and keeps only the newest `keep` ids. */
  addKeepingLast(id: string, keep: number): Promise<void>;
  remove(id: string): Promise<void>;
}

export function idList(store: Pick<Store, "keyv" | "redis">, key: string): IdList {
  return store.redis ? new RedisIdList(store.redis, `${sharedPrefix}${key}`) : new KeyList(store.keyv, key);
}

/** Adds ARGV[2] scored ARGV[1] and drops all but the newest: one command (a MULTI was four). */
const addKeepingLastScript = {
  name: "atelierAddKeepingLast",
  numberOfKeys: 1,
  lua: `
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, tonumber(ARGV[3]))
return 1`,
};

/** A sorted set scored by arrival: every change is one atomic command, so processes never lose each other's. */
class RedisIdList implements IdList {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  all(): Promise<string[]> {
    return this.redis.zrange(this.key, "0", "-1");
  }

  async add(id: string): Promise<void> {
    await this.redis.zadd(this.key, "NX", String(Date.now()), id);
  }

  async addKeepingLast(id: string, keep: number): Promise<void> {
    await redisScript(this.redis, addKeepingLastScript)(this.key, Date.now(), id, -(keep + 1));
  }

  async remove(id: string): Promise<void> {
    await this.redis.zrem(this.key, id);
  }
}

/** What /healthz reports while Redis is away (undefined when it answers, or with the embedded store). */
export function redisProblem(store: Pick<Store, "redis" | "redisUrl">): string | undefined {
  if (!store.redis || store.redis.status === "ready") return undefined;
  const { hostname, port } = new URL(store.redisUrl ?? "redis://localhost");
  return `Redis at ${hostname}:${port || 6379} unreachable: new jobs are paused`;
}

/** Says once that Redis went away (new work pauses) and once that it is back; returns how to stop watching. */
export function watchRedis(store: Pick<Store, "redis" | "redisUrl">, logger: Logger): () => void {
  const redis = store.redis;
  if (!redis) return () => undefined;
  let away = false;
  const lost = () => {
    if (away) return;
    away = true;
    logger.error("Redis unreachable: new jobs are paused until it is back; jobs already taken are kept", {
      problem: redisProblem(store),
    });
  };
  const back = () => {
    if (!away) return;
    away = false;
    logger.info("Redis is back: taking new jobs again");
  };
  redis.on("close", lost);
  redis.on("ready", back);
  return () => {
    redis.off("close", lost);
    redis.off("ready", back);
  };
}
