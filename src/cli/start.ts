// `atelier start` (what `npm start` runs): open the store, the providers and the image worker,
// check the providers' keys, start Atelier (src/app.ts), and shut down cleanly on SIGINT/SIGTERM.
// A start-up failure closes whatever was opened and ends as one line naming the cause and the fix.
import { setFlagsFromString } from "node:v8";
import { type AtelierParts, type RunningAtelier, startAtelier } from "../app.ts";
import { downloadOrigins, type Settings, secretValues, shardsOf } from "../config.ts";
import { StartupError } from "../discord/connect.ts";
import type { DownloadPolicy } from "../images/download.ts";
import { createWorkerRenderer } from "../images/renderer.ts";
import { createLogger, type Logger } from "../log.ts";
import { createProviders, type ProviderRegistry } from "../providers/index.ts";
import { answeringThreadNames } from "../service/thread-names.mjs";
import { lowerThreadsExcept } from "../service/thread-priority.ts";
import { BlobStore } from "../store/blobs.ts";
import { openStore } from "../store/index.ts";

/**
 * How far V8 lets the old generation grow past what survived the last full collection before it
 * collects again. Its own factor rises to 4× on a machine with memory to spare: with 1,000 jobs in
 * flight ~60 MB is live, but each job's poll wait, REST call and progress view lives for up to a
 * poll interval, outlives two young collections and is promoted (~4 MB/s), so the old space filled
 * with ~200 MB of that garbage before each full GC (bench/bot.ts scenario 3: peak RSS ~450 MB).
 * 1.15× keeps it near the live data. Not a ceiling: the heap still grows as far as the live data
 * needs; the cost is a full collection every few seconds under that load (concurrent marking,
 * 5–20 ms pauses).
 */
const heapGrowingPercent = 15;

/**
 * The young generation (MB per half) of the isolates started after this is set: the interaction
 * threads (the gateway's, the HTTP port's). Each holds an interaction for a moment; V8's default
 * (up to 16 MB per half) let each grow by tens of MB under a burst (bench/bot.ts scenario 3). The
 * bot's own thread is already running and keeps V8's default.
 */
const threadSemiSpaceMb = 1;

/**
 * The nice value of every thread of the bot's process but the ones that answer interactions, once
 * it runs: job work (store, queue, deliveries), V8's garbage-collection helpers and libuv's pool
 * yield the CPU to the answering threads, which keep the default 0 (on Linux a thread's priority
 * is its own). The image worker is lower still (19). bench/bot.ts scenario 1, three processes, two
 * runs each: first answer p99 33–38 ms with the bot's thread at 10 against 232–239 ms at 0 on the
 * same machine minutes apart.
 */
const botThreadNiceness = 10;

/** How long each provider's start-up check may take. */
const verifyTimeoutMs = 10_000;

function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });
}

/** Every configured provider proves its key and URL, all at once; the first refusal stops the start. */
async function verifyProviders(providers: ProviderRegistry): Promise<void> {
  await Promise.all(
    providers.all().map(async (provider) => {
      try {
        await provider.verify?.(AbortSignal.timeout(verifyTimeoutMs));
      } catch (error) {
        const timedOut = (error as Error).name === "TimeoutError";
        const reason = timedOut
          ? `did not answer within ${verifyTimeoutMs / 1000} s`
          : (error as Error).message;
        throw new StartupError(`Provider ${provider.name}: ${reason}`);
      }
    }),
  );
}

function downloadPolicyFor(settings: Settings): DownloadPolicy {
  return {
    allowedHttpOrigins: downloadOrigins(settings),
    maxBytes: settings.MAX_IMAGE_MB * 1024 * 1024,
    timeoutMs: 60_000,
  };
}

