// Starts a throwaway redis-server for the Redis store tests. Tests that need it are wrapped in
// `describe.runIf(redisTestsRun)`: without redis-server they are skipped with one line of notice,
// unless CI_REQUIRE_SERVICES=1 (set by `.ci/run`, which installs it), where they fail instead.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ExternalProgram, requirePresent, shouldRun } from "./services.ts";

export const redisServer: ExternalProgram = {
  name: "redis-server",
  tests: "Redis store tests",
  install: "apt-get install -y redis-server",
  isInstalled: () => !spawnSync("redis-server", ["--version"], { encoding: "utf8" }).error,
};

/** Whether the tests that start a redis-server run here (see test/support/services.ts). */
export const redisTestsRun = shouldRun(redisServer);

export interface RedisServer {
  url: string;
  /** Ends the server as an outage would (clients see their connections close); `resume` starts it again. */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same data (every write was on disk: appendfsync always). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  requirePresent(redisServer);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "atelier-redis-"));
  const launch = async () => {
    const child = spawn(
      "redis-server",
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir],
        // Kept on disk at every write, so a paused server comes back with everything.
        ...["--appendonly", "yes", "--appendfsync", "always"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    await waitUntilReady(child);
    return child;
  };
  const end = async (child: ChildProcess) => {
    if (child.exitCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  };
  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => end(child),
    resume: async () => {
      child = await launch();
    },
    stop: async () => {
      await end(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
