import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import {
  type APIApplicationCommand,
  type APIUser,
  ComponentType,
  GatewayDispatchEvents,
  GatewayOpcodes,
  InteractionType,
} from "discord-api-types/v10";
import { ChangeFeed, type Probe } from "./change-feed.ts";
import { channelRoutes } from "./channel-routes.ts";
import { CommandRegistry } from "./commands.ts";
import type { FakeContext } from "./context.ts";
import { type FailureOptions, FaultInjector, type RateLimitOptions, type RequestMatcher } from "./faults.ts";
import { GatewayServer, type IdentifyRecord } from "./gateway.ts";
import { ATTACHMENTS_PREFIX, HttpHandler, type RecordedRequest } from "./http-handler.ts";
import {
  buildButtonInteraction,
  buildChatInputInteraction,
  buildCommandOptions,
  buildModalSubmitInteraction,
  declaredOptionsFor,
  type FakeInteractionPayload,
  nestInSubcommand,
  type SlashOptionValue,
} from "./interaction-payloads.ts";
import { interactionRoutes } from "./interaction-routes.ts";
import { InteractionHandle, type InteractionRecord, InteractionRegistry } from "./interactions.ts";
import { visitComponents } from "./message-body.ts";
import {
  type FakeMessage,
  type MessageRevision,
  MessageStore,
  type StoredAttachment,
  type StoredMessage,
  toFakeMessage,
} from "./message-store.ts";
import { MessageWriter } from "./message-writer.ts";
import { submissionFor, submissionFromFields } from "./modal-submission.ts";
import {
  buildApiAttachment,
  buildApiMessage,
  buildRole,
  buildUser,
  DEFAULT_PERMISSIONS,
  type FakeMemberSettings,
  type FakeWorld,
} from "./payloads.ts";
import { platformRoutes } from "./platform-routes.ts";
import { Router } from "./router.ts";
import { SnowflakeFactory } from "./snowflake.ts";

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
}

/** A file a user attaches to a slash command option. */
export interface FileInput {
  filename: string;
  bytes: Uint8Array;
  contentType?: string;
}

export interface SlashCommandInput {
  name: string;
  /** Option name → value; types come from the registered command definition. */
  options?: Record<string, SlashOptionValue>;
  /** Attachment option name → file (served by the fake so the bot can download it). */
  attachments?: Record<string, FileInput>;
  subcommand?: string;
  subcommandGroup?: string;
  /** Defaults to `fake.defaultUser`. */
  user?: APIUser;
}

export interface ButtonClickInput {
  /** The message carrying the button (id, or anything with an `id` such as a FakeMessage). */
  message: string | { id: string };
  customId: string;
  user?: APIUser;
}

