// The Discord side, assembled: the discord.js client (Guilds intent only), slash command
// registration, interaction routing, and the presenter that keeps job messages up to date.
import { type APIInteraction, Client, Events, GatewayIntentBits, REST } from "discord.js";
import type { DownloadPolicy } from "../images/download.ts";
import { createInProcessRenderer, type ImageRenderer } from "../images/renderer.ts";
import type { NamedProviders } from "../jobs/pipeline.ts";
import type { JobService } from "../jobs/service.ts";
import type { Logger } from "../log.ts";
import type { Quality, Speed } from "../providers/types.ts";
import type { AtelierMetrics } from "../service/metrics.ts";
import type { PreferenceStore } from "../team/preferences.ts";
import type { TeamServices } from "../team/team.ts";
import { type SlashCommand, servingProvider } from "./command-types.ts";
import { connect, explainRegistration, inviteLink } from "./connect.ts";
import type { BotContext } from "./context.ts";
import { MessageDelivery } from "./delivery.ts";
import { gatewayFront } from "./gateway-front.ts";
import { InteractionAnswers } from "./interaction-answers.ts";
import type { InteractionHandoff } from "./interaction-endpoint.ts";
import { EditPacer } from "./pacing.ts";
import { JobPresenter } from "./presenter.ts";
import { emitInteraction, identifyOverRest } from "./rest-only-client.ts";
import { createRouter } from "./router.ts";

export interface BotOptions {
  token: string;
  /** REST base (e.g. a shared @discordjs/proxy); Discord's own when absent. */
  apiUrl?: string;
  /** Register commands to this guild (instant) instead of globally. */
  guildId?: string;
  /** The application's public key (DISCORD_PUBLIC_KEY): interactions come over HTTP and the gateway is never opened. */
  publicKey?: string;
  /** How long a handler may take before the HTTP response defers for it. Default 2.5 s (Discord waits 3 s). */
  answerDeadlineMs?: number;
  /**
   * Job commands are answered "thinking…" by the thread that receives them (the gateway's, or the
   * HTTP port's) before this thread sees them, and this thread says so too where a job command
   * comes another way (a remix modal submitted). `startAtelier` turns it on; without it the
   * job's message itself is the answer, made in this thread, one request fewer.
   */
  thinkFirst?: boolean;
  /** Gateway sharding: `count` shards in all, this process runs `ids` (one WebSocket each). One shard when absent. */
  shards?: { count: number; ids: number[] };
  commands: readonly SlashCommand[];
  jobs: JobService;
  /** Every configured image service by name. */
  providers: NamedProviders;
  logger: Logger;
  maxJobs: number;
  defaultSpeed: Speed;
  defaultQuality: Quality;
  downloadPolicy: DownloadPolicy;
  /** Where result images are composed; in this process unless given (start.ts uses a worker). */
  renderer?: ImageRenderer;
  /** Guild settings, admission and usage; its usage recorder is registered with `jobs` here. */
  team: TeamServices;
  /** Each user's /settings and /prefer choices. */
  preferences: PreferenceStore;
  /** Counters for Discord calls and delivery retries (src/service/metrics.ts). */
  metrics?: Pick<AtelierMetrics, "discordResponse" | "discordRateLimited" | "deliveryRetried">;
  /** Least time between two progress edits of one message. Default 2 s. */
  progressIntervalMs?: number;
  /** How long an interaction token is used before switching to the bot token. Default 14.5 min. */
  tokenLifetimeMs?: number;
  /** Waits between attempts to deliver a final message. */
  deliveryRetryDelaysMs?: number[];
  readyTimeoutMs?: number;
}

export interface RunningBot {
  client: Client;
  presenter: JobPresenter;
  /**
   * When interactions come over HTTP (`publicKey`): how the interactions endpoint hands one to
   * the bot, and the commands the endpoint answers "thinking…" itself (`thinkFirst`).
   */
  interactions?: { handOff: InteractionHandoff; thinkingCommands: string[] };
  /** Whether Discord reaches the bot: the gateway is connected, or interactions are served over HTTP. */
  connected(): boolean;
  /** Stops taking interactions and closes the gateway connection. */
  stop(): Promise<void>;
}

function createPresenter(client: Client, options: BotOptions): JobPresenter {
  const { logger } = options;
  return new JobPresenter({
    jobs: options.jobs,
    delivery: new MessageDelivery(client.rest, {
      logger,
      tokenLifetimeMs: options.tokenLifetimeMs,
      interactionRest: new REST({
        ...(options.apiUrl ? { api: options.apiUrl } : {}),
        // Interaction webhooks have per-route limits only; those still apply and are honoured.
        globalRequestsPerSecond: 1_000,
      }),
    }),
    pacer: new EditPacer({ intervalMs: options.progressIntervalMs ?? 2_000 }),
    downloadPolicy: options.downloadPolicy,
    renderer: options.renderer ?? createInProcessRenderer(),
    logger,
    retryDelaysMs: options.deliveryRetryDelaysMs,
    onRetry: () => options.metrics?.deliveryRetried(),
  });
}

