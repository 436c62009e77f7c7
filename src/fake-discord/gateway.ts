import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  GatewayCloseCodes,
  GatewayDispatchEvents,
  type GatewayDispatchPayload,
  GatewayOpcodes,
  type GatewayReceivePayload,
} from "discord-api-types/v10";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import type { ChangeFeed } from "./change-feed.ts";
import { buildGuildCreateData, buildReadyData, type FakeWorld, guildsOf } from "./payloads.ts";
import { type ShardKey, SINGLE_SHARD, shardReceives } from "./sharding.ts";

/** A dispatch before the server numbers it. Distributes over the union so `t` and `d` stay paired. */
export type UnsequencedDispatch<P = GatewayDispatchPayload> = P extends unknown ? Omit<P, "s"> : never;

/** One successful IDENTIFY, for assertions on (re)connections. */
export interface IdentifyRecord {
  at: number;
  sessionId: string;
  intents: number;
  shard: [number, number] | undefined;
  /** The connection's query string (`v`, `encoding`, `compress` if asked). */
  query: Record<string, string>;
}

export interface GatewayOptions {
  world: FakeWorld;
  botToken: string;
  heartbeatIntervalMs: number;
  /** Sent as `resume_gateway_url` (resuming is answered with INVALID_SESSION, forcing a fresh IDENTIFY). */
  gatewayUrl: string;
  feed: ChangeFeed;
}

