import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const runner = new URL("../../bin/run-ts.mjs", import.meta.url).pathname;
const fixture = new URL("./lowered-threads.fixture.ts", import.meta.url).pathname;
const perThreadPriorities = existsSync("/proc/thread-self/comm");
if (!perThreadPriorities) console.log("SKIPPED thread priorities: no /proc/thread-self (not Linux)");

describe.runIf(perThreadPriorities)("lowering the bot's threads", () => {
  it("lowers every thread of the process to nice 10 but the one named as an answering thread", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [runner, fixture]);
    const { startedAt, seen } = JSON.parse(stdout) as {
      startedAt: number;
      seen: { name: string; nice: number }[];
    };
    const answering = seen.filter((thread) => thread.name === "atelier-http");
    const others = seen.filter((thread) => thread.name !== "atelier-http");
    expect(answering).toEqual([{ name: "atelier-http", nice: startedAt }]);
    // The main thread, the unnamed worker, V8's helpers, libuv's pool: at least four.
    expect(others.length).toBeGreaterThan(3);
    expect(others.filter((thread) => thread.nice < Math.max(10, startedAt))).toEqual([]);
  });
});
