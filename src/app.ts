// One running Atelier, assembled: the job service, team rules, preferences, the Discord bot and
// provider callbacks over a store and providers the caller opened. `atelier start` and the
// end-to-end tests both go through here, so what is tested is what runs.
import type { Server } from "node:http";
import { commands } from "../commands/index.ts";
import { type BotOptions, type RunningBot, startBot } from "./discord/bot.ts";
import { type DownloadPolicy, downloadSourceImage } from "./images/download.ts";
import { createInProcessRenderer, type ImageRenderer, withBlobLinks } from "./images/renderer.ts";
import { startCallbackServer } from "./jobs/callbacks.ts";
import type { NamedProviders } from "./jobs/pipeline.ts";
import { JobService, type JobServiceOptions } from "./jobs/service.ts";
import type { Logger } from "./log.ts";
import { BlobStore, type ResultBlobs } from "./store/blobs.ts";
import type { Store } from "./store/index.ts";
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
    "pollIntervalMs" | "timeoutMs" | "maxRunning" | "maxRunningPerUser" | "maxQueuedPerUser"
  >;
  discord: Omit<
    BotOptions,
    "commands" | "jobs" | "providers" | "logger" | "downloadPolicy" | "renderer" | "team" | "preferences"
  >;
  /** Serve provider callbacks on this port (when the provider can call back and a public URL is set). */
  callbacks?: { port: number; secret?: string };
}

export interface RunningAtelier {
  jobs: JobService;
  bot: RunningBot;
  team: TeamServices;
  preferences: PreferenceStore;
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
    logger,
  });
  const team = createTeamServices({ store, logger });
  const preferences = new PreferenceStore(store);
  const bot = await startBot({
    ...parts.discord,
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
  const callbacks = parts.callbacks ? await listenForCallbacks(parts, jobs) : undefined;
  // Resume only once the presenter listens, so recovered results reach their messages.
  await jobs.start();
  return {
    jobs,
    bot,
    team,
    preferences,
    stop: async () => {
      await bot.stop();
      await jobs.stop();
      await team.idle(); // usage of the last finished jobs, before the store closes
      await new Promise<void>((resolve) => (callbacks ? callbacks.close(() => resolve()) : resolve()));
    },
  };
}

async function listenForCallbacks(parts: AtelierParts, jobs: JobService): Promise<Server> {
  const { port, secret } = parts.callbacks as { port: number; secret?: string };
  const server = await startCallbackServer({
    port,
    jobs,
    providers: parts.providers,
    secret,
    logger: parts.logger,
  });
  parts.logger.info("callbacks listening", { port });
  return server;
}
