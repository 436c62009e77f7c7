import { createServer, type Server } from "node:http";
import {
  type APIApplicationCommand,
  type APIUser,
  GatewayDispatchEvents,
  GatewayOpcodes,
  type Locale,
} from "discord-api-types/v10";
import { ChangeFeed, type Probe } from "./change-feed.ts";
import { channelRoutes } from "./channel-routes.ts";
import { CommandRegistry } from "./commands.ts";
import type { FakeContext } from "./context.ts";
import { type FailureOptions, FaultInjector, type RateLimitOptions, type RequestMatcher } from "./faults.ts";
import { GatewayServer, type IdentifyRecord } from "./gateway.ts";
import { ATTACHMENTS_PREFIX, HttpHandler, type RecordedRequest } from "./http-handler.ts";
import type { ButtonClickInput, ModalSubmitInput, SlashCommandInput } from "./inputs.ts";
import { InteractionCallbacks, interactionRoutes } from "./interaction-routes.ts";
import { type InteractionHandle, InteractionRegistry } from "./interactions.ts";
import { type EndpointPoster, InteractionsEndpoint } from "./interactions-endpoint.ts";
import { type FakeMessage, type MessageRevision, MessageStore, toFakeMessage } from "./message-store.ts";
import { MessageWriter } from "./message-writer.ts";
import {
  buildGuildCreateData,
  buildRole,
  buildUser,
  createWorld,
  type FakeGuild,
  type FakeLocales,
  type FakeMemberSettings,
} from "./payloads.ts";
import { platformRoutes } from "./platform-routes.ts";
import { Router } from "./router.ts";
import type { ShardKey } from "./sharding.ts";
import { SnowflakeFactory } from "./snowflake.ts";
import { handleFor, UserActions } from "./user-actions.ts";

export interface FakeDiscordOptions {
  /** Token the fake accepts as `Authorization: Bot <token>` and in IDENTIFY. */
  botToken?: string;
  botUsername?: string;
  guildName?: string;
  channelName?: string;
  /** HELLO's heartbeat interval; Discord's is ~41 s, lower it to exercise heartbeats in tests. */
  heartbeatIntervalMs?: number;
  /** Answer 10062 to interaction callbacks later than 3 s (off by default: slow CI must not fail). */
  enforceThreeSeconds?: boolean;
  /** The deadline `enforceThreeSeconds` applies (default 3 000 ms, Discord's). */
  responseDeadlineMs?: number;
  /** Per-file upload limit (Discord: 10 MiB for bots in unboosted guilds); also `attachment_size_limit`. */
  maxFileBytes?: number;
  /** How long test actions wait for a connected bot / registered command before failing. */
  dispatchTimeoutMs?: number;
  /** Refuse `runSlashCommand` for commands the bot never registered (as Discord would). Default true. */
  requireRegisteredCommands?: boolean;
  /** `shards` in GET /gateway/bot, the count Discord recommends. Default 1. */
  recommendedShards?: number;
  /**
   * `http`: the application has an Interactions Endpoint URL, so interactions are signed and POSTed
   * to it (set it with `interactionsEndpoint.configure`) instead of going over the gateway.
   */
  interactions?: "gateway" | "http";
  /** HTTP interactions: how they are POSTed (default: fetch on this thread; a bench times them apart). */
  postInteraction?: EndpointPoster;
}

const DEFAULTS = {
  botToken: "fake-bot-token.not-a-real-token",
  botUsername: "Atelier",
  guildName: "Fake Guild",
  channelName: "general",
  heartbeatIntervalMs: 41_250,
  maxFileBytes: 10 * 1024 * 1024,
  dispatchTimeoutMs: 10_000,
  responseDeadlineMs: 3_000,
} as const;

/**
 * An in-process Discord (REST + gateway on 127.0.0.1) for end-to-end tests with the real discord.js client.
 * Give the client `rest: { api: fake.restBaseUrl }` and log in with `fake.botToken`.
 */
