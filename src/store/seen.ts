// "Seen before?" across processes: a key set in Redis only if absent, with an expiry, in one
// command (SET NX PX), so two processes offered the same key at once cannot both see it first.
// The interactions endpoint refuses replayed requests with it when several processes serve; it asks
// on a connection of its own, so an answer never waits behind the replies to other commands
// (Redis answers a connection's commands in order, and job records and queue scripts are large).
import { sharedPrefix } from "./shared.ts";

export interface SeenKeys {
  /** True the first time `key` is offered within `ttlMs`; false for every repeat in that time. */
  firstTime(key: string, ttlMs: number): Promise<boolean>;
  /** Closes its connection. */
  close(): void;
}

/** Shared memory of offered keys on the Redis at `redisUrl`, over a connection of its own. */
export async function sharedSeenKeys(redisUrl: string): Promise<SeenKeys> {
  const { Redis } = await import("ioredis");
  // A command fails after one retry while Redis is away instead of waiting for it.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // Outages are reported once by the store's watch; a failed command answers for itself.
  redis.on("error", () => undefined);
  return {
    close: () => redis.disconnect(),
    firstTime: async (key, ttlMs) =>
      (await redis.set(`${sharedPrefix}seen:${key}`, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) ===
      "OK",
  };
}
