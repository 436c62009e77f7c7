// Interactions over HTTP (DISCORD_PUBLIC_KEY): the real bot never opens the gateway; the fake Discord
// signs each interaction and POSTs it to the bot's /interactions, and takes the response as the
// answer. /imagine, its grid and a click work as over the gateway; private errors, slow handlers
// and forged or replayed requests behave as Discord users and Discord itself expect.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisTestsRun, startRedis } from "../support/redis.ts";
import {
  customIdOf,
  deafenBotThread,
  finishedReply,
  holdHandlers,
  isFinished,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
beforeAll(async () => {
  // As several processes on Redis run: job commands answer "thinking…" at once.
  world = await startWorld({
    interactions: "http",
    answerDeadlineMs: 300,
    taskDurationMs: 300,
    thinkFirst: true,
  });
});
afterAll(async () => {
  await world?.stop();
});

describe("interactions over HTTP", () => {
  it("runs /imagine → progress → grid and U1 → the upscaled image without a gateway connection", async () => {
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a lighthouse at dusk" },
    });
    expect((await run.waitForCallback()).via).toBe("http-response");
    const grid = await finishedReply(world, run);
    const progress = world.fake.edits(grid.id).map((revision) => revision.content);
    expect(progress.some((content) => /\(\d+%\)/.test(content))).toBe(true);

    const click = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "U1") });
    expect((await click.waitForCallback()).via).toBe("http-response");
    const single = await click.waitForFollowUp((message) => isFinished(message), 15_000);
    expect(single.attachments).toHaveLength(1);

    expect(world.fake.identifies).toHaveLength(0);
    expect(world.fake.requestsTo(/^\/gateway/)).toHaveLength(0);
    expect(world.fake.requestsTo(/^\/interactions\//)).toHaveLength(0);
    expect(run.endpointError).toBeUndefined();
  });

  it("answers /imagine with 'thinking…' at once; an invalid prompt ends private, nothing public left", async () => {
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a cat --ar banana" },
    });
    expect(await run.waitForCallback()).toMatchObject({ type: 5, via: "http-response" });
    const reply = await run.waitForPrivateAnswer();
    expect(reply.content).toContain("a cat --ar banana");
    const thinking = run.originalMessage();
    expect(thinking?.ephemeral).toBe(false);
    expect(world.fake.messages().map((message) => message.id)).not.toContain(thinking?.id);
  });

  it("answers /imagine 'thinking…' from the port's own thread, without the bot's thread", async () => {
    const deaf = deafenBotThread(world);
    try {
      const run = await world.fake.runSlashCommand({
        name: "imagine",
        options: { prompt: "an unheard owl" },
      });
      expect(await run.waitForCallback()).toMatchObject({ type: 5, via: "http-response" });
    } finally {
      deaf.release();
    }
  });

  it("defers a handler slower than the deadline, then turns its private reply into a private message", async () => {
    const held = holdHandlers(world.preferences);
    const run = await world.fake.runSlashCommand({ name: "settings" });
    expect(await run.waitForCallback()).toMatchObject({ type: 5, via: "http-response" });
    held.release();
    const panel = await run.waitForFollowUp();
    expect(panel.ephemeral).toBe(true);
    expect(panel.content).toMatch(/^\*\*Your settings\*\*/);
    const thinking = run.originalMessage();
    expect(thinking?.loading).toBe(true);
    expect(world.fake.messages().map((message) => message.id)).not.toContain(thinking?.id);
  });

  it("refuses a replayed or forged interaction with 401, and nothing happens", async () => {
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt: "a single kite" } });
    await finishedReply(world, run);
    const endpoint = world.fake.interactionsEndpoint;
    const signed = run.signed;
    if (!endpoint || !signed) throw new Error("the world does not run HTTP interactions");
    const messages = world.fake.messages().length;
    const jobsSent = world.emulator.apiRequests("POST").length;

    expect((await endpoint.post(signed.url, signed)).status).toBe(401);
    const forged = { ...signed, body: signed.body.replace("a single kite", "a double kite") };
    expect((await endpoint.post(signed.url, forged)).status).toBe(401);
    const resigned = endpoint.sign(signed.url, forged.body);
    expect((await endpoint.post(signed.url, { ...resigned, signature: signed.signature })).status).toBe(401);

    expect(world.fake.messages()).toHaveLength(messages);
    expect(world.emulator.apiRequests("POST")).toHaveLength(jobsSent);
  });

  it("/healthz counts served interactions as connected", async () => {
    const health = await fetch(`${world.httpUrl}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe.runIf(redisTestsRun)("several processes behind a load balancer (shared Redis)", () => {
  it("takes interactions in turn, and a replay is refused by a process that never saw the original", async () => {
    const redis = await startRedis();
    const first = await startWorld({ interactions: "http", redisUrl: redis.url, taskDurationMs: 200 });
    const second = await startWorld({
      interactions: "http",
      redisUrl: redis.url,
      taskDurationMs: 200,
      fake: first.fake,
    });
    try {
      const endpoint = first.fake.interactionsEndpoint;
      if (!endpoint) throw new Error("the world does not run HTTP interactions");
      expect(endpoint.urls).toEqual([`${first.httpUrl}/interactions`, `${second.httpUrl}/interactions`]);
      const runs = [
        await first.fake.runSlashCommand({ name: "imagine", options: { prompt: "a red balloon" } }),
        await first.fake.runSlashCommand({ name: "imagine", options: { prompt: "a blue balloon" } }),
      ];
      for (const run of runs) await finishedReply(first, run);
      expect(runs.map((run) => run.signed?.url)).toEqual(endpoint.urls);

      const signed = runs[0]?.signed;
      if (!signed) throw new Error("no signed request");
      const messages = first.fake.messages().length;
      expect((await endpoint.post(endpoint.urls[1] as string, signed)).status).toBe(401);
      expect(first.fake.messages()).toHaveLength(messages);
      expect(first.fake.identifies).toHaveLength(0);
    } finally {
      await second.stop();
      await first.stop();
      await redis.stop();
    }
  });
});
