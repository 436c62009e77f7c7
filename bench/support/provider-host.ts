// Parent side of provider-process.ts: starts the emulator and its front in their own process and
// asks them, over IPC, what the figures need (task timings, polls, when the bot learned of a result).
import { fork } from "node:child_process";
import { stopChild } from "./bot-child.ts";
import { askerOf } from "./ipc.ts";
import type { TaskTiming } from "./observations.ts";
import type { LearnedCompletion } from "./provider-front.ts";
import type { ProviderReply, ProviderRequest, ProviderSetup } from "./provider-process.ts";

export interface ProviderHost {
  /** Where the bot sends its API calls (the front). */
  baseUrl: string;
  pid: number;
  setTaskDuration(ms: number): Promise<void>;
  /** Where provider callbacks are relayed (a bot's callback server). */
  setCallbackTarget(url: string): Promise<void>;
  /** Prompt marker (the job's index) → its provider task. */
  tasks(marker: RegExp): Promise<Map<number, TaskTiming>>;
  countTasks(promptContaining: string): Promise<number>;
  /** Arrival time of every task poll (GET /v1/tasks/{id}). */
  pollTimes(): Promise<number[]>;
  /** Task id → when the bot first received a `completed` body for it. */
  learned(): Promise<Map<string, LearnedCompletion>>;
  stop(): Promise<void>;
}

const runner = new URL("../../bin/run-ts.mjs", import.meta.url).pathname;
const entry = new URL("./provider-process.ts", import.meta.url).pathname;

export async function startProviderHost(setup: ProviderSetup): Promise<ProviderHost> {
  const child = fork(runner, [entry], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      BENCH_PROVIDER: JSON.stringify(setup),
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the provider process exited (${code}) before it ran`)));
    const onMessage = (message: { ready?: string }) => {
      if (message.ready === undefined) return;
      child.off("message", onMessage);
      resolve(message.ready);
    };
    child.on("message", onMessage);
  });
  const ask = askerOf<ProviderRequest, ProviderReply>(child);
  return {
    baseUrl,
    pid: child.pid ?? 0,
    setTaskDuration: async (ms) => {
      await ask({ type: "task-duration", ms });
    },
    setCallbackTarget: async (url) => {
      await ask({ type: "callback-target", url });
    },
    tasks: async (marker) =>
      new Map(
        ((await ask({ type: "tasks", marker: marker.source })) as { tasks: Array<[number, TaskTiming]> })
          .tasks,
      ),
    countTasks: async (containing) =>
      ((await ask({ type: "count-tasks", containing })) as { count: number }).count,
    pollTimes: async () => ((await ask({ type: "polls" })) as { times: number[] }).times,
    learned: async () =>
      new Map(((await ask({ type: "learned" })) as { learned: Array<[string, LearnedCompletion]> }).learned),
    stop: () => stopChild(child),
  };
}
