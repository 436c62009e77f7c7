// Which gateway connection an event goes to, decided the way Discord decides it. Discord's
// documentation (Gateway → Sharding, https://discord.com/developers/docs/events/gateway#sharding):
// "shard_id = (guild_id >> 22) % num_shards", and events without a guild_id (DMs, entitlements)
// go only to shard 0. A connection that sent no `shard` in IDENTIFY is shard 0 of 1.

export type ShardKey = [shardId: number, shardCount: number];

export const SINGLE_SHARD: ShardKey = [0, 1];

/** The shard that receives events of `guildId` (shard 0 for events outside any server). */
export function shardOfGuild(guildId: string | undefined, shardCount: number): number {
  if (guildId === undefined) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** Whether a connection identified as `shard` receives the events of `guildId`. */
export function shardReceives(shard: ShardKey, guildId: string | undefined): boolean {
  return shardOfGuild(guildId, shard[1]) === shard[0];
}
