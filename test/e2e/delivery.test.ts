// Discord hiccups: rate limits, interaction tokens that expire before a long job ends, and a
// message the bot can no longer edit. The user still gets the grid every time.
import { InteractionResponseType } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { redisTestsRun, startRedis } from "../support/redis.ts";
import { buttonRows, isFinished, quadrantColours, startWorld, type World } from "./world.ts";

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function imagineAndWait(current: World, prompt: string) {
  const run = await current.fake.runSlashCommand({ name: "imagine", options: { prompt } });
  const original = await run.waitForOriginalMessage();
  return { run, original };
}

describe("delivery when Discord pushes back", () => {
  it("rides out 429s on progress and final edits", async () => {
    world = await startWorld({ taskDurationMs: 600 });
    const current = world;
    current.fake.rateLimitNext(3, { route: /^\/webhooks\//, method: "PATCH", retryAfterMs: 150 });
    const { original } = await imagineAndWait(current, "a rate limited lighthouse");
    const done = await current.fake.waitForMessage(
      (message) => message.id === original.id && isFinished(message),
      15_000,
    );
    expect(buttonRows(done)[0]).toEqual(["U1", "U2", "U3", "U4", "🔄"]);
    const limited = current.fake.requests.filter((request) => request.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
  });

  it("edits with the bot token once the interaction token has expired", async () => {
    world = await startWorld({ taskDurationMs: 700 });
    const current = world;
    const { run, original } = await imagineAndWait(current, "a long running comet");
    run.expireToken();
    const done = await current.fake.waitForMessage(
      (message) => message.id === original.id && isFinished(message),
      15_000,
    );
    expect(done.edits.at(-1)?.source).toBe("bot-token");
    expect((await quadrantColours(done.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
  });

  it("stops using a token older than its lifetime without waiting for Discord to refuse it", async () => {
    world = await startWorld({ taskDurationMs: 300, tokenLifetimeMs: 0 });
    const current = world;
    const { original } = await imagineAndWait(current, "an old token");
    const done = await current.fake.waitForMessage(
      (message) => message.id === original.id && isFinished(message),
      15_000,
    );
    // The job's message itself replaces "thinking…" over the webhook; every edit after it uses the bot token.
    expect(done.edits.filter((edit) => edit.source === "interaction-webhook")).toHaveLength(1);
    expect(done.edits.slice(-1).map((edit) => edit.source)).toEqual(["bot-token"]);
    expect(current.fake.requestsTo(/^\/webhooks\/.*\/messages\//, "PATCH")).toHaveLength(1);
  });

  it("posts the result as a reply when the original message cannot be edited at all", async () => {
    world = await startWorld({ taskDurationMs: 500 });
    const current = world;
    const { run, original } = await imagineAndWait(current, "an uneditable moon");
    run.expireToken();
    current.fake.failNext(20, {
      route: new RegExp(`^/channels/\\d+/messages/${original.id}$`),
      method: "PATCH",
      status: 403,
      body: { code: 50001, message: "Missing Access" },
    });
    const reply = await current.fake.waitForMessage(
      (message) => message.id !== original.id && isFinished(message),
      15_000,
    );
    expect(reply.content).toMatch(/^\*\*an uneditable moon\*\* - <@\d+> \(fast\)$/);
    expect(reply.api.message_reference?.message_id).toBe(original.id);
  });
});

describe.runIf(redisTestsRun)("Redis store", () => {
  it("runs the whole /imagine flow with jobs kept in Redis", async () => {
    const redis = await startRedis();
    try {
      world = await startWorld({ taskDurationMs: 300, redisUrl: redis.url });
      const current = world;
      expect(current.store.kind).toBe("redis");
      const { run, original } = await imagineAndWait(current, "a red panda in the snow");
      // With Redis, store round trips would come before the answer: "thinking…" answers first.
      expect((await run.waitForCallback()).type).toBe(
        InteractionResponseType.DeferredChannelMessageWithSource,
      );
      const done = await current.fake.waitForMessage(
        (message) => message.id === original.id && isFinished(message),
        15_000,
      );
      expect((await quadrantColours(done.attachments[0]?.bytes as Buffer)).tiles).toEqual([0, 1, 2, 3]);
      const jobId =
        buttonRows(done).length > 0
          ? (
              done.components[0] as { components: Array<{ custom_id: string }> }
            ).components[0]?.custom_id.split(":")[1]
          : undefined;
      expect((await current.jobs.get(jobId ?? ""))?.state).toBe("completed");
    } finally {
      await world?.stop();
      world = undefined;
      await redis.stop();
    }
  });
});