/** The commands some configured provider can serve (no /blend on EvoLink alone): the only ones registered. */
function offeredCommands(options: BotOptions): SlashCommand[] {
  const providers = options.providers.names().map((name) => options.providers.get(name));
  return options.commands.filter((command) => servingProvider(command, providers) !== undefined);
}

/** Registers the offered commands, so nobody sees the others. */
async function registerCommands(client: Client, options: BotOptions): Promise<void> {
  const definitions = offeredCommands(options).map((command) => command.definition);
  try {
    if (options.guildId) await client.application?.commands.set(definitions, options.guildId);
    else await client.application?.commands.set(definitions);
  } catch (error) {
    throw explainRegistration(error, options.guildId, client.application?.id ?? "");
  }
  options.logger.info("discord ready", {
    user: client.user?.tag,
    commands: definitions.map((definition) => definition.name).join(","),
    scope: options.guildId ? `guild ${options.guildId}` : "global",
    shards: options.shards ? `${options.shards.ids.join(",")} of ${options.shards.count}` : undefined,
    invite: inviteLink(client.application?.id ?? ""),
  });
}

/** Gives a verified interaction to discord.js, which builds it and emits `interactionCreate`; its first answer is awaited. */
function handOffTo(client: Client, answers: InteractionAnswers): InteractionHandoff {
  return (interaction, answered) => {
    const awaited = answers.awaitAnswer(interaction, answered);
    try {
      emitInteraction(client, interaction as unknown as APIInteraction);
    } catch (error) {
      awaited.cancel();
      throw error;
    }
    return awaited;
  };
}

export async function startBot(options: BotOptions): Promise<RunningBot> {
  const { logger } = options;
  const overHttp = options.publicKey !== undefined;
  const thinkFirst = options.thinkFirst ?? false;
  // Only offered ones: an old client's /blend on a bot without it gets its private answer first.
  const thinkingCommands = thinkFirst
    ? offeredCommands(options)
        .filter((command) => command.startsJobs)
        .map((command) => command.definition.name)
    : [];
  // Interactions a front answered (and, over HTTP, every first answer) go out through here.
  const answers = new InteractionAnswers({
    apiUrl: options.apiUrl,
    deadlineMs: options.answerDeadlineMs,
    logger,
  });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    ...(options.shards ? { shardCount: options.shards.count, shards: options.shards.ids } : {}),
    rest: { ...(options.apiUrl ? { api: options.apiUrl } : {}), makeRequest: answers.makeRequest },
    // The gateway connection in a thread of its own that answers job commands at once (gateway-front.ts).
    ...(overHttp
      ? {}
      : {
          ws: {
            buildStrategy: gatewayFront({
              settings: { apiUrl: options.apiUrl, thinkingCommands },
              answers,
              logger,
            }),
          },
        }),
  });
  client.rest.setToken(options.token);
  client.on(Events.Error, (error) => logger.error("discord client error", { error }));
  client.on(Events.Warn, (message) => logger.warn("discord client warning", { message }));
  client.rest.on("rateLimited", (info) => {
    options.metrics?.discordRateLimited();
    logger.debug("discord rate limit", { route: info.route, retryAfterMs: info.retryAfter });
  });
  client.rest.on("response", (_request, response) => options.metrics?.discordResponse(response.status));

  const presenter = createPresenter(client, options);
  options.jobs.listen(presenter);
  options.jobs.listen(options.team.usageRecorder);

  let accepting = true;
  const context: BotContext = {
    jobs: options.jobs,
    providers: options.providers,
    presenter,
    logger,
    maxJobs: options.maxJobs,
    defaultSpeed: options.defaultSpeed,
    defaultQuality: options.defaultQuality,
    // Links the bot itself may download from are the ones a prompt may point at too.
    trustedImageOrigins: options.downloadPolicy.allowedHttpOrigins,
    team: options.team,
    preferences: options.preferences,
    thinkFirst,
    accepting: () => accepting,
  };
  const route = createRouter(options.commands, context);
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));

  try {
    if (overHttp) await identifyOverRest(client, options.apiUrl);
    else await connect(client, options.token, options.readyTimeoutMs ?? 15_000, options.apiUrl);
    await registerCommands(client, options);
  } catch (error) {
    await client.destroy();
    throw error;
  }

  const interactions = overHttp ? { handOff: handOffTo(client, answers), thinkingCommands } : undefined;
  return {
    client,
    presenter,
    interactions,
    connected: () => (overHttp ? accepting : client.isReady()),
    stop: async () => {
      accepting = false;
      presenter.stop();
      await client.destroy();
    },
  };
}
