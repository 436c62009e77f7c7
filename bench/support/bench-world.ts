// One benchmark world: fake Discord, EvoLink emulator and its caching front in this process; the
// real bot (`atelier start`) in a child process with production defaults unless told otherwise.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { FakeDiscord } from "../../test/fake-discord/index.ts";
import { type BotChild, startBotChild } from "./bot-child.ts";
import { type ProviderFront, startProviderFront } from "./provider-front.ts";

export interface BenchWorldOptions {
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
  emulator: EvolinkEmulator;
  front: ProviderFront;
  bot: BotChild;
  stop(): Promise<void>;
}

const apiKey = "evk-bench-secret-key-42";

export async function startBenchWorld(options: BenchWorldOptions): Promise<BenchWorld> {
  // The fake's 3-second rule is off: a slow answer should show in the figures, not fail the run.
  const fake = await FakeDiscord.start({ dispatchTimeoutMs: 30_000 });
  const emulator = await startEvolinkEmulator({
    apiKey,
    taskDurationMs: options.taskDurationMs,
    tileLongSide: options.tileLongSide,
    allowInsecureCallbacks: options.callbacks,
  });
  const front = await startProviderFront(emulator);
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-bench-"));
  const callbackPort = options.callbacks ? await freePort() : undefined;
  if (callbackPort !== undefined) front.callbackTarget = `http://127.0.0.1:${callbackPort}`;
  const env: Record<string, string> = {
    DISCORD_TOKEN: fake.botToken,
    DISCORD_API_URL: fake.restBaseUrl,
    DISCORD_GUILD_ID: fake.guildId,
    EVOLINK_API_KEY: apiKey,
    EVOLINK_BASE_URL: front.baseUrl,
    DATA_DIR: dataDir,
    POLL_INTERVAL_SECONDS: String(options.pollSeconds),
    LOG_LEVEL: "info",
    HTTP_PORT: String(callbackPort ?? 0),
    BENCH_SETTINGS_OVERRIDES: JSON.stringify({
      ...(callbackPort === undefined ? {} : { PUBLIC_URL: front.baseUrl }),
      ...options.overrides,
    }),
    ...options.botEnv,
  };
  const bot = await startBotChild({ env, cpuProfileDir: options.cpuProfileDir, entry: options.botEntry });
  return {
    fake,
    emulator,
    front,
    bot,
    stop: async () => {
      await bot.stop();
      await front.stop();
      await emulator.stop();
      await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
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
