// `atelier start` (what `npm start` runs): open the store, the providers and the image worker,
// start Atelier (src/app.ts), and shut down cleanly on SIGINT/SIGTERM.
import { startAtelier } from "../app.ts";
import { baseUrlFor, configuredProviders, type Settings, secretValues } from "../config.ts";
import type { DownloadPolicy } from "../images/download.ts";
import { createWorkerRenderer } from "../images/renderer.ts";
import { createLogger } from "../log.ts";
import { createProviders } from "../providers/index.ts";
import { BlobStore } from "../store/blobs.ts";
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
  const blobs = new BlobStore(store.keyv);
  const providers = createProviders(settings, logger, { blobs });
  const downloadPolicy: DownloadPolicy = {
    allowedHttpOrigins: configuredProviders(settings)
      .map((name) => baseUrlFor(settings, name))
      .filter((url): url is string => url !== undefined),
    maxBytes: settings.MAX_IMAGE_MB * 1024 * 1024,
    timeoutMs: 60_000,
  };
  let stopping = false;
  const renderer = createWorkerRenderer({
    onExit: (code, signal) => {
      if (!stopping) logger.warn("image worker stopped; it restarts with the next image", { code, signal });
    },
  });
  const atelier = await startAtelier({
    store,
    providers,
    defaultProvider: providers.default.name,
    logger,
    downloadPolicy,
    renderer,
    blobs,
    jobs: {
      pollIntervalMs: settings.POLL_INTERVAL_SECONDS * 1000,
      timeoutMs:
        settings.TASK_TIMEOUT_MINUTES === undefined ? undefined : settings.TASK_TIMEOUT_MINUTES * 60_000,
      maxRunning: settings.MAX_RUNNING_JOBS,
      maxRunningPerUser: settings.MAX_RUNNING_PER_USER,
      maxQueuedPerUser: settings.MAX_QUEUED_PER_USER,
    },
    discord: {
      token: settings.DISCORD_TOKEN as string,
      apiUrl: settings.DISCORD_API_URL,
      guildId: settings.DISCORD_GUILD_ID,
      maxJobs: settings.PROMPT_MAX_JOBS,
      defaultSpeed: settings.DEFAULT_SPEED,
      defaultQuality: settings.DEFAULT_QUALITY,
    },
    callbacks:
      settings.PUBLIC_URL && providers.all().some((provider) => provider.capabilities.callback)
        ? { port: settings.HTTP_PORT, secret: settings.CALLBACK_SECRET }
        : undefined,
  });
  logger.info("atelier running", { providers: providers.names().join(",") });

  const signal = await shutdownSignal();
  logger.info("shutting down", { signal });
  stopping = true;
  await atelier.stop();
  await providers.closeAll();
  await renderer.close();
  await store.close();
  logger.info("stopped");
  return 0;
}