export class FakeDiscord {
  readonly restBaseUrl: string;
  readonly gatewayUrl: string;
  readonly baseUrl: string;
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly botUser: APIUser;
  readonly guildId: string;
  readonly channelId: string;
  /** A ready-made member used when an action names no user. */
  readonly defaultUser: APIUser;
  /** Every REST call received under /api/v10, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Exceptions inside the fake itself; a test can assert this stays empty. */
  readonly serverErrors: Error[] = [];

  readonly #server: Server;
  readonly #context: FakeContext;
  readonly #gateway: GatewayServer;
  readonly #faults = new FaultInjector();
  readonly #dispatchTimeoutMs: number;
  readonly #userActions: UserActions;
  readonly #callbacks: InteractionCallbacks;
  /** HTTP interactions (`interactions: "http"`): the key pair the bot checks, and the endpoint it serves. */
  readonly interactionsEndpoint: InteractionsEndpoint | undefined;
  #stopped = false;

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string")
      throw new Error("FakeDiscord: server has no TCP address");
    return new FakeDiscord(server, `http://127.0.0.1:${address.port}`, options);
  }

  private constructor(server: Server, baseUrl: string, options: FakeDiscordOptions) {
    this.#server = server;
    this.baseUrl = baseUrl;
    this.restBaseUrl = `${baseUrl}/api`;
    this.gatewayUrl = `ws://${new URL(baseUrl).host}`;
    this.botToken = options.botToken ?? DEFAULTS.botToken;
    this.#context = createContext(baseUrl, this.gatewayUrl, options);
    const { world, feed } = this.#context;
    this.applicationId = world.applicationId;
    this.botUser = world.botUser;
    this.botUserId = world.botUser.id;
    this.guildId = world.guildId;
    this.channelId = world.channelId;
    this.#dispatchTimeoutMs = options.dispatchTimeoutMs ?? DEFAULTS.dispatchTimeoutMs;
    this.defaultUser = this.makeUser("tester");
    this.#gateway = new GatewayServer({
      world,
      botToken: this.botToken,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      gatewayUrl: this.gatewayUrl,
      feed,
    });
    this.#callbacks = new InteractionCallbacks(this.#context);
    this.interactionsEndpoint =
      options.interactions === "http"
        ? new InteractionsEndpoint(this.#context, this.#callbacks, options.postInteraction)
        : undefined;
    this.#userActions = new UserActions({
      context: this.#context,
      gateway: this.#gateway,
      endpoint: this.interactionsEndpoint,
      defaultUser: this.defaultUser,
      dispatchTimeoutMs: this.#dispatchTimeoutMs,
      requireRegisteredCommands: options.requireRegisteredCommands ?? true,
    });
    this.#serveRestAndGateway();
  }

  #serveRestAndGateway(): void {
    const router = new Router([
      ...platformRoutes(this.#context),
      ...interactionRoutes(this.#context, this.#callbacks),
      ...channelRoutes(this.#context),
    ]);
    const handler = new HttpHandler({
      router,
      faults: this.#faults,
      botToken: this.botToken,
      store: this.#context.store,
      feed: this.#context.feed,
      requests: this.requests,
      serverErrors: this.serverErrors,
    });
    this.#server.on("request", handler.listener);
    this.#server.on("upgrade", (request, socket, head) => this.#gateway.handleUpgrade(request, socket, head));
  }

  /** Closes every gateway connection and the HTTP server (including keep-alive sockets). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#gateway.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ── knobs ────────────────────────────────────────────────────────────────────────────────────

  get enforceThreeSeconds(): boolean {
    return this.#context.settings.enforceThreeSeconds;
  }

  set enforceThreeSeconds(value: boolean) {
    this.#context.settings.enforceThreeSeconds = value;
  }

  get responseDeadlineMs(): number {
    return this.#context.settings.responseDeadlineMs;
  }

  set responseDeadlineMs(value: number) {
    this.#context.settings.responseDeadlineMs = value;
  }

  /** The next `count` matching REST requests answer 429 (discord.js waits `retryAfterMs` and retries). */
  rateLimitNext(count: number, options: RateLimitOptions = {}): void {
    this.#faults.rateLimitNext(count, options);
  }

  /** The next `count` matching REST requests answer `status` with `body`. */
  failNext(count: number, options: FailureOptions): void {
    this.#faults.failNext(count, options);
  }

  /** Every matching REST request answers `status` for `ms` milliseconds: a Discord outage. */
  failFor(ms: number, options: FailureOptions): void {
    this.#faults.failFor(ms, options);
  }

  /** The next matching request takes effect but its answer never arrives (the client dies waiting). */
  holdNextAnswer(options: RequestMatcher): void {
    this.#faults.holdNextAnswer(options);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Webhook routes of these interactions (default: every one so far) answer 401 / 50027 from now on. */
  expireInteractionTokens(tokens?: readonly string[]): void {
    this.#context.interactions.expire(tokens);
  }

  // ── acting as a user ─────────────────────────────────────────────────────────────────────────

  makeUser(name: string): APIUser {
    return buildUser(this.#context.ids.next(), name);
  }

  /** Adds a role to the guild (announced to a connected bot, and in later GUILD_CREATEs); returns its id. */
  createRole(name: string): string {
    const { world, ids } = this.#context;
    const role = buildRole(ids.next(), name, (world.roles?.length ?? 0) + 1);
    world.roles = [...(world.roles ?? []), role];
    this.#gateway.sessionFor(world.guildId)?.sendDispatch({
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.GuildRoleCreate,
      d: { guild_id: world.guildId, role },
    });
    return role.id;
  }

  /**
   * Adds a server with one text channel that the bot is in, on gateway shard `onShard` `[id, count]`
   * when given (its id is picked to land there), and announces it to the session on its shard.
   */
  addGuild(options: { name?: string; onShard?: ShardKey } = {}): FakeGuild {
    const { world, ids } = this.#context;
    const id = options.onShard ? ids.nextOnShard(...options.onShard) : ids.next();
    const guild: FakeGuild = {
      id,
      name: options.name ?? `Guild ${(world.otherGuilds?.length ?? 0) + 2}`,
      channelId: ids.next(),
      channelName: DEFAULTS.channelName,
    };
    world.otherGuilds = [...(world.otherGuilds ?? []), guild];
    this.#gateway.sessionFor(guild.id)?.sendDispatch({
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.GuildCreate,
      d: buildGuildCreateData(world, guild),
    });
    return guild;
  }

  /** Sets a user's roles and/or permission bitfield in the interactions they send from now on. */
  setMember(user: APIUser, settings: FakeMemberSettings): void {
    const { world } = this.#context;
    world.members ??= new Map();
    world.members.set(user.id, { ...world.members.get(user.id), ...settings });
  }

  /** Sets a server's locale (default: the main one's), sent as `guild_locale` from now on; en-US until set. */
  setGuildLocale(locale: Locale, guildId: string = this.#context.world.guildId): void {
    this.#localesOf().guilds.set(guildId, locale);
  }

  /** Sets the client locale a user's interactions carry from now on; en-US until set. */
  setUserLocale(user: APIUser, locale: Locale): void {
    this.#localesOf().users.set(user.id, locale);
  }

  #localesOf(): FakeLocales {
    const { world } = this.#context;
    world.locales ??= { guilds: new Map(), users: new Map() };
    return world.locales;
  }

  /** Sends INTERACTION_CREATE for a slash command; resolves once it is on the wire. */
  runSlashCommand(input: SlashCommandInput): Promise<InteractionHandle> {
    return this.#userActions.runSlashCommand(input);
  }

  /** Clicks a button as `user`; the message must carry an enabled button with that custom_id. */
  clickButton(input: ButtonClickInput): Promise<InteractionHandle> {
    return this.#userActions.clickButton(input);
  }

  /** Submits a modal; with `openedBy`, checks it against the modal that interaction opened. */
  submitModal(input: ModalSubmitInput): Promise<InteractionHandle> {
    return this.#userActions.submitModal(input);
  }

  // ── state queries ────────────────────────────────────────────────────────────────────────────

  /** Current state of every live message (optionally of one channel), oldest first. */
  messages(channelId?: string): FakeMessage[] {
    return this.#context.store.list(channelId).map(toFakeMessage);
  }

  /** A message by id, including deleted ones (`deleted: true`). */
  messageById(id: string): FakeMessage | undefined {
    const message = this.#context.store.get(id);
    return message ? toFakeMessage(message) : undefined;
  }

  /** Every edit of a message with timestamps and sources (for pacing assertions). */
  edits(messageId: string): MessageRevision[] {
    return this.messageById(messageId)?.edits ?? [];
  }

  /** Handles for every interaction dispatched so far, oldest first. */
  interactions(): InteractionHandle[] {
    return this.#context.interactions.all().map((record) => handleFor(this.#context, record));
  }

  registeredCommands(guildId?: string): APIApplicationCommand[] {
    return this.#context.commands.list({ guildId });
  }

  /** Recorded requests whose decoded path matches `route` (and method, if given). */
  requestsTo(route: RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((request) => {
      route.lastIndex = 0;
      return route.test(request.path) && (method === undefined || request.method === method.toUpperCase());
    });
  }

  /**
   * Resolves with the first answered request matching `route` (and `method`/`status` if given). State
   * changes (e.g. a message edit) are visible before their HTTP response is written; wait with this
   * before asserting on `status` or `response`.
   */
  waitForRequest(
    route: RegExp,
    options: { method?: string; status?: number } = {},
    timeoutMs = 5_000,
  ): Promise<RecordedRequest> {
    const answered = (request: RecordedRequest) =>
      request.status !== 0 && (options.status === undefined || request.status === options.status);
    return this.waitFor(
      () => this.requestsTo(route, options.method).find(answered),
      timeoutMs,
      `an answered ${options.method ?? ""} request to ${route}`,
    );
  }

  /** Successful IDENTIFYs so far (one per client login or reconnect). */
  get identifies(): readonly IdentifyRecord[] {
    return this.#gateway.identifies;
  }

  get heartbeatsReceived(): number {
    return this.#gateway.heartbeats;
  }

  get botConnected(): boolean {
    return this.#gateway.latestReadySession() !== undefined;
  }

  /**
   * Resolves with the probe's first truthy result, re-checking on every state change of the fake
   * (messages, interactions, requests, gateway) rather than polling.
   */
  waitFor<T>(probe: Probe<T>, timeoutMs = 5_000, description?: string): Promise<T> {
    return this.#context.feed.waitFor(probe, timeoutMs, description);
  }

  /** Resolves with the first live message satisfying `predicate`. */
  waitForMessage(predicate: (message: FakeMessage) => boolean, timeoutMs = 5_000): Promise<FakeMessage> {
    return this.waitFor(() => this.messages().find(predicate), timeoutMs, "a matching message");
  }

  /** Resolves once a bot has identified on the gateway (e.g. after a restart). */
  waitForBot(timeoutMs = this.#dispatchTimeoutMs): Promise<void> {
    return this.#gateway.waitForReadySession(timeoutMs).then(() => undefined);
  }
}

/** The state the REST routes and the test API share, for a fake listening on `baseUrl`. */
function createContext(baseUrl: string, gatewayUrl: string, options: FakeDiscordOptions): FakeContext {
  const ids = new SnowflakeFactory();
  const feed = new ChangeFeed();
  const world = createWorld(ids, {
    botUsername: options.botUsername ?? DEFAULTS.botUsername,
    guildName: options.guildName ?? DEFAULTS.guildName,
    channelName: options.channelName ?? DEFAULTS.channelName,
    maxFileBytes: options.maxFileBytes ?? DEFAULTS.maxFileBytes,
  });
  const store = new MessageStore(ids, feed, `${baseUrl}${ATTACHMENTS_PREFIX}`);
  return {
    world,
    ids,
    feed,
    store,
    writer: new MessageWriter(store, world.maxFileBytes),
    interactions: new InteractionRegistry(feed),
    commands: new CommandRegistry(ids, world.applicationId),
    gatewayUrl,
    settings: {
      enforceThreeSeconds: options.enforceThreeSeconds ?? false,
      responseDeadlineMs: options.responseDeadlineMs ?? DEFAULTS.responseDeadlineMs,
      recommendedShards: options.recommendedShards ?? 1,
    },
  };
}
