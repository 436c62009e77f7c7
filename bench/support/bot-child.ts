// Parent side of bench/support/bot-process.ts: starts the real bot in a child process, waits until
// it runs, reads its CPU and memory from /proc, and its event-loop figures over IPC.
import { type ChildProcess, fork } from "node:child_process";
import { createInterface } from "node:readline";
import type { BotQuestion } from "./bot-process.ts";
import { askerOf } from "./ipc.ts";
import { type EventLoopFigures, type ProcessFigures, ProcessSampler } from "./sampler.ts";

export interface BotChildOptions {
  /** Atelier settings (DISCORD_TOKEN, EVOLINK_BASE_URL, …); nothing else of the parent's environment leaks in. */
  env: Record<string, string>;
  /** Node's own options on the bot's command line (as the deployment's start command gives them). */
  nodeFlags?: readonly string[];
  /** Write a V8 CPU profile of the bot into this directory (node --cpu-prof). */
  cpuProfileDir?: string;
  readyTimeoutMs?: number;
  /** Another entry module for the bot process (diagnostic variants); default bot-process.ts. */
  entry?: string;
}

export interface BotChild {
  /** Starts a measured phase in the bot process. */
  mark(): Promise<ProcessFigures>;
  /** Figures since the last mark. */
  report(): Promise<ProcessFigures>;
  /** WARN / ERROR log lines of the bot (the first few kept). */
  problems: { count: number; first: string[] };
  stop(): Promise<void>;
}

const runner = new URL("../../bin/run-ts.mjs", import.meta.url).pathname;
const entry = new URL("./bot-process.ts", import.meta.url).pathname;
const keptProblemLines = 5;

export async function startBotChild(options: BotChildOptions): Promise<BotChild> {
  const child = fork(runner, [options.entry ?? entry], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    execArgv: [
      ...(options.nodeFlags ?? []),
      ...(options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ],
    stdio: ["ignore", "inherit", "pipe", "ipc"],
  });
  const problems = { count: 0, first: [] as string[] };
  const ready = watchLog(child, problems);
  try {
    await withTimeout(ready, options.readyTimeoutMs ?? 30_000, "the bot to start");
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  // The bot and its image worker, measured from here (sampler.ts says why).
  const sampler = new ProcessSampler({ pid: child.pid, withChildren: true });
  const ask = askerOf<BotQuestion, EventLoopFigures>(child);
  return {
    mark: async () => {
      sampler.mark();
      return { ...sampler.read(), ...(await ask("mark")) };
    },
    report: async () => ({ ...sampler.read(), ...(await ask("report")) }),
    problems,
    stop: () => {
      sampler.stop();
      return stopChild(child);
    },
  };
}

/** Resolves once the bot logs that it runs; keeps the log drained (a full pipe would stall the bot). */
function watchLog(child: ChildProcess, problems: BotChild["problems"]): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
    const early: string[] = [];
    lines.on("line", (line) => {
      if (line.includes('"msg":"atelier running"')) resolve();
      if (/"level":"(warn|error)"/.test(line)) {
        problems.count++;
        if (problems.first.length < keptProblemLines) problems.first.push(line.slice(0, 300));
      }
      if (early.length < 40) early.push(line);
    });
    child.once("exit", (code) =>
      reject(new Error(`bot exited (${code}) before running:\n${early.join("\n")}`)),
    );
  });
}

/** SIGTERM, and SIGKILL if the child has not ended 15 s later. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