/** The settings as the parts of one running Atelier. */
function partsFor(
  settings: Settings,
  opened: Pick<AtelierParts, "store" | "renderer" | "blobs" | "logger"> & { providers: ProviderRegistry },
): AtelierParts {
  const { store, providers, renderer, blobs, logger } = opened;
  return {
    store,
    providers,
    defaultProvider: providers.default.name,
    logger,
    downloadPolicy: downloadPolicyFor(settings),
    renderer,
    blobs,
    jobs: {
      pollIntervalMs: settings.POLL_INTERVAL_SECONDS * 1000,
      timeoutMs:
        settings.TASK_TIMEOUT_MINUTES === undefined ? undefined : settings.TASK_TIMEOUT_MINUTES * 60_000,
      maxRunning: settings.MAX_RUNNING_JOBS,
      maxRunningPerUser: settings.MAX_RUNNING_PER_USER,
      maxQueuedPerUser: settings.MAX_QUEUED_PER_USER,
      shared: { lockMs: settings.JOB_TAKEOVER_SECONDS * 1000 },
    },
    discord: {
      token: settings.DISCORD_TOKEN as string,
      apiUrl: settings.DISCORD_API_URL,
      guildId: settings.DISCORD_GUILD_ID,
      shards: shardsOf(settings),
      publicKey: settings.DISCORD_PUBLIC_KEY,
      maxJobs: settings.PROMPT_MAX_JOBS,
      defaultSpeed: settings.DEFAULT_SPEED,
      defaultQuality: settings.DEFAULT_QUALITY,
    },
    http: { port: settings.HTTP_PORT },
    callbacks:
      settings.PUBLIC_URL && providers.all().some((provider) => provider.capabilities.callback)
        ? { secret: settings.CALLBACK_SECRET }
        : undefined,
  };
}

/** Opens everything in order; on a failure closes what was opened (newest first) and rethrows. */
async function open(
  settings: Settings,
  logger: Logger,
): Promise<{ atelier: RunningAtelier; close(): Promise<void> }> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    const store = await openStore({ dataDir: settings.DATA_DIR, redisUrl: settings.REDIS_URL, logger });
    closers.push(() => store.close());
    logger.info("store open", {
      kind: store.kind,
      dataDir: store.kind === "sqlite" ? settings.DATA_DIR : undefined,
    });
    const blobs = new BlobStore(store.keyv);
    const providers = createProviders(settings, logger, { blobs });
    closers.push(() => providers.closeAll());
    await verifyProviders(providers);
    let stopping = false;
    const renderer = createWorkerRenderer({
      onExit: (code, signal) => {
        if (!stopping) logger.warn("image worker stopped; it restarts with the next image", { code, signal });
      },
    });
    closers.push(async () => {
      stopping = true;
      await renderer.close();
    });
    const atelier = await startAtelier(partsFor(settings, { store, providers, renderer, blobs, logger }));
    yieldToAnsweringThreads(logger);
    logger.info("atelier running", { providers: providers.names().join(",") });
    return { atelier, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Lowers every thread but the interaction threads below their priority (see botThreadNiceness). */
function yieldToAnsweringThreads(logger: Logger): void {
  try {
    lowerThreadsExcept(Object.values(answeringThreadNames), botThreadNiceness);
  } catch (error) {
    logger.warn("could not lower the bot's threads' priority; answers may wait behind job work", { error });
  }
}

export async function runBot(settings: Settings): Promise<number> {
  // Set here, where `atelier start` runs (npm start, the Docker image, the benchmark's bot), not in
  // NODE_OPTIONS, which refuses this flag. V8 reads it at each collection, so setting it now applies.
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
  setFlagsFromString(`--max-semi-space-size=${threadSemiSpaceMb}`);
  const logger = createLogger({
    level: settings.LOG_LEVEL,
    format: settings.LOG_FORMAT,
    secrets: secretValues(settings),
  });
  const { atelier, close } = await open(settings, logger);
  const signal = await shutdownSignal();
  logger.info("shutting down", { signal });
  await atelier.stop();
  await close();
  logger.info("stopped");
  return 0;
}
