// The playground: the real Atelier (src/app.ts) on the in-repo fake Discord and, unless an image
// service is configured, the built-in EvoLink emulator drawing pictures that follow the prompt; plus
// a web page (src/playground/web.ts) that looks and behaves like a Discord channel.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEvolinkEmulator } from "../../emulators/evolink.ts";
import { type RunningAtelier, startAtelier } from "../app.ts";
import { downloadOrigins, type Settings } from "../config.ts";
import { FakeDiscord } from "../fake-discord/index.ts";
import type { DownloadPolicy } from "../images/download.ts";
import type { Logger } from "../log.ts";
import { createEvolinkProvider } from "../providers/evolink.ts";
import { createProviders, type ProviderRegistry, registryOf } from "../providers/index.ts";
import { BlobStore } from "../store/blobs.ts";
import { openStore, type Store } from "../store/index.ts";
import { createPeople, type Person } from "./people.ts";
import { startPlaygroundWeb } from "./web.ts";

export interface PlaygroundOptions {
  /** The page's port (0: any free one). Default 0. */
  port?: number;
  /** The page's interface. Default 127.0.0.1. */
  host?: string;
  logger: Logger;
  /** Run on these configured image services instead of the emulator. */
  settings?: Settings;
  /** How long an emulated job takes. Default 8 s (long enough to watch its progress). */
  taskDurationMs?: number;
  /** Longer side of an emulated image. Default 512. */
  imageLongSide?: number;
  /** Least time between two progress edits. Default the bot's (2 s). */
  progressIntervalMs?: number;
  /** How often running jobs are polled. Default 0.5 s on the emulator, POLL_INTERVAL_SECONDS otherwise. */
  pollIntervalMs?: number;
}

export interface Playground {
  /** The page's address. */
  url: string;
  fake: FakeDiscord;
  people: Person[];
  /** Which image services the bot runs on (`evolink emulator` when built in). */
  backend: string;
  stop(): Promise<void>;
}

interface Backend {
  providers: ProviderRegistry;
  origins: string[];
  name: string;
  stop(): Promise<void>;
}

const emulatorKey = "playground-key";

async function emulatedBackend(options: PlaygroundOptions): Promise<Backend> {
  const emulator = await startEvolinkEmulator({
    apiKey: emulatorKey,
    taskDurationMs: options.taskDurationMs ?? 8_000,
    tileLongSide: options.imageLongSide ?? 512,
    pictures: "procedural",
  });
  const providers = registryOf([
    createEvolinkProvider({ apiKey: emulatorKey, baseUrl: emulator.baseUrl, logger: options.logger }),
  ]);
  return {
    providers,
    origins: [emulator.baseUrl],
    name: "evolink emulator",
    stop: async () => {
      await providers.closeAll();
      await emulator.stop();
    },
  };
}

function configuredBackend(settings: Settings, logger: Logger, blobs: BlobStore): Backend {
  const providers = createProviders(settings, logger, { blobs });
  return {
    providers,
    origins: downloadOrigins(settings),
    name: providers.names().join(","),
    stop: () => providers.closeAll(),
  };
}

type Closer = () => Promise<void> | void;

/** Starts the real bot on the fake, with the backend's image services and a throwaway data folder. */
async function startBotOnFake(
  fake: FakeDiscord,
  backend: Backend,
  blobs: BlobStore,
  store: Store,
  options: PlaygroundOptions,
): Promise<RunningAtelier> {
  const { logger, settings } = options;
  // The fake serves people's attachments over http on 127.0.0.1 (Discord's CDN is public https).
  const downloadPolicy: DownloadPolicy = {
    allowedHttpOrigins: [...backend.origins, fake.restBaseUrl],
    maxBytes: (settings?.MAX_IMAGE_MB ?? 30) * 1024 * 1024,
    timeoutMs: 60_000,
  };
  return startAtelier({
    store,
    providers: backend.providers,
    defaultProvider: backend.providers.default.name,
    logger,
    downloadPolicy,
    blobs,
    jobs: {
      pollIntervalMs: options.pollIntervalMs ?? (settings ? settings.POLL_INTERVAL_SECONDS * 1000 : 500),
      maxRunning: settings?.MAX_RUNNING_JOBS,
      maxRunningPerUser: settings?.MAX_RUNNING_PER_USER,
      maxQueuedPerUser: settings?.MAX_QUEUED_PER_USER,
    },
    discord: {
      token: fake.botToken,
      apiUrl: fake.restBaseUrl,
      guildId: fake.guildId,
      maxJobs: settings?.PROMPT_MAX_JOBS ?? 10,
      defaultSpeed: settings?.DEFAULT_SPEED ?? "fast",
      defaultQuality: settings?.DEFAULT_QUALITY ?? "standard",
      progressIntervalMs: options.progressIntervalMs,
    },
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The page's address; a page on every interface is opened on the loopback one. */
function pageUrl(web: Server, options: PlaygroundOptions): string {
  const address = web.address();
  const port = address && typeof address === "object" ? address.port : options.port;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  return `http://${host}:${port}/`;
}

export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  const { logger, settings } = options;
  const closers: Closer[] = [];
  const stop = async () => {
    for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
  };
  try {
    const fake = await FakeDiscord.start({ botUsername: "Atelier", guildName: "Playground" });
    closers.push(() => fake.stop());
    const dataDir = mkdtempSync(join(tmpdir(), "atelier-playground-"));
    closers.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir });
    closers.push(() => store.close());
    const blobs = new BlobStore(store.keyv);
    const backend = settings ? configuredBackend(settings, logger, blobs) : await emulatedBackend(options);
    closers.push(() => backend.stop());
    const people = createPeople(fake);
    const atelier = await startBotOnFake(fake, backend, blobs, store, options);
    closers.push(() => atelier.stop());
    // The bot registers its commands at start; the page lists them, so wait for /imagine.
    await fake.waitFor(() => fake.registeredCommands(fake.guildId).some((c) => c.name === "imagine"), 15_000);
    const web: Server = await startPlaygroundWeb({
      fake,
      people,
      logger,
      port: options.port ?? 0,
      host: options.host ?? "127.0.0.1",
    });
    closers.push(() => closeServer(web));
    return { url: pageUrl(web, options), fake, people, backend: backend.name, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
