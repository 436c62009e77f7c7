// The HTTP port's own thread: it holds the port, passes every path but /interactions to the bot
// thread's server unchanged, and says plainly when the port is taken.
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { StartupError } from "../../src/discord/connect.ts";
import { type InteractionFront, startInteractionFront } from "../../src/discord/interaction-front.ts";
import type { Logger } from "../../src/log.ts";

const publicKey = Buffer.from(
  generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x ?? "",
  "base64url",
).toString("hex");

function recordingLogger(lines: string[]): Logger {
  const line = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

const servers: Server[] = [];
const fronts: InteractionFront[] = [];
afterEach(async () => {
  for (const front of fronts.splice(0)) await front.stop();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

function frontOn(port: number, upstreamPort: number, log: string[]): Promise<InteractionFront> {
  return startInteractionFront({
    settings: { port, host: "127.0.0.1", upstreamPort, publicKey, thinkingCommands: ["imagine"] },
    handOff: () => {
      throw new Error("no interaction is sent in these tests");
    },
    logger: recordingLogger(log),
  });
}

describe("the HTTP port's thread", () => {
  it("passes other paths to the bot thread's server: method, path, query, body and status", async () => {
    const upstream = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () =>
        response
          .writeHead(503, { "content-type": "application/json" })
          .end(JSON.stringify({ seen: `${request.method} ${request.url} ${Buffer.concat(chunks)}` })),
      );
    });
    servers.push(upstream);
    const front = await frontOn(0, await listen(upstream), []);
    fronts.push(front);
    const answer = await fetch(`http://127.0.0.1:${front.port}/callbacks/evolink?token=t`, {
      method: "POST",
      body: "done",
    });
    expect(answer.status).toBe(503);
    expect(await answer.json()).toEqual({ seen: "POST /callbacks/evolink?token=t done" });
  });

  it("refuses to start on a port in use, naming HTTP_PORT, without reporting a crash", async () => {
    const taken = createServer();
    servers.push(taken);
    const port = await listen(taken);
    const log: string[] = [];
    const started = frontOn(port, 1, log);
    await expect(started).rejects.toThrow(StartupError);
    await expect(started).rejects.toThrow(`HTTP_PORT ${port} is in use by another program`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.filter((line) => line.startsWith("error"))).toEqual([]);
  });
});
