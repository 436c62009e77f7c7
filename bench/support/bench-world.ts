// One benchmark world: the fake Discord in this process; the EvoLink emulator and its caching front
// in a process of their own (provider-process.ts); the real bot (`atelier start`) in child processes
// with production defaults unless told otherwise —
// one process on the embedded store, or three on one Redis (a redis-server started here) taking
// interactions over HTTP, which the fake Discord signs and POSTs to them round-robin.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedDeploymentNodeFlags } from "../../src/cli/node-flags.ts";
import { FakeDiscord } from "../../test/fake-discord/index.ts";
import { type BotChild, startBotChild } from "./bot-child.ts";
import { type InteractionSender, startInteractionSender } from "./interaction-sender.ts";
import { type ProviderHost, startProviderHost } from "./provider-host.ts";

/**
 * `one`: one process, SQLite, gateway; `three-redis`: three processes on one Redis, HTTP interactions;
 * `one-redis` (only with --only, to tell the shared code path's cost from three processes'): one
 * process on Redis, HTTP interactions.
 */
export type Deployment = "one" | "three-redis" | "one-redis";

export const deploymentLabels: Record<Deployment, string> = {
  one: "one process (SQLite)",
  "three-redis": "3 processes, Redis, HTTP",
  "one-redis": "1 process, Redis, HTTP",
};

export interface BenchWorldOptions {
  deployment: Deployment;
  taskDurationMs: number;
  tileLongSide: number;
  /** POLL_INTERVAL_SECONDS (the bot's default is 3). */
  pollSeconds: number;
  /** Give the bot a PUBLIC_URL so the provider calls back when a task ends. */
  callbacks: boolean;
  cpuProfileDir?: string;
  /** Settings applied after validation, beyond what the schema allows (see bot-process.ts). */
  overrides?: Record<string, unknown>;
  /** More environment for the bot process (e.g. UV_THREADPOOL_SIZE, LOG_LEVEL) for experiments. */
  botEnv?: Record<string, string>;
  /** Another entry module for the bot process (diagnostic variants). */
  botEntry?: string;
}

export interface BenchWorld {
  fake: FakeDiscord;
  /** What the scenario's tasks take at the provider (warm-up tasks take none). */
  taskDurationMs: number;
  provider: ProviderHost;
  /** The bot processes (one, or three sharing Redis). */
  bots: BotChild[];
  /** HTTP interactions: who POSTs them and times the answers (three-redis only). */
  sender: InteractionSender | undefined;
  /** The shared deployment's Redis: what it has done so far (three-redis only). */
  redisCommands: (() => Promise<RedisCommandCounts>) | undefined;
  stop(): Promise<void>;
}

/** Redis's own counters since it started. */
export interface RedisCommandCounts {
  /** Every command Redis ran, those its scripts ran included (INFO stats total_commands_processed). */
  processed: number;
  /** Script calls (EVALSHA and EVAL), each a round trip of one process. */
  scriptCalls: number;
}

const apiKey = "evk-bench-secret-key-42";

export async function startBenchWorld(options: BenchWorldOptions): Promise<BenchWorld> {
  const shared = options.deployment !== "one";
  // The fake's 3-second rule is off: a slow answer should show in the figures, not fail the run.
  const sender = shared ? startInteractionSender() : undefined;
  const fake = await FakeDiscord.start({
    dispatchTimeoutMs: 30_000,
    ...(sender ? { interactions: "http" as const, postInteraction: sender.post } : {}),
  });
  const provider = await startProviderHost({
    apiKey,
    taskDurationMs: options.taskDurationMs,
    tileLongSide: options.tileLongSide,
    allowInsecureCallbacks: options.callbacks,
  });
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-bench-"));
  const redis = shared ? await startRedisServer(dataDir) : undefined;
  const bots: BotChild[] = [];
  const stop = async () => {
    await Promise.all(bots.map((bot) => bot.stop()));
    await provider.stop();
    await fake.stop();
    await sender?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const ports = await Promise.all(
      Array.from({ length: options.deployment === "three-redis" ? 3 : 1 }, () => freePort()),
    );
    // Provider callbacks reach one process only (a tracker is woken where it runs): one process only.
    if (options.callbacks && !shared) await provider.setCallbackTarget(`http://127.0.0.1:${ports[0]}`);
    for (const port of ports) {
      const env: Record<string, string> = {
        DISCORD_TOKEN: fake.botToken,
        DISCORD_API_URL: fake.restBaseUrl,
        DISCORD_GUILD_ID: fake.guildId,
        EVOLINK_API_KEY: apiKey,
        EVOLINK_BASE_URL: provider.baseUrl,
        DATA_DIR: dataDir,
        POLL_INTERVAL_SECONDS: String(options.pollSeconds),
        LOG_LEVEL: "info",
        HTTP_PORT: String(port),
        ...(redis ? { REDIS_URL: redis.url } : {}),
        ...(fake.interactionsEndpoint ? { DISCORD_PUBLIC_KEY: fake.interactionsEndpoint.publicKey } : {}),
        BENCH_SETTINGS_OVERRIDES: JSON.stringify({
          ...(options.callbacks && !shared ? { PUBLIC_URL: provider.baseUrl } : {}),
          ...options.overrides,
        }),
        ...options.botEnv,
      };
      bots.push(
        await startBotChild({
          env,
          // As compose.replicas.yaml starts each replica; one process starts as `npm start` does.
          nodeFlags: shared ? sharedDeploymentNodeFlags : [],
          cpuProfileDir: options.cpuProfileDir,
          entry: options.botEntry,
        }),
      );
    }
    if (fake.interactionsEndpoint) {
      await fake.interactionsEndpoint.configure(ports.map((port) => `http://127.0.0.1:${port}/interactions`));
      // Saving the endpoint sends one forged PING each, which the bots rightly refuse with a warning:
      // not a problem of the run. The warning reaches this process a moment after the 401 (the
      // answering thread hands its log line to the bot's thread, which writes it): awaited first,
      // or it would be counted in the first phase.
      await refusalsLogged(bots, 5_000);
      for (const bot of bots) {
        bot.problems.count = 0;
        bot.problems.first.length = 0;
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    fake,
    provider,
    taskDurationMs: options.taskDurationMs,
    bots,
    sender,
    redisCommands: redis ? () => commandCountsOf(redis.url) : undefined,
    stop,
  };
}

async function refusalsLogged(bots: BotChild[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (bots.some((bot) => bot.problems.count === 0) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

async function commandCountsOf(url: string): Promise<RedisCommandCounts> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url);
  try {
    const [stats, commands] = [await client.info("stats"), await client.info("commandstats")];
    const calls = (command: string) =>
      Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(commands)?.[1] ?? 0);
    return {
      processed: Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? 0),
      scriptCalls: calls("evalsha") + calls("eval"),
    };
  } finally {
    client.disconnect();
  }
}

interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A redis-server as compose.replicas.yaml runs it (append-only file, fsync every second). */
async function startRedisServer(dir: string): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--appendonly", "yes"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
  });
  child.stdout?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
