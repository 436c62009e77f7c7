// The pool of self-hosted machines: least busy first, a per-instance limit with waiting, instances
// that stopped answering skipped until they are due again.
import { describe, expect, it } from "vitest";
import { InstancePool } from "../../src/providers/pool.ts";

describe("instance pool", () => {
  it("spreads jobs over the least busy instances and makes the next one wait for a free slot", async () => {
    const pool = new InstancePool({ urls: ["http://gpu1", "http://gpu2"], concurrency: 1 });
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect([first.instance.url, second.instance.url]).toEqual(["http://gpu1", "http://gpu2"]);
    let third: string | undefined;
    const waiting = pool.acquire().then((lease) => {
      third = lease.instance.url;
      return lease;
    });
    await Promise.resolve();
    expect(third).toBeUndefined();
    second.release();
    second.release(); // twice is harmless
    expect((await waiting).instance.url).toBe("http://gpu2");
    expect(pool.describe().map((state) => state.busy)).toEqual([1, 1]);
  });

  it("skips an instance marked down until it is due again, and can avoid the one a job just left", async () => {
    let now = 0;
    const pool = new InstancePool({
      urls: ["http://a", "http://b"],
      concurrency: 2,
      retryAfterMs: 1_000,
      now: () => now,
    });
    const onA = await pool.acquire();
    pool.markDown(onA.instance);
    expect((await pool.acquire()).instance.url).toBe("http://b");
    expect((await pool.acquire()).instance.url).toBe("http://b");
    now = 1_500;
    expect((await pool.acquire(pool.instance(1))).instance.url).toBe("http://a");
  });
});
