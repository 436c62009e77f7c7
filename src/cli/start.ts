// `atelier start` (what `npm start` runs): open the store, connect the provider and Discord,
// resume unfinished jobs, and shut down cleanly on SIGINT/SIGTERM.
import type { Server } from "node:http";
import { commands } from "../../commands/index.ts";
import { baseUrlFor, type Settings, secretValues } from "../config.ts";
import { startBot } from "../discord/bot.ts";
import { type DownloadPolicy, downloadSourceImage } from "../images/download.ts";
import { createWorkerRenderer } from "../images/renderer.ts";
import { startCallbackServer } from "../jobs/callbacks.ts";
import { PreferenceStore } from "../jobs/preferences.ts";
import { JobService } from "../jobs/service.ts";
import { createTeamServices } from "../jobs/team.ts";
import { createLogger } from "../log.ts";
import { createProvider } from "../providers/index.ts";
import { openStore } from "../store/index.ts";

function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });
}

export async function runBot(settings: Settings): Promise<number> {
  const logger = createLogger({ level: settings.LOG_LEVEL, secrets: secretValues(settings) });
  const store = await openStore({ dataDir: settings.DATA_DIR, redisUrl: settings.REDIS_URL });
  logger.info("store open", {
    kind: store.kind,
    dataDir: store.kind === "sqlite" ? settings.DATA_DIR : undefined,
  });
  const provider = createProvider(settings, logger);
  const providers = new Map([[provider.name, provider]]);
  // Result images and the images people attach (/blend, /describe) are fetched under one policy.
  const downloadPolicy: DownloadPolicy = {
    allowedHttpOrigins: [baseUrlFor(settings)].filter((url): url is string => url !== undefined),
    maxBytes: settings.MAX_IMAGE_MB * 1024 * 1024,
    timeoutMs: 120_000,
  };
  const jobs = new JobService({
    store,
    providers,
    defaultProvider: provider.name,
    pollIntervalMs: settings.POLL_INTERVAL_SECONDS * 1000,
    timeoutMs:
      settings.TASK_TIMEOUT_MINUTES === undefined ? undefined : settings.TASK_TIMEOUT_MINUTES * 60_000,
    maxRunning: settings.MAX_RUNNING_JOBS,
    maxRunningPerUser: settings.MAX_RUNNING_PER_USER,
    maxQueuedPerUser: settings.MAX_QUEUED_PER_USER,
    fetchSourceImage: (url, signal) => downloadSourceImage(url, downloadPolicy, signal),
    logger,
  });
  const team = createTeamServices({ store, logger });
  let stopping = false;
  const renderer = createWorkerRenderer({
    onExit: (code, signal) => {
      if (!stopping) logger.warn("image worker stopped; it restarts with the next image", { code, signal });
    },
  });
  const bot = await startBot({
    token: settings.DISCORD_TOKEN as string,
    apiUrl: settings.DISCORD_API_URL,
    guildId: settings.DISCORD_GUILD_ID,
    commands,
    jobs,
    logger,
    maxJobs: settings.PROMPT_MAX_JOBS,
    defaultSpeed: settings.DEFAULT_SPEED,
    defaultQuality: settings.DEFAULT_QUALITY,
    downloadPolicy,
    renderer,
    team,
    preferences: new PreferenceStore(store),
  });
  let callbacks: Server | undefined;
  if (settings.PUBLIC_URL && provider.capabilities.callback) {
    callbacks = await startCallbackServer({
      port: settings.HTTP_PORT,
      jobs,
      providers,
      secret: settings.CALLBACK_SECRET,
      logger,
    });
    logger.info("callbacks listening", { port: settings.HTTP_PORT });
  }
  // Resume only once the presenter listens, so recovered results reach their messages.
  await jobs.start();
  logger.info("atelier running", { provider: provider.name });

  const signal = await shutdownSignal();
  logger.info("shutting down", { signal });
  stopping = true;
  await bot.stop();
  await jobs.stop();
  await team.idle(); // usage of the last finished jobs, before the store closes
  await new Promise<void>((resolve) => (callbacks ? callbacks.close(() => resolve()) : resolve()));
  await provider.close?.();
  await renderer.close();
  await store.close();
  logger.info("stopped");
  return 0;
}
