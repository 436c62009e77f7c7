// The keyv factory: embedded SQLite under DATA_DIR by default, Redis when REDIS_URL is set.
// One Keyv instance per process; repositories keep their records apart with key prefixes.
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { resolve } from "node:path";
import type { Redis } from "ioredis";
import Keyv from "keyv";
import { type Logger, silentLogger } from "../log.ts";
import { SqliteStore } from "./sqlite.ts";

export interface StoreOptions {
  dataDir: string;
  redisUrl?: string;
  /** Where the embedded store's failures are told (a checkpoint on a full disk, a failed read). */
  logger?: Logger;
}

export interface Store {
  readonly kind: "sqlite" | "redis";
  readonly keyv: Keyv;
  /**
   * With Redis: the client for what must be atomic across processes (counters, locks, id lists);
   * its `status` is "ready" while Redis answers. Absent for the embedded store.
   */
  readonly redis?: Redis;
  /** With Redis: the URL, so the shared queue (BullMQ) opens its own connections to the same server. */
  readonly redisUrl?: string;
  /** With Redis: the Redis key under which keyv keeps `key` (records changed by compare-and-set). */
  readonly redisKeyOf?: (key: string) => string;
  close(): Promise<void>;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.redisUrl) return openRedisStore(options.redisUrl);
  return openSqliteStore(options.dataDir, options.logger ?? silentLogger);
}

async function openSqliteStore(dataDir: string, logger: Logger): Promise<Store> {
  const directory = resolve(dataDir);
  mkdirSync(directory, { recursive: true });
  const adapter = new SqliteStore({ file: `${directory}/atelier.sqlite` });
  const keyv = new Keyv({ store: adapter, namespace: "atelier" });
  logErrors(keyv, logger);
  return { kind: "sqlite", keyv, close: () => keyv.disconnect() };
}

/**
 * keyv reports a store's failures as events and nothing else; logged here at most once a minute,
 * because a failing checkpoint is tried again every second.
 */
function logErrors(keyv: Keyv, logger: Logger, quietMs = 60_000): void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  keyv.on("error", (error: unknown) => {
    if (Date.now() - loggedAt < quietMs) return;
    loggedAt = Date.now();
    logger.error("the embedded store reported a failure (repeats within a minute are not logged)", {
      error,
    });
  });
}

/** Fails fast with a secret-free message; the redis client itself would retry forever. */
async function assertReachable(redisUrl: string, timeoutMs = 5_000): Promise<void> {
  const { hostname, port } = new URL(redisUrl);
  const where = `${hostname}:${port || 6379}`;
  await new Promise<void>((resolveProbe, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 6379) });
    const fail = (reason: string) => {
      socket.destroy();
      reject(
        new Error(
          `Cannot reach Redis at ${where} (${reason}): check REDIS_URL or unset it to use the embedded store.`,
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail("no answer"));
    socket.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? "connection failed"));
    socket.once("connect", () => {
      socket.end();
      resolveProbe();
    });
  });
}

async function openRedisStore(redisUrl: string): Promise<Store> {
  await assertReachable(redisUrl);
  // Loaded only here: one process on the embedded store never needs Redis clients (~20 MB).
  const [{ default: KeyvRedis }, { Redis }] = await Promise.all([import("@keyv/redis"), import("ioredis")]);
  const adapter = new KeyvRedis(redisUrl, { throwOnConnectError: true, throwOnErrors: true });
  const keyv = new Keyv({ store: adapter, namespace: "atelier" });
  await adapter.getClient();
  // Commands fail after one retry while Redis is away instead of waiting for it, so a request is
  // answered ("try again") rather than left hanging; the client reconnects by itself.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  // Connection errors are reported once by the outage watch (src/store/shared.ts), not per attempt.
  redis.on("error", () => undefined);
  await redis.connect();
  return {
    kind: "redis",
    keyv,
    redis,
    redisUrl,
    redisKeyOf: (key) => adapter.createKeyPrefix(`${keyv.namespace}:${key}`, adapter.namespace),
    close: async () => {
      redis.disconnect();
      await keyv.disconnect();
    },
  };
}

export { CachedRepository, type CacheOptions, KeyList, Repository } from "./repository.ts";
export { type IdList, idList, lockShared, type RecordCache, recordCache } from "./shared.ts";
export { sharedRepository } from "./shared-repository.ts";
