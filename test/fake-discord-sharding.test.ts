// The fake gateway splits servers over shards as Discord does: a connection that IDENTIFYs as
// [shard_id, num_shards] hears only of the servers with (guild_id >> 22) % num_shards == shard_id.
import { once } from "node:events";
import { GatewayDispatchEvents, GatewayOpcodes } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawData, WebSocket } from "ws";
import { FakeDiscord, shardOfGuild } from "./fake-discord/index.ts";

interface Frame {
  op: number;
  t?: string;
  d?: { guild_id?: string; id?: string; guilds?: { id: string }[]; shard?: number[] };
}

/** A bare gateway client: identifies as `shard` and keeps every dispatch it receives. */
function connect(fake: FakeDiscord, shard: [number, number]) {
  const socket = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
  const dispatches: Frame[] = [];
  const waiting: { type: string; resolve: (frame: Frame) => void }[] = [];
  socket.on("message", (data: RawData) => {
    const frame = JSON.parse(data.toString()) as Frame;
    if (frame.op === GatewayOpcodes.Hello)
      socket.send(
        JSON.stringify({ op: GatewayOpcodes.Identify, d: { token: fake.botToken, intents: 1, shard } }),
      );
    if (frame.op !== GatewayOpcodes.Dispatch) return;
    dispatches.push(frame);
    for (const waiter of waiting.filter((candidate) => candidate.type === frame.t)) waiter.resolve(frame);
  });
  /** The first dispatch of `type` this connection gets (already got, or still to come). */
  const first = (type: string) =>
    new Promise<Frame>((resolve) => {
      const seen = dispatches.find((frame) => frame.t === type);
      if (seen) resolve(seen);
      else waiting.push({ type, resolve });
    });
  return { socket, dispatches, first };
}

let fake: FakeDiscord;
beforeAll(async () => {
  fake = await FakeDiscord.start({ requireRegisteredCommands: false, recommendedShards: 2 });
});
afterAll(async () => {
  await fake?.stop();
});

describe("sharding in the fake gateway", () => {
  it("recommends its shard count, announces each server to its shard only, and routes interactions there", async () => {
    const recommended = await fetch(`${fake.restBaseUrl}/v10/gateway/bot`, {
      headers: { authorization: `Bot ${fake.botToken}` },
    });
    expect(((await recommended.json()) as { shards: number }).shards).toBe(2);

    const mainShard = shardOfGuild(fake.guildId, 2);
    const second = fake.addGuild({ onShard: [1 - mainShard, 2] });
    const guildOn = (shard: number) => (shard === mainShard ? fake.guildId : second.id);
    const clients = [connect(fake, [0, 2]), connect(fake, [1, 2])];
    // Each shard here has one server: its GUILD_CREATE ends the connection's start.
    await Promise.all(clients.map((client) => client.first(GatewayDispatchEvents.GuildCreate)));

    for (const shard of [0, 1]) {
      const { dispatches } = clients[shard] as { dispatches: Frame[] };
      const ready = dispatches.find((frame) => frame.t === GatewayDispatchEvents.Ready);
      expect(ready?.d?.shard).toEqual([shard, 2]);
      expect(ready?.d?.guilds?.map((guild) => guild.id)).toEqual([guildOn(shard)]);
      const created = dispatches.filter((frame) => frame.t === GatewayDispatchEvents.GuildCreate);
      expect(created.map((frame) => frame.d?.id)).toEqual([guildOn(shard)]);
    }

    const runs = [];
    for (const shard of [0, 1]) {
      const run = await fake.runSlashCommand({
        name: "imagine",
        guildId: guildOn(shard),
        options: { prompt: "x" },
      });
      expect((await clients[shard]?.first(GatewayDispatchEvents.InteractionCreate))?.d?.id).toBe(run.id);
      runs.push(run.id);
    }
    const interactionsOn = (shard: number) =>
      clients[shard]?.dispatches
        .filter((frame) => frame.t === GatewayDispatchEvents.InteractionCreate)
        .map((frame) => frame.d?.id);
    expect([interactionsOn(0), interactionsOn(1)]).toEqual([[runs[0]], [runs[1]]]);
    for (const { socket } of clients) socket.close();
  });

  it("closes a connection whose shard id is not below its shard count (4010 Invalid shard)", async () => {
    const { socket } = connect(fake, [2, 2]);
    const [code] = (await once(socket, "close")) as [number];
    expect(code).toBe(4010);
  });
});
