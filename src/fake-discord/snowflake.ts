/** Discord's epoch (2015-01-01T00:00:00Z): snowflakes encode milliseconds since then. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
const WORKER_BITS = 1n << 17n;

/**
 * Makes strictly increasing, Discord-shaped snowflake ids.
 * Real-looking ids matter: discord.js derives `createdTimestamp` from them and sorts collections by them.
 */
export class SnowflakeFactory {
  #last = 0n;

  next(): string {
    const fromClock = ((BigInt(Date.now()) - DISCORD_EPOCH_MS) << 22n) | WORKER_BITS;
    // Several ids in the same millisecond: keep counting instead of colliding.
    this.#last = fromClock > this.#last ? fromClock : this.#last + 1n;
    return this.#last.toString();
  }

  /**
   * The next id that falls on shard `shardId` of `shardCount` (a server created on purpose on one
   * shard): the shard is the id's millisecond count modulo `shardCount`, so move to the next
   * millisecond that has the right remainder.
   */
  nextOnShard(shardId: number, shardCount: number): string {
    const count = BigInt(shardCount);
    let millis = BigInt(this.next()) >> 22n;
    while (millis % count !== BigInt(shardId)) millis += 1n;
    const id = (millis << 22n) | WORKER_BITS;
    if (id > this.#last) this.#last = id;
    return this.#last.toString();
  }
}
