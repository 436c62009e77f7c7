import type { ChangeFeed } from "./change-feed.ts";
import type { CommandRegistry } from "./commands.ts";
import type { InteractionRegistry } from "./interactions.ts";
import type { MessageStore } from "./message-store.ts";
import type { MessageWriter } from "./message-writer.ts";
import type { FakeWorld } from "./payloads.ts";
import type { SnowflakeFactory } from "./snowflake.ts";

/** Knobs tests may flip while the fake runs. */
export interface FakeSettings {
  /** Answer 10062 "Unknown interaction" to callbacks later than `responseDeadlineMs` after dispatch. */
  enforceThreeSeconds: boolean;
  /** Discord's is 3 000 ms; tests may shorten it to check the bot defers in time without waiting 3 s. */
  responseDeadlineMs: number;
  /** `shards` in GET /gateway/bot: the shard count Discord recommends. */
  recommendedShards: number;
}

/** Everything the REST routes and the test API share. */
export interface FakeContext {
  world: FakeWorld;
  ids: SnowflakeFactory;
  feed: ChangeFeed;
  store: MessageStore;
  writer: MessageWriter;
  interactions: InteractionRegistry;
  commands: CommandRegistry;
  gatewayUrl: string;
  settings: FakeSettings;
}
