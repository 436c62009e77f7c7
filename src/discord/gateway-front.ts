// The gateway's front: the gateway connection (@discordjs/ws, its sharding strategy for worker
// threads) runs in a thread of its own, which answers a command that starts jobs "thinking…"
// itself the moment Discord delivers it, then passes every event on to discord.js in the bot's
// thread. So that first answer never waits behind the bot's work (job records, deliveries, REST
// traffic): the bot's thread may be busy, this one is not. The bot's own answer then follows as
// the webhook call it amounts to (InteractionAnswers, as for a deferral over HTTP).
import { fileURLToPath } from "node:url";
import {
  type WebSocketManager as GatewayManager,
  type IShardingStrategy,
  WorkerShardingStrategy,
} from "@discordjs/ws";
import type { InteractionResponseType } from "discord.js";
import type { Logger } from "../log.ts";
import type { ThreadLogLine } from "../service/threads.ts";
import type { AwaitedAnswer, IncomingInteraction, InteractionAnswers } from "./interaction-answers.ts";

/** What the gateway thread needs besides @discordjs/ws's own data. */
export interface GatewayFrontSettings {
  /** REST base for the "thinking…" answer (DISCORD_API_URL); Discord's when absent. */
  apiUrl?: string;
  /** Commands the thread answers "thinking…" itself. */
  thinkingCommands: string[];
}

/** From the gateway thread, besides @discordjs/ws's own messages (which carry `op`). */
export type GatewayFrontNote =
  | { atelier: "answered"; interaction: IncomingInteraction; as: InteractionResponseType }
  | { atelier: "sent"; id: string; ok: boolean }
  | ({ atelier: "log" } & ThreadLogLine);

export interface GatewayFrontOptions {
  settings: GatewayFrontSettings;
  /** Where the bot's own answers to interactions the thread answered are turned into webhook calls. */
  answers: InteractionAnswers;
  logger: Logger;
}

const threadPath = fileURLToPath(new URL("./gateway-front-thread.mjs", import.meta.url));

/** discord.js's `ws.buildStrategy`: every shard of this process in one gateway thread. */
export function gatewayFront(options: GatewayFrontOptions): (manager: GatewayManager) => IShardingStrategy {
  const { answers, logger } = options;
  const answered = new Map<string, AwaitedAnswer>();
  const onNote = (note: GatewayFrontNote) => {
    switch (note.atelier) {
      case "answered":
        // Comes before the event itself: the bot's answer finds it waiting.
        answered.set(note.interaction.id, answers.awaitAnswer(note.interaction, note.as));
        return;
      case "sent":
        answered.get(note.id)?.settle(note.ok);
        answered.delete(note.id);
        return;
      case "log":
        return logger[note.level](note.message, note.fields);
    }
  };
  return (manager) => {
    // @discordjs/ws hands its manager's options to the thread as its workerData.
    Object.assign(manager.options, { atelierFront: options.settings });
    return new WorkerShardingStrategy(manager, {
      shardsPerWorker: "all",
      workerPath: threadPath,
      unknownPayloadHandler: onNote,
    });
  };
}
