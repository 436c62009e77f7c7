// One running Atelier, assembled: the job service, team rules, preferences, the Discord bot and
// provider callbacks over a store and providers the caller opened. `atelier start` and the
// end-to-end tests both go through here, so what is tested is what runs.
import type { Server } from "node:http";
import { commands } from "../commands/index.ts";
import { type BotOptions, type RunningBot, startBot } from "./discord/bot.ts";
import { StartupError } from "./discord/connect.ts";
import { type DownloadPolicy, downloadSourceImage } from "./images/download.ts";
import { createInProcessRenderer, type ImageRenderer, withBlobLinks } from "./images/renderer.ts";
import { callbackHandler } from "./jobs/callbacks.ts";
import type { NamedProviders } from "./jobs/pipeline.ts";
import { JobService, type JobServiceOptions } from "./jobs/service.ts";
import type { Logger } from "./log.ts";
import { type HealthCheck, startServiceServer } from "./service/http.ts";
import { type AtelierMetrics, createMetrics } from "./service/metrics.ts";
import { BlobStore, type ResultBlobs } from "./store/blobs.ts";
import type { Store } from "./store/index.ts";
import { sharedSeenKeys } from "./store/seen.ts";
import { redisProblem, watchRedis } from "./store/shared.ts";
import { PreferenceStore } from "./team/preferences.ts";
import { createTeamServices, type TeamServices } from "./team/team.ts";

export interface AtelierParts {
  store: Store;
  providers: NamedProviders;
  defaultProvider: string;
  logger: Logger;
  /** Result images and the images people attach (/blend, /describe) are fetched under this one policy. */
  downloadPolicy: DownloadPolicy;
  renderer?: ImageRenderer;
  /** Results providers gave as bytes (default: kept in the store). */
  blobs?: ResultBlobs;
  jobs: Pick<
    JobServiceOptions,
    "pollIntervalMs" | "timeoutMs" | "maxRunning" | "maxRunningPerUser" | "maxQueuedPerUser" | "shared"
  >;
  discord: Omit<
    BotOptions,
    | "commands"
    | "jobs"
    | "providers"
    | "logger"
    | "downloadPolicy"
    | "renderer"
    | "team"
    | "preferences"
    | "metrics"
  >;
  /** The bot's HTTP port: /healthz and /metrics always, provider callbacks when `callbacks`, /interactions with `discord.publicKey`. */
  http?: { port: number; host?: string };
  /** Take provider callbacks on the HTTP port (a provider can call back and a public URL is set). */
  callbacks?: { secret?: string };
}

export interface RunningAtelier {
  jobs: JobService;
  bot: RunningBot;
  team: TeamServices;
  preferences: PreferenceStore;
  /** The HTTP port's server (its address says the port when 0 was asked for). */
  http?: Server;
  /** Stops Discord, lets jobs settle and flushes usage; the store and providers stay open (the caller's). */
  stop(): Promise<void>;
}

export async function startAtelier(parts: AtelierParts): Promise<RunningAtelier> {
  const { store, logger, downloadPolicy } = parts;
  const jobs = new JobService({
    ...parts.jobs,
    store,
    providers: parts.providers,
    defaultProvider: parts.defaultProvider,
    fetchSourceImage: (url, signal) => downloadSourceImage(url, downloadPolicy, signal),
    // With Redis: a worker for every configured provider account.
    shared: { lanes: parts.providers.names(), ...parts.jobs.shared },
    logger,
  });
  const unwatchRedis = watchRedis(store, logger);
  if (parts.discord.publicKey && !parts.http)
    throw new StartupError(
      "DISCORD_PUBLIC_KEY is set, so Discord sends interactions to the HTTP port: give it one.",
    );
  const team = createTeamServices({ store, logger });
  const preferences = new PreferenceStore(store);
  const metrics = createMetrics({ queueDepth: () => jobs.queueOrder().length });
  // A replayed interaction is refused by whichever process it reaches.
  const replays = parts.discord.publicKey ? sharedSeenKeys(store) : undefined;
  jobs.listen(metrics.jobs);
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot({
      // A store across the network would put its round trips before the answer.
      thinkFirst: store.kind === "redis",
      ...parts.discord,
      replays,
      metrics,
      commands,
      jobs,
      providers: parts.providers,
      logger,
      downloadPolicy,
      renderer: withBlobLinks(
        parts.renderer ?? createInProcessRenderer(),
        parts.blobs ?? new BlobStore(store.keyv),
      ),
      team,
      preferences,
    });
  } catch (error) {
    replays?.close();
    throw error;
  }
  let server: Server | undefined;
  try {
    server = parts.http ? await serve(parts, { jobs, bot, metrics }) : undefined;
  } catch (error) {
    await bot.stop();
    replays?.close();
    throw (error as { code?: string }).code === "EADDRINUSE"
      ? new StartupError(
          `HTTP_PORT ${parts.http?.port} is in use by another program: set HTTP_PORT to a free port.`,
        )
      : error;
  }
  // Resume only once the presenter listens, so recovered results reach their messages.
  await jobs.start();
  return {
    jobs,
    bot,
    team,
    preferences,
    http: server,
    stop: async () => {
      await bot.stop();
      await jobs.stop();
      await team.idle(); // usage of the last finished jobs, before the store closes
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      replays?.close();
      unwatchRedis();
    },
  };
}

/** Healthy when Discord is connected (or interactions are served over HTTP) and the store answers within 2 s. */
function healthOf(bot: RunningBot, store: Store): HealthCheck {
  return {
    problems: async () => {
      const problems = bot.connected()
        ? []
        : [bot.interactions ? "Discord interactions not served" : "Discord gateway not connected"];
      const redisAway = redisProblem(store);
      if (redisAway) return [...problems, redisAway];
      const answered = await Promise.race([
        store.keyv.get("health:probe").then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
      ]);
      return answered ? problems : [...problems, `store (${store.kind}) did not answer`];
    },
  };
}

async function serve(
  parts: AtelierParts,
  running: { jobs: JobService; bot: RunningBot; metrics: AtelierMetrics },
): Promise<Server> {
  const { port, host } = parts.http as { port: number; host?: string };
  const callbacks = parts.callbacks
    ? callbackHandler({
        jobs: running.jobs,
        providers: parts.providers,
        secret: parts.callbacks.secret,
        logger: parts.logger,
      })
    : undefined;
  const server = await startServiceServer({
    port,
    host,
    health: healthOf(running.bot, parts.store),
    metrics: running.metrics,
    callbacks,
    interactions: running.bot.interactions,
    logger: parts.logger,
  });
  const address = server.address();
  parts.logger.info("http listening", {
    // The bound port: with HTTP_PORT=0 the system picks one, and this line is where it is told.
    port: typeof address === "object" && address ? address.port : port,
    callbacks: callbacks !== undefined,
    interactions: running.bot.interactions !== undefined,
  });
  return server;
}
