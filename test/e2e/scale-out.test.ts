// Several bot processes for one application: two gateway processes split the shards
// (SHARD_COUNT=2, SHARD_IDS=0 and SHARD_IDS=1) and share Discord's rate limits through one
// @discordjs/proxy (DISCORD_API_URL) in front of the fake Discord, as README → Deployment describes.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { proxyRequests } from "@discordjs/proxy";
// The ESM build, as @discordjs/proxy imports it: its `instanceof RateLimitError` must see the same class.
import { REST } from "@discordjs/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeDiscord, type InteractionHandle, shardOfGuild } from "../fake-discord/index.ts";
import { finishedReply, startWorld, type World } from "./world.ts";

const shardCount = 2;
let fake: FakeDiscord;
let proxy: Server;
/** Requests the proxy took, from either process (the channel in a URL tells whose). */
const proxied: { at: number; method: string; url: string }[] = [];
/** Timers may fire a few ms early against Date.now(). */
const timerSlackMs = 20;
/** The process running shard 0, and the one running shard 1. */
const processes: World[] = [];
/** Interaction ids each process's discord.js client received. */
const received: string[][] = [[], []];
/** The server whose events go to shard 0, and the one on shard 1; with their channels. */
const servers: { guildId: string; channelId: string }[] = [];

beforeAll(async () => {
  fake = await FakeDiscord.start({ recommendedShards: shardCount });
  const mainShard = shardOfGuild(fake.guildId, shardCount);
  const second = fake.addGuild({ name: "Second", onShard: [1 - mainShard, shardCount] });
  servers[mainShard] = { guildId: fake.guildId, channelId: fake.channelId };
  servers[1 - mainShard] = { guildId: second.id, channelId: second.channelId };

  // Configured as the discordjs/proxy container is (compose.replicas.yaml): it does not wait out a
  // limit itself but answers 429 with the time left, and the process asking retries after it.
  const forward = proxyRequests(
    new REST({ api: fake.restBaseUrl, rejectOnRateLimit: () => true, retries: 0 }),
  );
  proxy = createServer((request, response) => {
    proxied.push({ at: Date.now(), method: request.method ?? "", url: request.url ?? "" });
    void forward(request, response);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;

  for (const shard of [0, 1]) {
    const world = await startWorld({
      fake,
      discordApiUrl: proxyUrl,
      shards: { count: shardCount, ids: [shard] },
      // Messages are edited with the bot token (as after an interaction token's 15 minutes), so
      // Discord's global limit for the bot applies to them.
      tokenLifetimeMs: 0,
    });
    world.bot.client.on("interactionCreate", (interaction) => received[shard]?.push(interaction.id));
    processes.push(world);
  }
}, 60_000);

afterAll(async () => {
  for (const world of processes) await world.stop();
  const closed = new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy?.closeAllConnections();
  await closed;
  await fake?.stop();
});

/** The shard `[id, count]` the gateway session that got `run` had identified as. */
function shardThatGot(run: InteractionHandle): unknown {
  return fake.identifies.find((identify) => identify.sessionId === run.sessionId)?.shard;
}

async function promptsOf(world: World): Promise<string[]> {
  return (await world.jobs.recentJobsOf(fake.defaultUser.id, 20)).map((job) => job.prompt);
}

describe("two gateway processes sharing SHARD_COUNT=2", () => {
  it("each server's /imagine is answered and delivered by the process running its shard, and only by it", async () => {
    expect(fake.identifies.map((identify) => identify.shard)).toEqual([
      [0, 2],
      [1, 2],
    ]);
    for (const shard of [0, 1]) {
      const server = servers[shard] as { guildId: string; channelId: string };
      const prompt = `a lighthouse seen from shard ${shard}`;
      const run = await fake.runSlashCommand({
        name: "imagine",
        guildId: server.guildId,
        options: { prompt },
      });
      const grid = await finishedReply(processes[shard] as World, run);

      expect(grid.channelId).toBe(server.channelId);
      expect(grid.content).toContain(prompt);
      expect(shardThatGot(run)).toEqual([shard, shardCount]);
      expect(received[shard]).toContain(run.id);
      expect(received[1 - shard]).not.toContain(run.id);
      expect(await promptsOf(processes[shard] as World)).toContain(prompt);
      expect(await promptsOf(processes[1 - shard] as World)).not.toContain(prompt);
    }
    // Every Discord call of both processes went through the one proxy.
    expect(
      proxied.filter((request) => /\/interactions\/\d+\/[^/]+\/callback/.test(request.url)),
    ).toHaveLength(2);
  });

  it("Discord's global limit, met by one process, holds the other process's requests too (one limit state in the proxy)", async () => {
    const retryAfterMs = 2_000;
    const messageEdit = /^\/channels\/\d+\/messages\/\d+$/;
    fake.rateLimitNext(1, { route: messageEdit, method: "PATCH", global: true, retryAfterMs });
    const first = await fake.runSlashCommand({
      name: "imagine",
      guildId: servers[0]?.guildId,
      options: { prompt: "a red kite" },
    });
    const limited = await fake.waitForRequest(messageEdit, { method: "PATCH", status: 429 });
    const resetAt = limited.at + retryAfterMs - timerSlackMs;
    const second = await fake.runSlashCommand({
      name: "imagine",
      guildId: servers[1]?.guildId,
      options: { prompt: "a blue kite" },
    });
    await Promise.all([
      finishedReply(processes[0] as World, first),
      finishedReply(processes[1] as World, second),
    ]);

    // The process on shard 1 tried to edit its message while the limit was on…
    const secondChannel = `/channels/${servers[1]?.channelId}/messages/`;
    const secondTriedEarly = proxied.filter(
      (request) => request.method === "PATCH" && request.url.includes(secondChannel) && request.at < resetAt,
    );
    expect(secondTriedEarly.length).toBeGreaterThan(0);
    // …yet no request of either process under the bot's token reached Discord until the limit was over.
    const botRequestsDuringLimit = fake.requests.filter(
      (request) => request.botAuth && request.at > limited.at && request.at < resetAt,
    );
    expect(botRequestsDuringLimit.map((request) => `${request.method} ${request.path}`)).toEqual([]);
  });
});
