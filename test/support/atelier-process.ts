// `atelier start` as it runs in production: the real bin script in its own process, pointed at the
// fake Discord and the EvoLink emulator of the test, with only the environment given (plus PATH and
// HOME). What it writes is kept, for the test to look at and for the error when it does not start.
import { type ChildProcess, spawn } from "node:child_process";
import type { EvolinkEmulator } from "../../emulators/index.ts";
import type { FakeDiscord } from "../fake-discord/index.ts";

const bin = new URL("../../bin/atelier.mjs", import.meta.url).pathname;

export interface AtelierSetup {
  fake: FakeDiscord;
  emulator: EvolinkEmulator;
  /** The EvoLink key the emulator accepts. */
  apiKey: string;
  dataDir: string;
  /** This test's own settings, beside the working ones and over them (an undefined value is left out). */
  env?: Record<string, string | undefined>;
}

export interface AtelierProcess {
  child: ChildProcess;
  /** Everything it has written, stdout and stderr in the order it arrived. */
  output(): string;
  /** What it has written to stderr alone. */
  stderr(): string;
  /** Its exit code (null when a signal ended it), once it has exited. */
  exited: Promise<number | null>;
  /**
   * Resolves once it has logged "atelier running" (with `gateway`, first once it has identified on
   * the fake Discord gateway since it was spawned). Rejects with everything it wrote so far when it
   * does not within `timeoutMs` (each), or exits before logging it.
   */
  running(options?: { timeoutMs?: number; gateway?: boolean }): Promise<void>;
  /** Ends it with SIGKILL (no clean shutdown); resolves once it has exited. */
  kill(): Promise<void>;
}

export function spawnAtelier({ fake, emulator, apiKey, dataDir, env = {} }: AtelierSetup): AtelierProcess {
  const identifiesBefore = fake.identifies.length;
  const child = spawn(process.execPath, [bin, "start"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      DISCORD_TOKEN: fake.botToken,
      DISCORD_API_URL: fake.restBaseUrl,
      DISCORD_GUILD_ID: fake.guildId,
      EVOLINK_API_KEY: apiKey,
      EVOLINK_BASE_URL: emulator.baseUrl,
      DATA_DIR: dataDir,
      HTTP_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => {
    output.push(chunk.toString());
    stderr.push(chunk.toString());
  });
  // "exit", not "close": the image renderer it forks shares its pipes and may outlive a SIGKILL.
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const running = async ({ timeoutMs = 30_000, gateway = false } = {}) => {
    try {
      if (gateway)
        await fake.waitFor(
          () => fake.identifies.length > identifiesBefore && fake.botConnected,
          timeoutMs,
          "atelier to identify on the gateway",
        );
      await until(
        () => output.join("").includes("atelier running") || hasExited(),
        timeoutMs,
        'atelier to log "atelier running"',
      );
      if (!output.join("").includes("atelier running"))
        throw new Error(`atelier exited (${child.exitCode ?? child.signalCode}) before running`);
    } catch (error) {
      throw new Error(`${(error as Error).message}; its output:\n${output.join("")}`);
    }
  };

  return {
    child,
    output: () => output.join(""),
    stderr: () => stderr.join(""),
    exited,
    running,
    kill: async () => {
      if (!hasExited()) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls a condition the test cannot be told about (a child's output, Redis, the emulator) every 50 ms. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