export interface ModalSubmitInput {
  customId: string;
  /** Text input custom_id → value. */
  fields: Record<string, string>;
  user?: APIUser;
  /** The interaction that opened the modal: mirrors its layout and carries its message along. */
  openedBy?: InteractionHandle;
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
  readonly #requireRegisteredCommands: boolean;
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
    const ids = new SnowflakeFactory();
    const feed = new ChangeFeed();
    const world = createWorld(ids, {
      botUsername: options.botUsername ?? DEFAULTS.botUsername,
      guildName: options.guildName ?? DEFAULTS.guildName,
      channelName: options.channelName ?? DEFAULTS.channelName,
      maxFileBytes: options.maxFileBytes ?? DEFAULTS.maxFileBytes,
    });
    const store = new MessageStore(ids, feed, `${baseUrl}${ATTACHMENTS_PREFIX}`);
    this.#server = server;
    this.baseUrl = baseUrl;
    this.restBaseUrl = `${baseUrl}/api`;
    this.gatewayUrl = `ws://${new URL(baseUrl).host}`;
    this.botToken = options.botToken ?? DEFAULTS.botToken;
    this.applicationId = world.applicationId;
    this.botUser = world.botUser;
    this.botUserId = world.botUser.id;
    this.guildId = world.guildId;
    this.channelId = world.channelId;
    this.#dispatchTimeoutMs = options.dispatchTimeoutMs ?? DEFAULTS.dispatchTimeoutMs;
    this.#requireRegisteredCommands = options.requireRegisteredCommands ?? true;
    this.#context = {
      world,
      ids,
      feed,
      store,
      writer: new MessageWriter(store, world.maxFileBytes),
      interactions: new InteractionRegistry(feed),
      commands: new CommandRegistry(ids, world.applicationId),
      gatewayUrl: this.gatewayUrl,
      settings: {
        enforceThreeSeconds: options.enforceThreeSeconds ?? false,
        responseDeadlineMs: options.responseDeadlineMs ?? DEFAULTS.responseDeadlineMs,
      },
    };
    this.defaultUser = this.makeUser("tester");
    this.#gateway = new GatewayServer({
      world,
      botToken: this.botToken,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      gatewayUrl: this.gatewayUrl,
      feed,
    });
    const router = new Router([
      ...platformRoutes(this.#context),
      ...interactionRoutes(this.#context),
      ...channelRoutes(this.#context),
    ]);
    const handler = new HttpHandler({
      router,
      faults: this.#faults,
      botToken: this.botToken,
      store,
      feed,
      requests: this.requests,
      serverErrors: this.serverErrors,
    });
    server.on("request", handler.listener);
    server.on("upgrade", (request, socket, head) => this.#gateway.handleUpgrade(request, socket, head));
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
    this.#gateway.latestReadySession()?.sendDispatch({
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.GuildRoleCreate,
      d: { guild_id: world.guildId, role },
    });
    return role.id;
  }

  /** Sets a user's roles and/or permission bitfield in the interactions they send from now on. */
  setMember(user: APIUser, settings: FakeMemberSettings): void {
    const { world } = this.#context;
    world.members ??= new Map();
    world.members.set(user.id, { ...world.members.get(user.id), ...settings });
  }

  /** Sends INTERACTION_CREATE for a slash command; resolves once it is on the wire. */
  async runSlashCommand(input: SlashCommandInput): Promise<InteractionHandle> {
    const { world, ids } = this.#context;
    const command = await this.#registeredCommand(input.name);
    const uploads = Object.entries(input.attachments ?? {}).map(
      ([option, file]) => [option, this.#saveUserFile(file)] as const,
    );
    const declared = declaredOptionsFor(command, input.subcommand, input.subcommandGroup);
    const attachmentIds = Object.fromEntries(uploads.map(([option, attachment]) => [option, attachment.id]));
    const basic = buildCommandOptions(input.options ?? {}, attachmentIds, declared);
    const id = ids.next();
    const token = newInteractionToken(id);
    const user = input.user ?? this.defaultUser;
    const payload = buildChatInputInteraction({
      world,
      id,
      token,
      user,
      name: input.name,
      commandId: command?.id ?? ids.next(),
      commandGuildId: command?.guild_id,
      options: nestInSubcommand(basic, input.subcommand, input.subcommandGroup),
      attachments: uploads.map(([, attachment]) => buildApiAttachment(attachment)),
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.ApplicationCommand, user, commandName: input.name },
      payload,
      undefined,
    );
  }

  /** Clicks a button as `user`; the message must carry an enabled button with that custom_id. */
  async clickButton(input: ButtonClickInput): Promise<InteractionHandle> {
    const message = this.#liveMessage(typeof input.message === "string" ? input.message : input.message.id);
    assertClickableButton(message, input.customId);
    const { world, ids } = this.#context;
    const id = ids.next();
    const token = newInteractionToken(id);
    const user = input.user ?? this.defaultUser;
    const payload = buildButtonInteraction({
      world,
      id,
      token,
      user,
      message: buildApiMessage(message),
      customId: input.customId,
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.MessageComponent, user, commandName: input.customId },
      payload,
      message.id,
    );
  }

  /** Submits a modal; with `openedBy`, checks it against the modal that interaction opened. */
  async submitModal(input: ModalSubmitInput): Promise<InteractionHandle> {
    const { world, ids, interactions, store } = this.#context;
    const opener = input.openedBy ? interactions.byId(input.openedBy.id) : undefined;
    if (opener && opener.modal?.custom_id !== input.customId) {
      throw new Error(`Interaction ${opener.id} did not open a modal "${input.customId}"`);
    }
    const components = opener?.modal
      ? submissionFor(opener.modal.components, input.fields)
      : submissionFromFields(input.fields);
    const source = opener?.sourceMessageId === undefined ? undefined : store.get(opener.sourceMessageId);
    const id = ids.next();
    const token = newInteractionToken(id);
    const user = input.user ?? this.defaultUser;
    const payload = buildModalSubmitInteraction({
      world,
      id,
      token,
      user,
      customId: input.customId,
      components,
      message: source ? buildApiMessage(source) : undefined,
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.ModalSubmit, user, commandName: input.customId, openedBy: opener },
      payload,
      source?.id,
    );
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
    return this.#context.interactions.all().map((record) => this.#handle(record));
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

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  async #registeredCommand(name: string): Promise<APIApplicationCommand | undefined> {
    const find = () => this.#context.commands.find(name, this.guildId);
    if (!this.#requireRegisteredCommands) return find();
    // The bot registers commands at start; wait for it rather than racing it.
    return this.waitFor(find, this.#dispatchTimeoutMs, `the bot to register the /${name} command`);
  }

  #saveUserFile(file: FileInput): StoredAttachment {
    return this.#context.store.saveAttachment({
      channelId: this.channelId,
      filename: file.filename,
      contentType: file.contentType,
      description: undefined,
      bytes: Buffer.from(file.bytes),
    });
  }

  #liveMessage(id: string): StoredMessage {
    const message = this.#context.store.get(id);
    if (!message || message.deleted) throw new Error(`No live message ${id} in the fake`);
    return message;
  }

  async #dispatchInteraction(
    identity: Pick<InteractionRecord, "id" | "token" | "type" | "user" | "commandName"> &
      Partial<Pick<InteractionRecord, "openedBy">>,
    payload: FakeInteractionPayload,
    sourceMessageId: string | undefined,
  ): Promise<InteractionHandle> {
    const session = await this.#gateway.waitForReadySession(this.#dispatchTimeoutMs);
    const record: InteractionRecord = {
      ...identity,
      payload,
      channelId: this.channelId,
      openedBy: identity.openedBy,
      // The 3-second clock starts when the interaction goes out to the bot.
      createdAt: Date.now(),
      sourceMessageId,
      callbacks: [],
      originalMessageId: undefined,
      followUpIds: [],
      tokenExpired: false,
      modal: undefined,
    };
    this.#context.interactions.add(record);
    session.sendDispatch({
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.InteractionCreate,
      d: payload,
    });
    return this.#handle(record);
  }

  #handle(record: InteractionRecord): InteractionHandle {
    const { store, interactions, feed } = this.#context;
    return new InteractionHandle(record, store, interactions, feed);
  }
}

