// @ts-check
// The gateway thread (see gateway-front.ts): @discordjs/ws's worker bootstrap, with dispatches
// taken here first so a command that starts jobs is answered "thinking…" before the bot's thread
// sees it. Plain JavaScript, checked by tsc through its JSDoc: a TypeScript thread needs a loader
// thread of its own (tsx), ~25 MB more in every process for ~90 lines.

import { parentPort, workerData } from "node:worker_threads";
import {
  WebSocketShard,
  WebSocketShardEvents,
  WorkerBootstrapper,
  WorkerContextFetchingStrategy,
  WorkerReceivePayloadOp,
} from "@discordjs/ws";
import { GatewayDispatchEvents, InteractionResponseType, InteractionType } from "discord-api-types/v10";
import { answeringThreadNames, nameThisThread } from "../service/thread-names.mjs";

/** @typedef {import("./gateway-front.ts").GatewayFrontNote} GatewayFrontNote */
/** @typedef {import("./gateway-front.ts").GatewayFrontSettings} GatewayFrontSettings */
/** @typedef {import("discord-api-types/v10").APIInteraction} APIInteraction */
/** @typedef {import("discord-api-types/v10").GatewayDispatchPayload} GatewayDispatchPayload */

const port = parentPort;
if (!port) throw new Error("gateway-front-thread.mjs runs as a worker thread");
// Before it connects: the bot lowers every thread not named so once started.
nameThisThread(answeringThreadNames.gateway);
/** @type {GatewayFrontSettings} */
const settings = workerData.atelierFront;
const apiBase = `${settings.apiUrl ?? "https://discord.com/api"}/v10`;
const thinkingCommands = new Set(settings.thinkingCommands);

/** @param {GatewayFrontNote} message */
const note = (message) => port.postMessage(message);

/**
 * A warning for the bot's log (its logger lives in the bot's thread).
 * @param {string} message
 * @param {Record<string, unknown>} fields
 */
const warn = (message, fields) => note({ atelier: "log", level: "warn", message, fields });

/** @param {APIInteraction} interaction */
function thinksAtOnce(interaction) {
  return (
    interaction.type === InteractionType.ApplicationCommand && thinkingCommands.has(interaction.data.name)
  );
}

/**
 * POSTs the "thinking…" answer; the bot's thread learns whether Discord took it.
 * @param {APIInteraction} interaction
 */
async function think(interaction) {
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
    if (!ok) warn("'thinking…' answer refused", { interactionId: interaction.id, status: response.status });
    await response.body?.cancel();
  } catch (error) {
    warn("'thinking…' answer not sent", { interactionId: interaction.id, error });
  }
  note({ atelier: "sent", id: interaction.id, ok });
}

/**
 * @param {number} shardId
 * @param {{ data: GatewayDispatchPayload }} data
 */
function onDispatch(shardId, data) {
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
 * @param {WorkerContextFetchingStrategy} shared
 * @returns {import("@discordjs/ws").IContextFetchingStrategy}
 */
function sessionsInThread(shared) {
  /** @type {Map<number, import("@discordjs/ws").SessionInfo>} */
  const sessions = new Map();
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
  start() {
    const shared = new WorkerContextFetchingStrategy(this.data);
    for (const shardId of this.data.shardIds) {
      const shard = new WebSocketShard(sessionsInThread(shared), shardId);
      for (const event of Object.values(WebSocketShardEvents)) {
        if (event === WebSocketShardEvents.Dispatch)
          shard.on(event, (/** @type {{ data: GatewayDispatchPayload }} */ data) =>
            onDispatch(shardId, data),
          );
        else
          shard.on(event, (/** @type {unknown} */ data) =>
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
