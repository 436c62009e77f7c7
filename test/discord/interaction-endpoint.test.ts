// POST /interactions as Discord (and anyone else) reaches it: only requests signed with the
// application's key, fresh and not seen before, get through to the bot; the bot's first answer,
// or a deferral when it is slow, is the HTTP response.
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InteractionAnswers } from "../../src/discord/interaction-answers.ts";
import { interactionEndpoint } from "../../src/discord/interaction-endpoint.ts";
import { createSignatureCheck, MemoryReplayGuard } from "../../src/discord/interaction-signature.ts";
import { silentLogger } from "../../src/log.ts";

const applicationId = "100000000000000001";

function keyPair(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  return { publicKey: raw.toString("hex"), privateKey };
}

interface Sent {
  status: number;
  type: string | null;
  text: string;
}

interface Harness {
  url: string;
  dispatched: Array<Record<string, unknown>>;
  answers: InteractionAnswers;
  /** Requests the answers made to Discord themselves (webhook calls after a deferral). */
  outgoing: Array<{ method: string; url: string; body: unknown }>;
  /** What the bot does with a dispatched interaction (default: nothing, as a slow handler). */
  onDispatch: (payload: Record<string, unknown>) => void;
  post(body: string, headers?: Record<string, string | undefined>): Promise<Sent>;
  signed(body: string, timestamp?: number): Record<string, string>;
}

let server: Server;
let harness: Harness;
const keys = keyPair();

beforeEach(async () => {
  const dispatched: Array<Record<string, unknown>> = [];
  const outgoing: Harness["outgoing"] = [];
  const answers = new InteractionAnswers({
    apiUrl: "http://discord.invalid/api",
    deadlineMs: 150,
    logger: silentLogger,
    fallback: async (url, init) => {
      outgoing.push({ method: String(init.method), url, body: init.body });
      const message = { id: "300000000000000003", channel_id: "1", flags: 0, content: "" };
      if (init.method === "DELETE") return new Response(null, { status: 204 }) as never;
      return new Response(JSON.stringify(message), {
        headers: { "content-type": "application/json" },
      }) as never;
    },
  });
  const route = interactionEndpoint({
    check: createSignatureCheck({ publicKey: keys.publicKey, replays: new MemoryReplayGuard() }),
    handOff: (payload, answered) => {
      const awaited = answers.awaitAnswer(payload, answered);
      dispatched.push(payload);
      harness.onDispatch(payload);
      return awaited;
    },
    thinkingCommands: new Set(["imagine"]),
    logger: silentLogger,
    maxBodyBytes: 64 * 1024,
  });
  server = createServer((request, response) => void route(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}/interactions`;
  harness = {
    url,
    dispatched,
    answers,
    outgoing,
    onDispatch: () => undefined,
    signed: (body, timestamp = Math.floor(Date.now() / 1000)) => ({
      "x-signature-timestamp": String(timestamp),
      "x-signature-ed25519": sign(null, Buffer.from(`${timestamp}${body}`), keys.privateKey).toString("hex"),
    }),
    post: async (body, headers = harness.signed(body)) => {
      const defined = Object.fromEntries(
        Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...defined },
        body,
      });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        text: await response.text(),
      };
    },
  };
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let nextId = 200000000000000000n;
function interaction(type: number, extra: Record<string, unknown> = {}): string {
  nextId += 1n;
  return JSON.stringify({
    id: String(nextId),
    application_id: applicationId,
    token: `token-${nextId}`,
    type,
    version: 1,
    ...extra,
  });
}

/** Answers an interaction the way discord.js does: a REST POST to its callback route. */
function answerAsDiscordJs(payload: Record<string, unknown>, body: string | FormData, query = "") {
  return harness.answers.makeRequest(
    `http://discord.invalid/api/v10/interactions/${payload.id}/${payload.token}/callback${query}`,
    { method: "POST", body: body as never },
  );
}

describe("signature check", () => {
  it("answers a signed PING with PONG", async () => {
    const sent = await harness.post(interaction(1));
    expect(sent).toMatchObject({ status: 200, type: "application/json" });
    expect(JSON.parse(sent.text)).toEqual({ type: 1 });
  });

  it("hands a signed interaction to the bot", async () => {
    harness.onDispatch = (payload) =>
      void answerAsDiscordJs(payload, JSON.stringify({ type: 4, data: { content: "hello" } }));
    const sent = await harness.post(interaction(2));
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.text)).toEqual({ type: 4, data: { content: "hello" } });
    expect(harness.dispatched).toHaveLength(1);
  });

  it("refuses a bad signature with 401, and the bot never sees it", async () => {
    const body = interaction(2);
    const headers = harness.signed(body);
    const forged = {
      ...headers,
      "x-signature-ed25519": sign(null, Buffer.from("other"), keyPair().privateKey).toString("hex"),
    };
    expect((await harness.post(body, forged)).status).toBe(401);
    expect(harness.dispatched).toHaveLength(0);
  });

  it("refuses an altered body with 401", async () => {
    const body = interaction(2, { data: { name: "imagine" } });
    const headers = harness.signed(body);
    const sent = await harness.post(body.replace("imagine", "imaginf"), headers);
    expect(sent.status).toBe(401);
    expect(harness.dispatched).toHaveLength(0);
  });

  it("refuses requests missing either header with 401", async () => {
    const body = interaction(2);
    const headers = harness.signed(body);
    expect((await harness.post(body, { ...headers, "x-signature-ed25519": undefined })).status).toBe(401);
    expect((await harness.post(body, { ...headers, "x-signature-timestamp": undefined })).status).toBe(401);
    expect((await harness.post(body, {})).status).toBe(401);
    expect(harness.dispatched).toHaveLength(0);
  });

  it("refuses a correctly signed but stale or future timestamp with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = interaction(2);
    expect((await harness.post(stale, harness.signed(stale, now - 6 * 60))).status).toBe(401);
    const future = interaction(2);
    expect((await harness.post(future, harness.signed(future, now + 5 * 60))).status).toBe(401);
    expect(harness.dispatched).toHaveLength(0);
  });

  it("refuses a replayed request with 401, and the bot sees it once", async () => {
    harness.onDispatch = (payload) => void answerAsDiscordJs(payload, JSON.stringify({ type: 5 }));
    const body = interaction(2);
    const headers = harness.signed(body);
    expect((await harness.post(body, headers)).status).toBe(200);
    expect((await harness.post(body, headers)).status).toBe(401);
    expect(harness.dispatched).toHaveLength(1);
  });

  it("refuses a body over the limit unread (413)", async () => {
    const body = interaction(2, { padding: "x".repeat(70 * 1024) });
    expect((await harness.post(body)).status).toBe(413);
    expect(harness.dispatched).toHaveLength(0);
  });
});