type WorldSettings = Pick<FakeWorld, "guildName" | "channelName" | "maxFileBytes"> & { botUsername: string };

function createWorld(ids: SnowflakeFactory, settings: WorldSettings): FakeWorld {
  const applicationId = ids.next();
  return {
    // A bot user shares its application's id.
    applicationId,
    botUser: buildUser(applicationId, settings.botUsername, true),
    guildId: ids.next(),
    guildName: settings.guildName,
    ownerId: ids.next(),
    channelId: ids.next(),
    channelName: settings.channelName,
    permissions: DEFAULT_PERMISSIONS,
    maxFileBytes: settings.maxFileBytes,
  };
}

/** Interaction tokens are opaque URL-safe strings; prefixing the id keeps logs readable. */
function newInteractionToken(interactionId: string): string {
  return `interaction-${interactionId}-${randomBytes(24).toString("base64url")}`;
}

function assertClickableButton(message: StoredMessage, customId: string): void {
  const buttons: Record<string, unknown>[] = [];
  visitComponents(message.components, [], (component) => {
    if (component.type === ComponentType.Button) buttons.push(component);
  });
  const button = buttons.find((candidate) => candidate.custom_id === customId);
  if (!button) {
    const available = buttons.map((candidate) => String(candidate.custom_id)).join(", ") || "none";
    throw new Error(`Message ${message.id} has no button "${customId}" (buttons: ${available})`);
  }
  if (button.disabled === true) throw new Error(`Button "${customId}" on message ${message.id} is disabled`);
}
