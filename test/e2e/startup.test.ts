// Start-up failures end fast, with one line naming the cause and the fix, and no process left
// running: a bad token, Discord out of reach, a server the bot is not in, a provider key the
// provider refuses, a provider URL that does not answer.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../../emulators/index.ts";
import { FakeDiscord } from "../fake-discord/index.ts";
import { spawnAtelier } from "../support/atelier-process.ts";

const apiKey = "evk-startup-secret-key";
let fake: FakeDiscord;
let emulator: EvolinkEmulator;
let dataDir: string;

beforeAll(async () => {
  fake = await FakeDiscord.start();
  emulator = await startEvolinkEmulator({ apiKey });
  dataDir = mkdtempSync(join(tmpdir(), "atelier-startup-"));
});

afterAll(async () => {
  await emulator?.stop();
  await fake?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  ms: number;
  stderr: string;
}

/** Runs `atelier start` with these settings over working defaults; resolves when it exits (or after 40 s). */
async function start(overrides: Record<string, string>): Promise<Ended> {
  const began = Date.now();
  const atelier = spawnAtelier({
    fake,
    emulator,
    apiKey,
    dataDir,
    env: { LOG_FORMAT: "json", ...overrides },
  });
  const guard = setTimeout(() => atelier.child.kill("SIGKILL"), 40_000);
  const code = await atelier.exited;
  clearTimeout(guard);
  return { code, ms: Date.now() - began, stderr: atelier.stderr() };
}

/** The one line meant for a person: the last one, not a JSON log record. */
function lastLine(ended: Ended): string {
  return ended.stderr.trim().split("\n").at(-1) ?? "";
}

function expectCleanFailure(ended: Ended, wanted: RegExp): void {
  expect(ended.code).toBe(1);
  expect(ended.ms).toBeLessThan(15_000 + 5_000); // the 15 s promise, plus the process's own start
  expect(lastLine(ended)).toMatch(wanted);
  expect(ended.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(ended.stderr).not.toContain(apiKey);
}

describe("atelier start fails fast and says how to fix it", () => {
  it("an invalid token", async () => {
    expectCleanFailure(await start({ DISCORD_TOKEN: "not-the-token" }), /DISCORD_TOKEN.*Reset Token/);
  }, 30_000);

  it("Discord out of reach", async () => {
    expectCleanFailure(
      await start({ DISCORD_API_URL: "http://127.0.0.1:9" }),
      /Discord could not be reached|did not answer/,
    );
  }, 30_000);

  it("a server the bot is not in, with the invite link", async () => {
    const ended = await start({ DISCORD_GUILD_ID: "123456789012345678" });
    expectCleanFailure(ended, /DISCORD_GUILD_ID 123456789012345678.*oauth2\/authorize\?client_id=\d+/);
  }, 30_000);

  it("a provider key the provider refuses", async () => {
    expectCleanFailure(await start({ EVOLINK_API_KEY: "evk-wrong-key" }), /evolink.*EVOLINK_API_KEY/i);
  }, 30_000);

  it("an HTTP port another program holds", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "0.0.0.0", resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      expectCleanFailure(await start({ HTTP_PORT: String(port) }), new RegExp(`HTTP_PORT ${port} is in use`));
    } finally {
      holder.close();
    }
  }, 30_000);

  it("a provider URL that does not answer", async () => {
    expectCleanFailure(await start({ EVOLINK_BASE_URL: "http://127.0.0.1:9" }), /evolink.*EVOLINK_BASE_URL/i);
  }, 30_000);
});