describe("the answer is the HTTP response", () => {
  it("keeps a multipart answer with its files and content type", async () => {
    harness.onDispatch = (payload) => {
      const form = new FormData();
      form.append("files[0]", new Blob([Buffer.from("PNG-BYTES")], { type: "image/png" }), "grid.png");
      form.append(
        "payload_json",
        JSON.stringify({ type: 4, data: { attachments: [{ id: 0, filename: "grid.png" }] } }),
      );
      void answerAsDiscordJs(payload, form);
    };
    const sent = await harness.post(interaction(2));
    expect(sent.status).toBe(200);
    expect(sent.type).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(sent.text, { headers: { "content-type": sent.type ?? "" } }).formData();
    expect(JSON.parse(String(form.get("payload_json")))).toMatchObject({ type: 4 });
    expect(await (form.get("files[0]") as File).text()).toBe("PNG-BYTES");
  });

  it("tells the bot 'Unknown interaction' when Discord stopped waiting before the answer", async () => {
    let answered: Promise<Response> | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      harness.onDispatch = (payload) => {
        // The answer comes once Discord (here: fetch) has hung up.
        void gaveUp.then(() => {
          answered = answerAsDiscordJs(
            payload,
            JSON.stringify({ type: 4, data: { content: "late" } }),
          ) as never;
        });
      };
      const body = interaction(2);
      void fetch(harness.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...harness.signed(body) },
        body,
        signal: AbortSignal.timeout(30),
      }).catch(() => setTimeout(resolve, 20));
    });
    await gaveUp;
    await expect.poll(() => answered).toBeDefined();
    const response = await (answered as Promise<Response>);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ code: 10062, message: "Unknown interaction" });
  });

  it("defers a slow command (type 5) and a slow click (type 6) at the deadline", async () => {
    expect(JSON.parse((await harness.post(interaction(2))).text)).toEqual({ type: 5 });
    const click = interaction(3, { message: { id: "1" }, data: { custom_id: "x", component_type: 2 } });
    expect(JSON.parse((await harness.post(click)).text)).toEqual({ type: 6 });
  });

  it("sends a late private reply as a private follow-up in place of the public 'thinking…'", async () => {
    const body = interaction(2);
    const sent = await harness.post(body);
    expect(JSON.parse(sent.text)).toEqual({ type: 5 });
    const payload = harness.dispatched[0] as Record<string, unknown>;
    const late = await answerAsDiscordJs(
      payload,
      JSON.stringify({ type: 4, data: { content: "no", flags: 64 } }),
    );
    expect(late.status).toBe(204);
    const webhook = `http://discord.invalid/api/v10/webhooks/${applicationId}/${payload.token}`;
    expect(harness.outgoing.map(({ method, url }) => `${method} ${url}`)).toEqual([
      `DELETE ${webhook}/messages/%40original`,
      `POST ${webhook}?wait=true`,
    ]);
    expect(JSON.parse(String(harness.outgoing[1]?.body))).toEqual({ content: "no", flags: 64 });
  });

  it("answers a command that starts jobs 'thinking…' at once; the bot's answer then edits it", async () => {
    const answered: Array<Promise<{ status: number }>> = [];
    // The bot answers at once too, yet the response is already "thinking…": it never waits for the bot.
    harness.onDispatch = (payload) =>
      answered.push(answerAsDiscordJs(payload, JSON.stringify({ type: 4, data: { content: "grid" } })));
    const sent = await harness.post(interaction(2, { data: { name: "imagine", type: 1 } }));
    expect(JSON.parse(sent.text)).toEqual({ type: 5 });
    expect((await answered[0])?.status).toBe(204);
    const payload = harness.dispatched[0] as Record<string, unknown>;
    expect(harness.outgoing.map(({ method, url }) => `${method} ${url}`)).toEqual([
      `PATCH http://discord.invalid/api/v10/webhooks/${applicationId}/${payload.token}/messages/%40original`,
    ]);
  });

  it("leaves other commands to the bot's own first answer", async () => {
    harness.onDispatch = (payload) =>
      void answerAsDiscordJs(payload, JSON.stringify({ type: 4, data: { content: "settings" } }));
    const sent = await harness.post(interaction(2, { data: { name: "settings", type: 1 } }));
    expect(JSON.parse(sent.text)).toEqual({ type: 4, data: { content: "settings" } });
  });

  it("sends a late public reply as an edit of the deferred message, with the message for with_response", async () => {
    await harness.post(interaction(2));
    const payload = harness.dispatched[0] as Record<string, unknown>;
    const late = await answerAsDiscordJs(
      payload,
      JSON.stringify({ type: 4, data: { content: "grid" } }),
      "?with_response=true",
    );
    expect(harness.outgoing.map(({ method }) => method)).toEqual(["PATCH"]);
    expect(await late.json()).toMatchObject({
      interaction: { id: payload.id, response_message_id: "300000000000000003" },
      resource: { type: 4, message: { id: "300000000000000003" } },
    });
  });
});

