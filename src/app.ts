// One running Atelier, assembled: the job service, team rules, preferences, the Discord bot and
// provider callbacks over a store and providers the caller opened. `atelier start` and the
// end-to-end tests both go through here, so what is tested is what runs.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { commands } from "../commands/index.ts";
import { type BotOptions, type RunningBot, startBot } from "./discord/bot.ts";
import { portInUseError, StartupError } from "./discord/connect.ts";
import { type InteractionFront, startInteractionFront } from "./discord/interaction-front.ts";
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
  /** The HTTP port (the system's pick when 0 was asked for). */
  httpPort?: number;
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
  jobs.listen(metrics.jobs);
  const bot = await startBot({
    // Job commands are answered "thinking…" by the thread that receives them (the gateway's or
    // the HTTP port's), so that answer never waits for this thread, its store or its queue.
    thinkFirst: true,
    ...parts.discord,
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
  let served: Served | undefined;
  try {
    served = parts.http ? await serve(parts, { jobs, bot, metrics }) : undefined;
  } catch (error) {
    await bot.stop();
    throw (error as { code?: string }).code === "EADDRINUSE" ? portInUseError(parts.http?.port) : error;
  }
  // Resume only once the presenter listens, so recovered results reach their messages.
  await jobs.start();
  return {
    jobs,
    bot,
    team,
    preferences,
    httpPort: served?.port,
    stop: async () => {
      await served?.front?.stop();
      await bot.stop();
      await jobs.stop();
      await team.idle(); // usage of the last finished jobs, before the store closes
      await new Promise<void>((resolve) => (served ? served.server.close(() => resolve()) : resolve()));
      unwatchRedis();
    },
  };
}

/** Healthy when Discord is connected (or interactions are served over HTTP) and the store answers within 2 s. */
function healthOf(bot: RunningBot, store: Store, front: () => InteractionFront | undefined): HealthCheck {
  return {
    problems: async () => {
      const problems = bot.connected()
        ? []
        : [bot.interactions ? "Discord interactions not served" : "Discord gateway not connected"];
      if (front()?.alive() === false) problems.push("the interactions endpoint stopped");
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

/** The HTTP port: this thread's server, or the interaction front's thread in front of it on loopback. */
interface Served {
  port: number;
  server: Server;
  front?: InteractionFront;
}

async function serve(
  parts: AtelierParts,
  running: { jobs: JobService; bot: RunningBot; metrics: AtelierMetrics },
): Promise<Served> {
  const { port, host } = parts.http as { port: number; host?: string };
  const { interactions } = running.bot;
  const callbacks = parts.callbacks
    ? callbackHandler({
        jobs: running.jobs,
        providers: parts.providers,
        secret: parts.callbacks.secret,
        logger: parts.logger,
      })
    : undefined;
  let front: InteractionFront | undefined;
  const server = await startServiceServer({
    // With interactions over HTTP, the front thread holds the port and passes the rest on to here.
    ...(interactions ? { port: 0, host: "127.0.0.1" } : { port, host }),
    health: healthOf(running.bot, parts.store, () => front),
    metrics: running.metrics,
    callbacks,
    logger: parts.logger,
  });
  const ownPort = (server.address() as AddressInfo).port;
  if (interactions) {
    try {
      front = await startInteractionFront({
        settings: {
          port,
          host,
          upstreamPort: ownPort,
          publicKey: parts.discord.publicKey as string,
          // A replayed interaction is refused by whichever process it reaches.
          redisUrl: parts.store.redisUrl,
          thinkingCommands: interactions.thinkingCommands,
        },
        handOff: interactions.handOff,
        logger: parts.logger,
      });
    } catch (error) {
      server.close();
      throw error;
    }
  }
  const served = { port: front?.port ?? ownPort, server, front };
  parts.logger.info("http listening", {
    // The bound port: with HTTP_PORT=0 the system picks one, and this line is where it is told.
    port: served.port,
    callbacks: callbacks !== undefined,
    interactions: front !== undefined,
  });
  return served;
}
