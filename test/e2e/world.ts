// One running Atelier against the fakes: fake Discord, the EvoLink emulator, a real store.
// Tests drive it as users would and look at what Discord shows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIMessageTopLevelComponent,
  type APIUser,
  Events,
} from "discord.js";
import {
  type EvolinkEmulator,
  type MidjourneyProxyEmulator,
  startEvolinkEmulator,
  startMidjourneyProxyEmulator,
} from "../../emulators/index.ts";
import { startAtelier } from "../../src/app.ts";
import type { RunningBot } from "../../src/discord/bot.ts";
import type { DownloadPolicy } from "../../src/images/download.ts";
import { createWorkerRenderer } from "../../src/images/renderer.ts";
import type { JobService } from "../../src/jobs/service.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import { registryOf } from "../../src/providers/index.ts";
import { createMidjourneyProxyProvider } from "../../src/providers/midjourney-proxy.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { BlobStore, type ResultBlobs } from "../../src/store/blobs.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import type { PreferenceStore } from "../../src/team/preferences.ts";
import type { TeamServices } from "../../src/team/team.ts";
import { FakeDiscord, type FakeMessage, type InteractionHandle } from "../fake-discord/index.ts";
import { decodePixels } from "../support/pixels.ts";

export const evolinkKey = "evk-e2e-secret-key-42";

export interface WorldOptions {
  taskDurationMs?: number;
  tileLongSide?: number;
  redisUrl?: string;
  tokenLifetimeMs?: number;
  timeoutMs?: number;
  /**
   * Run against a midjourney-proxy emulator instead of EvoLink; `both`: EvoLink (the default) and
   * midjourney-proxy configured at once (PROVIDER=evolink,midjourney-proxy).
   */
  provider?: "evolink" | "midjourney-proxy" | "both";
  /**
   * Run against another backend: started with the world's key, logger and task duration, it gives
   * the provider and its emulator's base URL (trusted for downloads). Overrides `provider`.
   */
  backend?: WorldBackend;
  /** Let tests send commands the bot did not register (an old client's interaction). Default false. */
  allowUnregisteredCommands?: boolean;
  /** Fair queue limits (JobServiceOptions); unlimited when absent. */
  maxRunning?: number;
  maxRunningPerUser?: number;
  maxQueuedPerUser?: number;
  /** Compose images in the worker process, as `atelier start` does (default: in this process). */
  renderer?: "worker";
  /** The download policy's limit per fetch (default 10 s). */
  downloadTimeoutMs?: number;
  /** Waits between attempts to deliver a final message (default [50, 200]). */
  deliveryRetryDelaysMs?: number[];
  /** Serve /healthz and /metrics on an ephemeral port (`World.httpUrl`). */
  http?: boolean;
  /**
   * `http`: Discord sends interactions to the bot's /interactions endpoint (DISCORD_PUBLIC_KEY), and
   * the bot never opens the gateway. A world joining an HTTP fake (`fake`) adds its endpoint to it.
   */
  interactions?: "gateway" | "http";
  /** HTTP interactions: how long a handler may take before the response defers for it. */
  answerDeadlineMs?: number;
  /** Job commands answer "thinking…" first (on by itself with Redis). */
  thinkFirst?: boolean;
  /** Join this fake Discord, as one more process of the same bot (`stop` leaves it running). */
  fake?: FakeDiscord;
  /** REST base instead of the fake's (e.g. a REST proxy in front of it). */
  discordApiUrl?: string;
  /** Gateway shards this bot runs (`SHARD_COUNT` / `SHARD_IDS`); with them commands are registered globally. */
  shards?: { count: number; ids: number[] };
}

export interface WorldBackendContext {
  apiKey: string;
  /** The world's store's blobs: where an adapter that answers with bytes puts them (as `atelier start` does). */
  blobs: ResultBlobs;
  logger: Logger;
  taskDurationMs: number;
  tileLongSide: number;
}

export interface StartedBackend {
  provider: ImageProvider;
  baseUrl: string;
  stop(): Promise<void>;
}

export type WorldBackend = (context: WorldBackendContext) => Promise<StartedBackend>;