describe("when the shared replay memory (Redis) is away", () => {
  it("acts on nothing and tells the person privately, in their language, to try again", async () => {
    const dispatched: unknown[] = [];
    const route = interactionEndpoint({
      check: createSignatureCheck({
        publicKey: keys.publicKey,
        replays: { firstTime: () => Promise.reject(new Error("Connection is closed.")) },
      }),
      handOff: (payload) => {
        dispatched.push(payload);
        throw new Error("a replay-unchecked interaction reached the bot");
      },
      logger: silentLogger,
    });
    const away = createServer((request, response) => void route(request, response));
    await new Promise<void>((resolve) => away.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = away.address() as { port: number };
      const body = JSON.stringify({
        id: "200000000000000002",
        token: "tok",
        application_id: applicationId,
        type: 2,
        locale: "fr",
        data: { name: "imagine" },
      });
      const answer = await fetch(`http://127.0.0.1:${port}/interactions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...harness.signed(body) },
        body,
      });
      expect(answer.status).toBe(200);
      const json = (await answer.json()) as { type: number; data: { content: string; flags: number } };
      expect(json.type).toBe(4);
      expect(json.data.flags).toBe(64);
      expect(json.data.content).toContain("Atelier ne peut pas joindre sa base de données");
      expect(dispatched).toEqual([]);
    } finally {
      await new Promise((resolve) => away.close(resolve));
    }
  });
});
