// "Seen before?" across processes: a key set in Redis only if absent, with an expiry, in one
// command (SET NX PX), so two processes offered the same key at once cannot both see it first.
// The interactions endpoint refuses replayed requests with it when several processes serve.
import type { Store } from "./index.ts";
import { sharedPrefix } from "./shared.ts";

export interface SeenKeys {
  /** True the first time `key` is offered within `ttlMs`; false for every repeat in that time. */
  firstTime(key: string, ttlMs: number): Promise<boolean>;
}

/** Shared memory of offered keys with Redis; undefined for the embedded store (one process remembers alone). */
export function sharedSeenKeys(store: Pick<Store, "redis">): SeenKeys | undefined {
  const redis = store.redis;
  if (!redis) return undefined;
  return {
    firstTime: async (key, ttlMs) =>
      (await redis.set(`${sharedPrefix}seen:${key}`, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) ===
      "OK",
  };
}