export interface World {
  fake: FakeDiscord;
  emulator: EvolinkEmulator;
  /** Present when the world runs on midjourney-proxy. */
  proxy?: MidjourneyProxyEmulator;
  jobs: JobService;
  bot: RunningBot;
  store: Store;
  /** Guild settings, admission and usage as the bot sees them. */
  team: TeamServices;
  /** The bot's own preference store (it caches: change preferences through it, not the raw store). */
  preferences: PreferenceStore;
  logLines: string[];
  /** Base URL of the bot's HTTP port, when `http` was asked for. */
  httpUrl?: string;
  stop(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const fake =
    options.fake ??
    (await FakeDiscord.start({
      requireRegisteredCommands: !options.allowUnregisteredCommands,
      interactions: options.interactions,
    }));
  const emulator = await startEvolinkEmulator({
    apiKey: evolinkKey,
    taskDurationMs: options.taskDurationMs ?? 400,
    tileLongSide: options.tileLongSide ?? 96,
  });
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-e2e-"));
  const store = await openStore({ dataDir, redisUrl: options.redisUrl });
  const logLines: string[] = [];
  const logger = createLogger({
    level: "debug",
    secrets: [evolinkKey, fake.botToken],
    write: (line) => logLines.push(line),
  });
  const proxy =
    options.provider === "midjourney-proxy" || options.provider === "both"
      ? await startMidjourneyProxyEmulator({
          apiSecret: evolinkKey,
          durationMs: options.taskDurationMs ?? 400,
          imageLongSide: options.tileLongSide ?? 96,
        })
      : undefined;
  const backend = await options.backend?.({
    apiKey: evolinkKey,
    blobs: new BlobStore(store.keyv),
    logger,
    taskDurationMs: options.taskDurationMs ?? 400,
    tileLongSide: options.tileLongSide ?? 96,
  });
  const providers = registryOf(
    backend
      ? [backend.provider]
      : [
          ...(options.provider === "midjourney-proxy"
            ? []
            : [createEvolinkProvider({ apiKey: evolinkKey, baseUrl: emulator.baseUrl, logger })]),
          ...(proxy
            ? [createMidjourneyProxyProvider({ apiSecret: evolinkKey, baseUrl: proxy.baseUrl, logger })]
            : []),
        ],
  );
  // The fake serves users' attachments over http on 127.0.0.1 (Discord's CDN is public https).
  const downloadPolicy: DownloadPolicy = {
    allowedHttpOrigins: [
      backend?.baseUrl ?? emulator.baseUrl,
      proxy?.baseUrl ?? emulator.baseUrl,
      fake.restBaseUrl,
    ],
    maxBytes: 10 * 1024 * 1024,
    timeoutMs: options.downloadTimeoutMs ?? 10_000,
  };
  const renderer = options.renderer === "worker" ? createWorkerRenderer() : undefined;
  const atelier = await startAtelier({
    store,
    providers,
    defaultProvider: providers.default.name,
    logger,
    downloadPolicy,
    renderer,
    http: options.http || fake.interactionsEndpoint ? { port: 0, host: "127.0.0.1" } : undefined,
    jobs: {
      pollIntervalMs: 40,
      timeoutMs: options.timeoutMs,
      maxRunning: options.maxRunning,
      maxRunningPerUser: options.maxRunningPerUser,
      maxQueuedPerUser: options.maxQueuedPerUser,
    },
    discord: {
      token: fake.botToken,
      apiUrl: options.discordApiUrl ?? fake.restBaseUrl,
      // A sharded bot serves several servers: its commands are global.
      guildId: options.shards ? undefined : fake.guildId,
      shards: options.shards,
      publicKey: fake.interactionsEndpoint?.publicKey,
      answerDeadlineMs: options.answerDeadlineMs,
      ...(options.thinkFirst === undefined ? {} : { thinkFirst: options.thinkFirst }),
      maxJobs: 10,
      defaultSpeed: "fast",
      defaultQuality: "standard",
      progressIntervalMs: 100,
      tokenLifetimeMs: options.tokenLifetimeMs,
      deliveryRetryDelaysMs: options.deliveryRetryDelaysMs ?? [50, 200],
    },
  });
  const { jobs, bot, team, preferences } = atelier;
  const httpUrl = atelier.httpPort === undefined ? undefined : `http://127.0.0.1:${atelier.httpPort}`;
  // As in the developer portal: the endpoint is saved (and checked) once the bot serves it.
  const endpoint = fake.interactionsEndpoint;
  if (endpoint) await endpoint.configure([...endpoint.urls, `${httpUrl}/interactions`]);
  return {
    fake,
    emulator,
    proxy,
    jobs,
    bot,
    store,
    team,
    preferences,
    logLines,
    httpUrl,
    stop: async () => {
      await atelier.stop();
      await renderer?.close();
      await providers.closeAll();
      await backend?.stop();
      await store.close();
      await emulator.stop();
      await proxy?.stop();
      if (!options.fake) await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Buttons as a user sees them: one array of labels (or emoji) per row. */
export function buttonRows(message: FakeMessage): string[][] {
  return (message.components as APIMessageTopLevelComponent[]).map((row) =>
    ((row as APIActionRowComponent<APIButtonComponent>).components ?? []).map(
      (button) => ("label" in button && button.label) || ("emoji" in button && button.emoji?.name) || "?",
    ),
  );
}

export function findButton(message: FakeMessage, label: string): APIButtonComponent {
  for (const row of message.components as APIMessageTopLevelComponent[]) {
    for (const button of (row as APIActionRowComponent<APIButtonComponent>).components ?? []) {
      const name = ("label" in button && button.label) || ("emoji" in button && button.emoji?.name);
      if (name === label) return button;
    }
  }
  throw new Error(`no button ${label} on message ${message.id}`);
}

export function customIdOf(message: FakeMessage, label: string): string {
  const button = findButton(message, label);
  if (!("custom_id" in button)) throw new Error(`button ${label} has no custom_id`);
  return button.custom_id;
}

/** The finished view of a job message: it carries an image and its buttons. */
export function isFinished(message: FakeMessage): boolean {
  return message.attachments.length > 0 && message.components.length > 0 && !message.content.includes("%)");
}

/** The message a job-starting interaction ends as: its original reply, once finished. */
export async function finishedReply(
  world: World,
  run: InteractionHandle,
  timeoutMs = 15_000,
): Promise<FakeMessage> {
  const original = await run.waitForOriginalMessage();
  return world.fake.waitForMessage((message) => message.id === original.id && isFinished(message), timeoutMs);
}

/** Runs /imagine (as `user` when given) and waits for its finished grid. */
export async function imagineGrid(world: World, prompt: string, user?: APIUser): Promise<FakeMessage> {
  const run = await world.fake.runSlashCommand({
    name: "imagine",
    options: { prompt },
    ...(user ? { user } : {}),
  });
  return finishedReply(world, run);
}

/** Runs /imagine and waits for its reply to end as a failure (a message with an embed). */
export async function imagineFailed(world: World, prompt: string, timeoutMs = 15_000): Promise<FakeMessage> {
  const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt } });
  const original = await run.waitForOriginalMessage();
  return world.fake.waitForMessage(
    (message) => message.id === original.id && message.embeds.length > 0,
    timeoutMs,
  );
}

/** Which emulator image (0-based) fills each quadrant of a 2×2 grid, in reading order. */
export async function quadrantColours(
  bytes: Buffer,
): Promise<{ width: number; height: number; tiles: number[] }> {
  const image = await decodePixels(bytes);
  return { width: image.width, height: image.height, tiles: image.quadrants() };
}

export async function centreColour(bytes: Buffer): Promise<number> {
  return (await decodePixels(bytes)).centre();
}

/** Makes the bot's handlers wait (they read the person's preferences first) until `release` is called. */
export function holdHandlers(preferences: PreferenceStore): { release(): void } {
  const get = preferences.get.bind(preferences);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  preferences.get = async (...args) => {
    await gate;
    return get(...args);
  };
  return {
    release: () => {
      preferences.get = get;
      release();
    },
  };
}

/**
 * Stops the bot's own thread from taking interactions (its discord.js client hears none) until
 * `release`: what still answers then is the thread in front of it.
 */
export function deafenBotThread(world: Pick<World, "bot">): { release(): void } {
  const client = world.bot.client;
  const listeners = client.listeners(Events.InteractionCreate) as Array<(...args: unknown[]) => void>;
  client.removeAllListeners(Events.InteractionCreate);
  return {
    release: () => {
      for (const listener of listeners) client.on(Events.InteractionCreate, listener);
    },
  };
}
