// The interaction front: with interactions over HTTP, the HTTP port is served by a thread of its
// own that does nothing else. It checks signatures and replays, answers PING, answers a command
// that starts jobs "thinking…" at once, and hands every interaction to the bot's thread; any other
// path (health, metrics, provider callbacks) it passes on to the bot thread's own server on
// loopback. So the first answer to an interaction never waits behind the bot's work (job records,
// queue, deliveries, REST traffic): that thread's event loop may be busy, this one is not.
import type { Worker } from "node:worker_threads";
import type { Logger } from "../log.ts";
import { startTypeScriptThread, type ThreadLogLine } from "../service/threads.ts";
import { portInUseError } from "./connect.ts";
import type { AwaitedAnswer, HttpAnswer } from "./interaction-answers.ts";
import type { InteractionHandoff, ReceivedInteraction } from "./interaction-endpoint.ts";

/** What the front thread is started with (workerData.settings). */
export interface FrontSettings {
  port: number;
  host?: string;
  /** The bot thread's server on 127.0.0.1, for every path but /interactions. */
  upstreamPort: number;
  /** DISCORD_PUBLIC_KEY. */
  publicKey: string;
  /** Replays are remembered in this Redis when several processes serve; in the thread otherwise. */
  redisUrl?: string;
  /** Commands the front answers "thinking…" itself. */
  thinkingCommands: string[];
}

/** From the front thread to the bot's. */
export type FrontMessage =
  | { kind: "listening"; port: number }
  | { kind: "failed"; code?: string; message: string }
  | { kind: "interaction"; seq: number; interaction: ReceivedInteraction; answered?: number }
  | { kind: "settled"; seq: number; sent: boolean }
  | ({ kind: "log" } & ThreadLogLine)
  | { kind: "stopped" };

/** From the bot's thread to the front. */
export type BotMessage =
  | { kind: "answer"; seq: number; answer: HttpAnswer }
  | { kind: "not-taken"; seq: number }
  | { kind: "stop" };

export interface InteractionFront {
  /** The port the front listens on (the one asked for, or the system's pick for 0). */
  port: number;
  /** False once the thread has stopped unexpectedly (health reports it). */
  alive(): boolean;
  /** Closes the port; interactions already handed over finish in the bot's thread. */
  stop(): Promise<void>;
}

export interface InteractionFrontOptions {
  settings: FrontSettings;
  handOff: InteractionHandoff;
  logger: Logger;
}

const threadEntry = new URL("./interaction-front-thread.ts", import.meta.url);

/** Starts the front thread; resolves once it listens, rejects (StartupError when the port is taken) if it cannot. */
export function startInteractionFront(options: InteractionFrontOptions): Promise<InteractionFront> {
  const { logger, settings } = options;
  const thread = startTypeScriptThread(threadEntry, settings);
  const waiting = new Map<number, AwaitedAnswer>();
  let stopping = false;
  let alive = true;
  const post = (message: BotMessage) => thread.postMessage(message);

  function take(seq: number, interaction: ReceivedInteraction, answered: number | undefined): void {
    let awaited: AwaitedAnswer;
    try {
      awaited = options.handOff(interaction, answered);
    } catch (error) {
      logger.error("interaction could not be handed to the bot", { interactionId: interaction.id, error });
      post({ kind: "not-taken", seq });
      return;
    }
    waiting.set(seq, awaited);
    if (answered === undefined) void awaited.first.then((answer) => post({ kind: "answer", seq, answer }));
  }

  return new Promise((resolve, reject) => {
    thread.on("message", (message: FrontMessage) => {
      switch (message.kind) {
        case "interaction":
          return take(message.seq, message.interaction, message.answered);
        case "settled":
          waiting.get(message.seq)?.settle(message.sent);
          waiting.delete(message.seq);
          return;
        case "log":
          return logger[message.level](message.message, message.fields);
        case "listening":
          return resolve({
            port: message.port,
            alive: () => alive,
            stop: () => stopFront(thread, () => (stopping = true)),
          });
        case "failed":
          stopping = true; // Its end is this failure, reported here, not an unexpected stop.
          void thread.terminate();
          return reject(
            message.code === "EADDRINUSE"
              ? portInUseError(settings.port)
              : new Error(`the interactions endpoint could not start: ${message.message}`),
          );
      }
    });
    thread.on("error", (error) => logger.error("interaction front failed", { error }));
    thread.on("exit", (code) => {
      alive = false;
      // Interactions in its hands can no longer be answered: their senders learn it like a hang-up.
      for (const awaited of waiting.values()) awaited.settle(false);
      waiting.clear();
      if (!stopping) {
        logger.error("interaction front stopped: no interactions are taken until restart", { code });
        reject(new Error(`the interactions endpoint stopped (exit code ${code})`));
      }
    });
  });
}

async function stopFront(thread: Worker, markStopping: () => void): Promise<void> {
  markStopping();
  const stopped = new Promise<void>((resolve) => {
    thread.on("message", (message: FrontMessage) => message.kind === "stopped" && resolve());
    thread.once("exit", () => resolve());
  });
  thread.postMessage({ kind: "stop" } satisfies BotMessage);
  // Open connections (keep-alive) would hold the port: the thread is ended once it has closed it.
  await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await thread.terminate();
}
