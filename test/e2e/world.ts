// One running Atelier against the fakes: fake Discord, the EvoLink emulator, a real store.
// Tests drive it as users would and look at what Discord shows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  APIActionRowComponent,
  APIButtonComponent,
  APIMessageTopLevelComponent,
  APIUser,
} from "discord.js";
import sharp from "sharp";
import { commands } from "../../commands/index.ts";
import {
  type EvolinkEmulator,
  type MidjourneyProxyEmulator,
  nearestColourIndex,
  startEvolinkEmulator,
  startMidjourneyProxyEmulator,
} from "../../emulators/index.ts";
import { type RunningBot, startBot } from "../../src/discord/bot.ts";
import { type DownloadPolicy, downloadSourceImage } from "../../src/images/download.ts";
import { PreferenceStore } from "../../src/jobs/preferences.ts";
import { JobService } from "../../src/jobs/service.ts";
import { createTeamServices, type TeamServices } from "../../src/jobs/team.ts";
import { createLogger } from "../../src/log.ts";
import { createEvolinkProvider } from "../../src/providers/evolink.ts";
import { createMidjourneyProxyProvider } from "../../src/providers/midjourney-proxy.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { FakeDiscord, type FakeMessage, type InteractionHandle } from "../fake-discord/index.ts";

export const evolinkKey = "evk-e2e-secret-key-42";

export interface WorldOptions {
  taskDurationMs?: number;
  tileLongSide?: number;
  redisUrl?: string;
  tokenLifetimeMs?: number;
  timeoutMs?: number;
  /** Run against a midjourney-proxy emulator instead of EvoLink. */
  provider?: "evolink" | "midjourney-proxy";
  /** Let tests send commands the bot did not register (an old client's interaction). Default false. */
  allowUnregisteredCommands?: boolean;
  /** Fair queue limits (JobServiceOptions); unlimited when absent. */
  maxRunning?: number;
  maxRunningPerUser?: number;
  maxQueuedPerUser?: number;
}

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
  stop(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const fake = await FakeDiscord.start({ requireRegisteredCommands: !options.allowUnregisteredCommands });
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
    options.provider === "midjourney-proxy"
      ? await startMidjourneyProxyEmulator({
          apiSecret: evolinkKey,
          durationMs: options.taskDurationMs ?? 400,
          imageLongSide: options.tileLongSide ?? 96,
        })
      : undefined;
  const provider = proxy
    ? createMidjourneyProxyProvider({ apiSecret: evolinkKey, baseUrl: proxy.baseUrl, logger })
    : createEvolinkProvider({ apiKey: evolinkKey, baseUrl: emulator.baseUrl, logger });
  // The fake serves users' attachments over http on 127.0.0.1 (Discord's CDN is public https).
  const downloadPolicy: DownloadPolicy = {
    allowedHttpOrigins: [proxy?.baseUrl ?? emulator.baseUrl, fake.restBaseUrl],
    maxBytes: 10 * 1024 * 1024,
    timeoutMs: 10_000,
  };
  const jobs = new JobService({
    store,
    providers: new Map([[provider.name, provider]]),
    defaultProvider: provider.name,
    pollIntervalMs: 40,
    timeoutMs: options.timeoutMs,
    maxRunning: options.maxRunning,
    maxRunningPerUser: options.maxRunningPerUser,
    maxQueuedPerUser: options.maxQueuedPerUser,
    fetchSourceImage: (url, signal) => downloadSourceImage(url, downloadPolicy, signal),
    logger,
  });
  const team = createTeamServices({ store, logger });
  const preferences = new PreferenceStore(store);
  const bot = await startBot({
    token: fake.botToken,
    apiUrl: fake.restBaseUrl,
    guildId: fake.guildId,
    commands,
    jobs,
    logger,
    maxJobs: 10,
    defaultSpeed: "fast",
    defaultQuality: "standard",
    downloadPolicy,
    progressIntervalMs: 100,
    tokenLifetimeMs: options.tokenLifetimeMs,
    deliveryRetryDelaysMs: [50, 200],
    team,
    preferences,
  });
  await jobs.start();
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
    stop: async () => {
      await bot.stop();
      await jobs.stop();
      await team.idle();
      await provider.close();
      await store.close();
      await emulator.stop();
      await proxy?.stop();
      await fake.stop();
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
  const original = await run.waitForOriginalMessage(() => true);
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

/** Which emulator image (0-based) fills each quadrant of a 2×2 grid, in reading order. */
export async function quadrantColours(
  bytes: Buffer,
): Promise<{ width: number; height: number; tiles: number[] }> {
  const image = sharp(bytes);
  const { width = 0, height = 0 } = await image.metadata();
  const centres = [
    [width / 4, height / 4],
    [(3 * width) / 4, height / 4],
    [width / 4, (3 * height) / 4],
    [(3 * width) / 4, (3 * height) / 4],
  ];
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const tiles = centres.map(([x, y]) => {
    const offset = (Math.floor(y ?? 0) * info.width + Math.floor(x ?? 0)) * info.channels;
    return nearestColourIndex([data[offset] ?? 0, data[offset + 1] ?? 0, data[offset + 2] ?? 0]);
  });
  return { width, height, tiles };
}

export async function centreColour(bytes: Buffer): Promise<number> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return nearestColourIndex([data[offset] ?? 0, data[offset + 1] ?? 0, data[offset + 2] ?? 0]);
}
