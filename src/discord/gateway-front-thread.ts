// The gateway thread (see gateway-front.ts): @discordjs/ws's worker bootstrap, with dispatches
// taken here first so a command that starts jobs is answered "thinking…" before the bot's thread
// sees it.

import { parentPort, workerData } from "node:worker_threads";
import {
  type IContextFetchingStrategy,
  type SessionInfo,
  WebSocketShard,
  WebSocketShardEvents,
  WorkerBootstrapper,
  WorkerContextFetchingStrategy,
  WorkerReceivePayloadOp,
} from "@discordjs/ws";
import {
  type APIInteraction,
  GatewayDispatchEvents,
  type GatewayDispatchPayload,
  InteractionResponseType,
  InteractionType,
} from "discord-api-types/v10";
import { threadLogger } from "../service/threads.ts";
import type { GatewayFrontNote, GatewayFrontSettings } from "./gateway-front.ts";

const port = parentPort;
if (!port) throw new Error("gateway-front-thread.ts runs as a worker thread");
const settings = (workerData as { atelierFront: GatewayFrontSettings }).atelierFront;
const apiBase = `${settings.apiUrl ?? "https://discord.com/api"}/v10`;
const thinkingCommands = new Set(settings.thinkingCommands);
const note = (message: GatewayFrontNote) => port.postMessage(message);
const logger = threadLogger((line) => note({ atelier: "log", ...line }));

function thinksAtOnce(interaction: APIInteraction): boolean {
  return (
    interaction.type === InteractionType.ApplicationCommand && thinkingCommands.has(interaction.data.name)
  );
}

/** POSTs the "thinking…" answer; the bot's thread learns whether Discord took it. */
async function think(interaction: APIInteraction): Promise<void> {
  let ok = false;
  try {
    const response = await fetch(
      `${apiBase}/interactions/${interaction.id}/${encodeURIComponent(interaction.token)}/callback`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "DiscordBot (atelier, 0.1)" },
        body: JSON.stringify({ type: InteractionResponseType.DeferredChannelMessageWithSource }),
      },
    );
    ok = response.ok;
    if (!ok)
      logger.warn("'thinking…' answer refused", { interactionId: interaction.id, status: response.status });
    await response.body?.cancel();
  } catch (error) {
    logger.warn("'thinking…' answer not sent", { interactionId: interaction.id, error });
  }
  note({ atelier: "sent", id: interaction.id, ok });
}

function onDispatch(shardId: number, data: { data: GatewayDispatchPayload }): void {
  const payload = data.data;
  if (payload.t === GatewayDispatchEvents.InteractionCreate && thinksAtOnce(payload.d)) {
    const { id, token, application_id, type } = payload.d;
    note({
      atelier: "answered",
      interaction: { id, token, application_id, type },
      as: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    void think(payload.d);
  }
  port?.postMessage({
    op: WorkerReceivePayloadOp.Event,
    event: WebSocketShardEvents.Dispatch,
    data,
    shardId,
  });
}

/**
 * The shards' session memory kept in this thread. @discordjs/ws's worker default asks the bot's
 * thread for it on every event, and an event whose question is answered sooner overtakes one asked
 * earlier (a server's GUILD_CREATE arrived before READY, and discord.js called itself ready without
 * its user). Kept here, each event's lookups end before the next event is read, in order; the
 * identify turns are still taken from the bot's thread.
 */
function sessionsInThread(shared: WorkerContextFetchingStrategy): IContextFetchingStrategy {
  const sessions = new Map<number, SessionInfo>();
  return {
    options: shared.options,
    retrieveSessionInfo: (shardId) => sessions.get(shardId) ?? null,
    updateSessionInfo: (shardId, session) => {
      if (session) sessions.set(shardId, session);
      else sessions.delete(shardId);
    },
    waitForIdentify: (shardId, signal) => shared.waitForIdentify(shardId, signal),
  };
}

class GatewayThread extends WorkerBootstrapper {
  start(): void {
    const shared = new WorkerContextFetchingStrategy(this.data);
    for (const shardId of this.data.shardIds) {
      const shard = new WebSocketShard(sessionsInThread(shared), shardId);
      for (const event of Object.values(WebSocketShardEvents)) {
        if (event === WebSocketShardEvents.Dispatch)
          shard.on(event, (data: { data: GatewayDispatchPayload }) => onDispatch(shardId, data));
        else
          shard.on(event, (data: unknown) =>
            port?.postMessage({ op: WorkerReceivePayloadOp.Event, event, data, shardId }),
          );
      }
      this.shards.set(shardId, shard);
    }
    this.setupThreadEvents();
    port?.postMessage({ op: WorkerReceivePayloadOp.WorkerReady });
  }
}

new GatewayThread().start();
