// A Lua script as a command of one Redis client, run by its SHA1 (EVALSHA): Redis keeps a script it
// has seen, so the text is sent only when Redis does not have it (ioredis sends it by itself on a
// NOSCRIPT answer: the first call, or after Redis restarted) instead of with every call.
//
// Why: EVAL with the text cost each call a few hundred bytes to write and Redis a hash of them; the
// scheduler and the usage ledger run ~7 scripts per job.
import type { Redis } from "ioredis";

/** Runs the script with its keys first, then its arguments. */
export type RedisScript = (...keysThenArgs: Array<string | number>) => Promise<unknown>;

export interface ScriptDefinition {
  /** Unique among a client's commands: the client gets a method of this name. */
  name: string;
  lua: string;
  numberOfKeys: number;
}

export function redisScript(redis: Redis, script: ScriptDefinition): RedisScript {
  if (!(script.name in redis))
    redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  const command = (redis as unknown as Record<string, RedisScript>)[script.name] as RedisScript;
  return command.bind(redis);
}
