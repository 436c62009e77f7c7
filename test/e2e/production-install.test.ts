// The container's install, without a Docker engine: the files the Dockerfile copies, put in a
// clean folder, `npm install --omit=dev` there (what its dependencies stage runs), then the image's
// CMD (`atelier start`) from that folder against the fake Discord and the emulator: it runs,
// /healthz answers 200, and SIGTERM stops it with exit 0. Slow (better-sqlite3 compiles), so it
// runs when ATELIER_TEST_PRODUCTION_INSTALL=1 (CI sets it) and says so in one line otherwise.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEvolinkEmulator } from "../../emulators/index.ts";
import { FakeDiscord } from "../fake-discord/index.ts";
import { copiedByDockerfile, imageCommand } from "../support/dockerfile.ts";

const enabled = process.env.ATELIER_TEST_PRODUCTION_INSTALL === "1";
if (!enabled)
  console.warn("production install test skipped (set ATELIER_TEST_PRODUCTION_INSTALL=1; CI does)");

const repo = new URL("../..", import.meta.url).pathname;
const workdir = mkdtempSync(join(tmpdir(), "atelier-prod-"));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

function healthz(port: number): Promise<number> {
  return new Promise((resolve) => {
    get(`http://127.0.0.1:${port}/healthz`, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once("error", () => resolve(0));
  });
}

describe.runIf(enabled)("the production install", () => {
  it("installs without dev dependencies, starts, answers /healthz, and stops on SIGTERM", async () => {
    for (const entry of new Set(copiedByDockerfile()))
      cpSync(join(repo, entry), join(workdir, entry), { recursive: true });
    execFileSync("npm", ["install", "--omit=dev", "--no-audit", "--no-fund"], {
      cwd: workdir,
      stdio: "ignore",
    });
    const fake = await FakeDiscord.start();
    const emulator = await startEvolinkEmulator({ apiKey: "evk-prod-install-key" });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    // The image's own command line.
    const [, ...args] = imageCommand();
    const child = spawn(process.execPath, args, {
      cwd: workdir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        DISCORD_TOKEN: fake.botToken,
        DISCORD_API_URL: fake.restBaseUrl,
        DISCORD_GUILD_ID: fake.guildId,
        EVOLINK_API_KEY: "evk-prod-install-key",
        EVOLINK_BASE_URL: emulator.baseUrl,
        DATA_DIR: join(workdir, "data"),
        HTTP_PORT: String(port),
      },
      stdio: "ignore",
    });
    try {
      let status = 0;
      for (let attempt = 0; attempt < 120 && status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = await healthz(port);
      }
      expect(status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await emulator.stop();
      await fake.stop();
    }
  }, 600_000);
});
