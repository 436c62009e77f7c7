// Many processes, one deployment, through the real bot: a process killed (SIGKILL) in the middle of
// a job hands it to another process on the same Redis, which finishes it on its message once and
// never sends it to the provider again; and Redis going away pauses new work (503 on /healthz, a
// clear private answer) and resumes when it is back, with no job lost.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { type RunningAtelier, startAtelier } from "../../src/app.ts";
import { createLogger } from "../../src/log.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import { registryOf } from "../../src/providers/index.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { FakeDiscord } from "../fake-discord/index.ts";
import { type AtelierProcess, spawnAtelier, until } from "../support/atelier-process.ts";
import { type RedisServer, redisTestsRun, startRedis } from "../support/redis.ts";
import { isFinished, startWorld } from "./world.ts";

const apiKey = "evk-many-processes-key";

describe.runIf(redisTestsRun)("a process killed in the middle of a job", () => {
  let redis: RedisServer;
  let fake: FakeDiscord;
  let emulator: EvolinkEmulator;
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-many-"));
  let child: AtelierProcess | undefined;
  let store: Store | undefined;
  let survivor: RunningAtelier | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    fake = await FakeDiscord.start();
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 2_500, tileLongSide: 64 });
  });
  afterAll(async () => {
    await child?.kill();
    await survivor?.stop();
    await store?.close();
    await emulator?.stop();
    await fake?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `atelier start` in its own process, on the shared Redis. */
  async function startChild(): Promise<AtelierProcess> {
    const started = spawnAtelier({
      fake,
      emulator,
      apiKey,
      dataDir,
      env: {
        REDIS_URL: redis.url,
        JOB_TAKEOVER_SECONDS: "1",
        POLL_INTERVAL_SECONDS: "0.1",
        LOG_LEVEL: "debug",
      },
    });
    await started.running({ gateway: true });
    return started;
  }

  /** A second Atelier in this test's process, on the same Redis, Discord and provider. */
  async function startSurvivor(): Promise<RunningAtelier> {
    store = await openStore({ dataDir, redisUrl: redis.url });
    const logger = createLogger({ level: "warn", write: () => undefined });
    const providers = registryOf([createEvolinkProvider({ apiKey, baseUrl: emulator.baseUrl, logger })]);
    return startAtelier({
      store,
      providers,
      defaultProvider: providers.default.name,
      logger,
      downloadPolicy: {
        allowedHttpOrigins: [emulator.baseUrl],
        maxBytes: 10 * 1024 * 1024,
        timeoutMs: 10_000,
      },
      jobs: { pollIntervalMs: 50, shared: { lockMs: 1_000 } },
      discord: {
        token: fake.botToken,
        apiUrl: fake.restBaseUrl,
        guildId: fake.guildId,
        maxJobs: 10,
        defaultSpeed: "fast",
        defaultQuality: "standard",
        progressIntervalMs: 100,
        deliveryRetryDelaysMs: [50, 200],
      },
    });
  }

  it("is finished by another process on its message, once, without a second submission", async () => {
    child = await startChild();
    // The task runs until the survivor has taken it over (the emulator holds it at 93% meanwhile).
    emulator.knobs.neverFinish = true;
    const run = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a comet over the sea" } });
    const original = await run.waitForOriginalMessage();
    // Sent to the provider and running in the child.
    await fake.waitForMessage((m) => m.id === original.id && /\(\d+%\)/.test(m.content), 20_000);
    expect(emulator.apiRequests("POST")).toHaveLength(1);

    survivor = await startSurvivor();
    await child.kill();
    // Only the survivor is left: once it polls the task, it has taken the job over.
    const pollsAtKill = emulator.apiRequests("GET").length;
    await until(
      () => emulator.apiRequests("GET").length > pollsAtKill,
      15_000,
      "the survivor to track the task",
    );
    emulator.knobs.neverFinish = false;

    const done = await fake.waitForMessage((m) => m.id === original.id && isFinished(m), 20_000);
    expect(done.content).toMatch(/^\*\*a comet over the sea\*\* - <@\d+> \(fast\)$/);
    expect(emulator.apiRequests("POST")).toHaveLength(1);
    // Delivered once: one edit brought the grid, and no second message was posted for the job.
    expect(fake.edits(original.id).filter((revision) => revision.attachmentIds.length > 0)).toHaveLength(1);
    expect(fake.messages().filter((m) => m.content.includes("a comet over the sea"))).toHaveLength(1);
  }, 60_000);
});

describe.runIf(redisTestsRun)("Redis going away and coming back", () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("pauses new work with 503 and a clear answer, then resumes, and every queued job completes", async () => {
    const world = await startWorld({ redisUrl: redis.url, http: true, maxRunning: 1, taskDurationMs: 700 });
    try {
      const health = async () => {
        const response = await fetch(`${world.httpUrl}/healthz`);
        return { status: response.status, body: (await response.json()) as { problems?: string[] } };
      };
      expect((await health()).status).toBe(200);
      const originals = [];
      for (const name of ["ada", "bea", "cyd"]) {
        const run = await world.fake.runSlashCommand({
          name: "imagine",
          options: { prompt: `${name} before the outage` },
          user: world.fake.makeUser(name),
        });
        originals.push(await run.waitForOriginalMessage());
      }

      await redis.pause();
      await until(async () => (await health()).status === 503, 10_000, "/healthz to say 503");
      expect((await health()).body.problems).toEqual([
        expect.stringMatching(/^Redis at 127\.0\.0\.1:\d+ unreachable: new jobs are paused$/),
      ]);
      const refused = await world.fake.runSlashCommand({ name: "imagine", options: { prompt: "during it" } });
      // "thinking…" first (the gateway's thread), then the private answer in its place.
      const answer = await refused.waitForPrivateAnswer();
      expect(answer.content).toMatch(/^Atelier cannot reach its database right now.*Try again in a minute/);
      expect(world.logLines.join("\n")).toContain("Redis unreachable: new jobs are paused");

      await redis.resume();
      await until(async () => (await health()).status === 200, 15_000, "/healthz to say 200 again");
      for (const original of originals)
        await world.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 30_000);
      const prompts = world.emulator.apiRequests("POST").map((r) => (r.body as { prompt: string }).prompt);
      expect(prompts.sort()).toEqual([
        "ada before the outage",
        "bea before the outage",
        "cyd before the outage",
      ]);
      expect(world.logLines.join("\n")).toContain("Redis is back: taking new jobs again");
    } finally {
      await world.stop();
    }
  }, 60_000);
});