const framePayloadSchema = z.looseObject({ op: z.number().int(), d: z.unknown() });
const identifySchema = z.looseObject({
  token: z.string(),
  intents: z.number().int(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
});

/** One client connection: HELLO → IDENTIFY → READY + GUILD_CREATE, then dispatches with sequence numbers. */
export class GatewaySession {
  readonly socket: WebSocket;
  readonly query: Record<string, string>;
  sessionId: string | undefined;
  /** `[shard_id, num_shards]` from IDENTIFY: which servers' events this connection receives. */
  shard: ShardKey = SINGLE_SHARD;
  #sequence = 0;

  constructor(socket: WebSocket, query: Record<string, string>) {
    this.socket = socket;
    this.query = query;
  }

  get ready(): boolean {
    return this.sessionId !== undefined && this.socket.readyState === this.socket.OPEN;
  }

  send(payload: GatewayReceivePayload): void {
    this.socket.send(JSON.stringify(payload));
  }

  sendDispatch(payload: UnsequencedDispatch): void {
    this.#sequence += 1;
    this.socket.send(JSON.stringify({ ...payload, s: this.#sequence }));
  }
}

/** The fake gateway: plain JSON frames (discord.js only asks for zlib-stream when zlib-sync is installed). */
export class GatewayServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sessions: GatewaySession[] = [];
  readonly #options: GatewayOptions;
  readonly identifies: IdentifyRecord[] = [];
  heartbeats = 0;
  connections = 0;

  constructor(options: GatewayOptions) {
    this.#options = options;
  }

  /** Hook for the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const query = Object.fromEntries(new URL(request.url ?? "/", "ws://127.0.0.1").searchParams);
      this.#accept(new GatewaySession(ws, query));
    });
  }

  /** The newest identified, open session: after a bot restart that is the new client. */
  latestReadySession(): GatewaySession | undefined {
    return this.#sessions.findLast((session) => session.ready);
  }

  /** The newest open session on the shard that receives `guildId`'s events (DMs: shard 0). */
  sessionFor(guildId: string | undefined): GatewaySession | undefined {
    return this.#sessions.findLast((session) => session.ready && shardReceives(session.shard, guildId));
  }

  /** The session for `guildId`'s events, waiting (event driven) for that shard to be connected. */
  waitForSessionFor(guildId: string | undefined, timeoutMs: number): Promise<GatewaySession> {
    return this.#options.feed.waitFor(
      () => this.sessionFor(guildId),
      timeoutMs,
      `a bot connected to the gateway on the shard of server ${guildId ?? "(none)"} (did the client log in?)`,
    );
  }

  /** The session to dispatch to, waiting (event driven) for a bot to be connected and identified. */
  waitForReadySession(timeoutMs: number): Promise<GatewaySession> {
    return this.#options.feed.waitFor(
      () => this.latestReadySession(),
      timeoutMs,
      "a bot connected to the gateway (did the client log in?)",
    );
  }

  /** Drops every connection (clients see an abnormal close) and stops accepting new ones. */
  async close(): Promise<void> {
    for (const session of this.#sessions) session.socket.terminate();
    await new Promise<void>((resolve) => {
      this.#wss.close(() => resolve());
    });
  }

  #accept(session: GatewaySession): void {
    this.connections += 1;
    this.#sessions.push(session);
    session.socket.on("message", (data) => this.#onFrame(session, data));
    session.socket.on("close", () => {
      const index = this.#sessions.indexOf(session);
      if (index !== -1) this.#sessions.splice(index, 1);
      this.#options.feed.notify();
    });
    if (session.query.encoding !== undefined && session.query.encoding !== "json") {
      session.socket.close(GatewayCloseCodes.DecodeError, "The fake gateway only speaks JSON");
      return;
    }
    session.send({
      op: GatewayOpcodes.Hello,
      d: { heartbeat_interval: this.#options.heartbeatIntervalMs },
      s: null,
      t: null,
    });
  }

  #onFrame(session: GatewaySession, data: RawData): void {
    const frame = framePayloadSchema.safeParse(parseJson(data));
    if (!frame.success) {
      session.socket.close(GatewayCloseCodes.DecodeError, "Error while decoding payload");
      return;
    }
    const { op, d } = frame.data;
    switch (op) {
      case GatewayOpcodes.Heartbeat:
        this.heartbeats += 1;
        session.send({ op: GatewayOpcodes.HeartbeatAck, d: undefined, s: null, t: null });
        return;
      case GatewayOpcodes.Identify:
        this.#identify(session, d);
        return;
      case GatewayOpcodes.Resume:
        // Sessions are not kept across connections: tell the client to start over with IDENTIFY.
        session.send({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.RequestGuildMembers:
      case GatewayOpcodes.VoiceStateUpdate:
        return;
      default:
        session.socket.close(GatewayCloseCodes.UnknownOpcode, "Unknown opcode");
    }
  }

  #identify(session: GatewaySession, data: unknown): void {
    if (session.sessionId !== undefined) {
      session.socket.close(GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated");
      return;
    }
    const identify = identifySchema.safeParse(data);
    if (!identify.success || identify.data.token !== this.#options.botToken) {
      session.socket.close(GatewayCloseCodes.AuthenticationFailed, "Authentication failed");
      return;
    }
    const shard = identify.data.shard ?? SINGLE_SHARD;
    const [shardId, shardCount] = shard;
    if (shardCount < 1 || shardId < 0 || shardId >= shardCount) {
      session.socket.close(GatewayCloseCodes.InvalidShard, "Invalid shard");
      return;
    }
    const sessionId = randomUUID().replaceAll("-", "");
    const { world, gatewayUrl } = this.#options;
    // A shard hears only of its own servers: in READY, in GUILD_CREATE and in every later event.
    const guilds = guildsOf(world).filter((guild) => shardReceives(shard, guild.id));
    session.sendDispatch({
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.Ready,
      d: buildReadyData(world, { id: sessionId, resumeUrl: gatewayUrl, shard, guilds }),
    });
    for (const guild of guilds) {
      session.sendDispatch({
        op: GatewayOpcodes.Dispatch,
        t: GatewayDispatchEvents.GuildCreate,
        d: buildGuildCreateData(world, guild),
      });
    }
    session.shard = shard;
    session.sessionId = sessionId;
    this.identifies.push({
      at: Date.now(),
      sessionId,
      intents: identify.data.intents,
      shard: identify.data.shard,
      query: session.query,
    });
    this.#options.feed.notify();
  }
}

function parseJson(data: RawData): unknown {
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}
