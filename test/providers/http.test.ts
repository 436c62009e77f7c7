// The shared HTTP client: backoff and Retry-After on an injected clock (no wall-clock waits), the
// create-vs-read retry rules, response validation and secret-free logging.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  backoffDelay,
  type Clock,
  createHttpClient,
  defaultRetryPolicy,
  type HttpClientOptions,
  parseRetryAfter,
  redactExcerpt,
} from "../../src/providers/http.ts";
import { ProviderError } from "../../src/providers/types.ts";
import { failure, recordingLogger } from "./support.ts";

const secret = "sk-live-0123456789abcdefSECRET";
const okSchema = z.object({ ok: z.literal(true) });

// --- a scripted server: each request takes the next scripted answer --------------------------------

type Script = (request: IncomingMessage, response: ServerResponse) => void;

interface Scripted {
  baseUrl: string;
  seen: { method: string; path: string; authorization?: string }[];
  queue: Script[];
}

let server: Server;
const scripted: Scripted = { baseUrl: "", seen: [], queue: [] };

const reply =
  (status: number, body: unknown, headers: Record<string, string> = {}): Script =>
  (_request, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  };

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      scripted.seen.push({
        method: request.method ?? "",
        path: request.url ?? "",
        authorization: request.headers.authorization,
      });
      const next = scripted.queue.shift() ?? reply(200, { ok: true });
      next(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  scripted.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  scripted.seen.length = 0;
  scripted.queue.length = 0;
});

/** A clock whose sleep returns at once and moves time forward, recording every wait. */
function fakeClock(start = Date.parse("2026-01-01T00:00:00Z"), random = 0.5) {
  const sleeps: number[] = [];
  let now = start;
  const clock: Clock = {
    now: () => now,
    random: () => random,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
    },
  };
  return { clock, sleeps };
}

function client(extra: Partial<HttpClientOptions> = {}, baseUrl = scripted.baseUrl) {
  const { clock, sleeps } = fakeClock();
  const { logger, lines } = recordingLogger();
  const http = createHttpClient({
    baseUrl,
    providerLabel: "TestAPI",
    headers: { authorization: `Bearer ${secret}` },
    secrets: [secret],
    logger,
    clock,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    ...extra,
  });
  return { http, sleeps, lines };
}

const get = { method: "GET", path: "/thing", schema: okSchema, idempotent: true } as const;
const create = {
  method: "POST",
  path: "/create",
  body: { a: 1 },
  schema: okSchema,
  idempotent: false,
} as const;

// --- pure helpers -----------------------------------------------------------------------------------

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(["2", "9"], now)).toBe(2000);
  });
  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
  });
});

describe("backoffDelay (full jitter)", () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
  it("stays below a ceiling that doubles per attempt and is capped", () => {
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(2, policy, () => 0.999)).toBe(199);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});

describe("redactExcerpt", () => {
  it("removes secrets, bearer tokens and key fields, on one short line", () => {
    const text = `{"authorization":"Bearer abc.def","key":"${secret}","api_key":"x1y2z3"}\n${"z".repeat(400)}`;
    const excerpt = redactExcerpt(text, [secret]);
    expect(excerpt).not.toContain(secret);
    expect(excerpt).not.toContain("abc.def");
    expect(excerpt).not.toContain("x1y2z3");
    expect(excerpt).not.toContain("\n");
    expect(excerpt.length).toBeLessThanOrEqual(200);
  });
});

// --- retry rules --------------------------------------------------------------------------------------

describe("reads", () => {
  it("retry 5xx and 429 with jittered exponential backoff, then succeed", async () => {
    scripted.queue.push(reply(503, {}), reply(429, {}), reply(502, {}));
    const { http, sleeps } = client();
    await expect(http.requestJson(get)).resolves.toEqual({ ok: true });
    expect(scripted.seen).toHaveLength(4);
    // random() = 0.5 of ceilings 100, 200, 400
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("give up after maxAttempts with the mapped error", async () => {
    for (let i = 0; i < 10; i += 1) scripted.queue.push(reply(503, {}));
    const { http, sleeps } = client({ retry: { maxAttempts: 3, baseDelayMs: 10 } });
    const error = await failure(http.requestJson(get));
    expect(error.kind).toBe("transient");
    expect(scripted.seen).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("stop when the next wait would pass the total time budget", async () => {
    for (let i = 0; i < 10; i += 1) scripted.queue.push(reply(429, {}, { "retry-after": "4" }));
    const { http, sleeps } = client({ retry: { maxAttempts: 10, maxTotalMs: 10_000 } });
    await failure(http.requestJson(get));
    expect(sleeps).toEqual([4000, 4000]);
    expect(scripted.seen).toHaveLength(3);
  });

  it("honour Retry-After as an HTTP date, capped", async () => {
    scripted.queue.push(
      reply(429, {}, { "retry-after": "Thu, 01 Jan 2026 00:00:06 GMT" }),
      reply(503, {}, { "retry-after": "3600" }),
    );
    const { http, sleeps } = client({ retry: { maxRetryAfterMs: 15_000, maxTotalMs: 60_000 } });
    await expect(http.requestJson(get)).resolves.toEqual({ ok: true });
    expect(sleeps).toEqual([6000, 15_000]);
  });

  it("do not retry a 4xx", async () => {
    scripted.queue.push(reply(404, { error: "nope" }));
    const { http, sleeps } = client();
    const error = await failure(http.requestJson(get));
    expect(error.kind).toBe("invalid");
    expect(sleeps).toEqual([]);
  });

  it("stop waiting when aborted", async () => {
    scripted.queue.push(reply(503, {}));
    const controller = new AbortController();
    const http = createHttpClient({
      baseUrl: scripted.baseUrl,
      providerLabel: "TestAPI",
      clock: {
        sleep: async () => {
          controller.abort(new Error("job cancelled"));
          controller.signal.throwIfAborted();
        },
      },
    });
    await expect(http.requestJson({ ...get, signal: controller.signal })).rejects.toThrow("job cancelled");
    expect(scripted.seen).toHaveLength(1);
  });
});

describe("creates", () => {
  it("retry 429 after Retry-After seconds, and 503", async () => {
    scripted.queue.push(reply(429, {}, { "retry-after": "2" }), reply(503, {}));
    const { http, sleeps } = client();
    await expect(http.requestJson(create)).resolves.toEqual({ ok: true });
    expect(scripted.seen.filter((request) => request.method === "POST")).toHaveLength(3);
    expect(sleeps).toEqual([2000, 100]);
  });

  it("never retry a 500: it may have been processed", async () => {
    scripted.queue.push(reply(500, {}));
    const { http, sleeps } = client();
    const error = await failure(http.requestJson(create));
    expect(error.kind).toBe("transient");
    expect(error.maybeSubmitted).toBe(true);
    expect(error.message).toMatch(/may have started/);
    expect(error.message).toMatch(/re-run/);
    expect(scripted.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("never retry a 400 and say it was not submitted", async () => {
    scripted.queue.push(reply(400, { error: "bad" }));
    const { http } = client();
    const error = await failure(http.requestJson(create));
    expect(error.kind).toBe("invalid");
    expect(error.maybeSubmitted).toBe(false);
    expect(scripted.seen).toHaveLength(1);
  });

  it("retry a refused connection (nothing was sent), then fail as not submitted", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { http, sleeps } = client({ retry: { maxAttempts: 3 } }, `http://127.0.0.1:${port}`);
    const error = await failure(http.requestJson(create));
    expect(error.kind).toBe("transient");
    expect(error.code).toBe("ECONNREFUSED");
    expect(error.maybeSubmitted).toBe(false);
    expect(sleeps).toHaveLength(2);
  });

  it("treat a reset connection after sending as maybe submitted", async () => {
    scripted.queue.push((_request, response) => response.socket?.destroy());
    const { http, sleeps } = client();
    const error = await failure(http.requestJson(create));
    expect(error.maybeSubmitted).toBe(true);
    expect(sleeps).toEqual([]);
    expect(scripted.seen).toHaveLength(1);
  });
});

describe("responses", () => {
  it("keep the base URL's path prefix and send default headers", async () => {
    const { http } = client({}, `${scripted.baseUrl}/mj/`);
    await http.requestJson(get);
    expect(scripted.seen[0]?.path).toBe("/mj/thing");
    expect(scripted.seen[0]?.authorization).toBe(`Bearer ${secret}`);
  });

  it("map a schema mismatch to internal with one secret-free, short log line", async () => {
    scripted.queue.push(reply(200, { ok: "yes", echo: `Bearer ${secret}`, padding: "p".repeat(500) }));
    const { http, lines } = client();
    const error = await failure(http.requestJson(get));
    expect(error.kind).toBe("internal");
    const warnings = lines.filter((line) => line.startsWith("WARN"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain(secret);
    const excerpt = JSON.parse(warnings[0]?.slice(warnings[0].indexOf("{")) ?? "{}").excerpt as string;
    expect(excerpt.length).toBeLessThanOrEqual(200);
  });

  it("retry a malformed or cut-off read like a 5xx, then succeed", async () => {
    scripted.queue.push(reply(200, "{not json"), reply(200, '{"ok": tr'));
    const { http, lines, sleeps } = client();
    await expect(http.requestJson(get)).resolves.toEqual({ ok: true });
    expect(scripted.seen).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(lines.filter((line) => line.startsWith("WARN"))).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(secret);
  });

  it("give up on a read that stays unreadable as transient, so a tracker waits it out", async () => {
    for (let i = 0; i < 10; i += 1) scripted.queue.push(reply(200, '{"ok": tr'));
    const { http } = client({ retry: { maxAttempts: 3 } });
    const error = await failure(http.requestJson(get));
    expect(error).toMatchObject({ kind: "transient", code: "unreadable_response", maybeSubmitted: false });
    expect(scripted.seen).toHaveLength(3);
  });

  it("never re-send a create whose answer is malformed: internal, maybe submitted", async () => {
    scripted.queue.push(reply(200, "{not json"));
    const { http, lines, sleeps } = client();
    const createError = await failure(http.requestJson(create));
    expect(createError.kind).toBe("internal");
    expect(createError.maybeSubmitted).toBe(true);
    expect(scripted.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(lines.join("\n")).not.toContain(secret);
  });

  it("read an empty body as null and let the schema decide", async () => {
    scripted.queue.push(reply(200, ""), reply(200, ""));
    const { http, sleeps } = client();
    await expect(http.requestJson({ ...get, schema: okSchema.nullable() })).resolves.toBeNull();
    expect((await failure(http.requestJson(get))).kind).toBe("internal");
    expect(sleeps).toEqual([]);
  });

  it("let the adapter name the error", async () => {
    scripted.queue.push(reply(402, { error: { code: "broke" } }));
    const { http } = client({
      mapHttpError: (response) =>
        new ProviderError("quota", `top up (${(response.body as { error: { code: string } }).error.code})`),
    });
    const error = await failure(http.requestJson(get));
    expect(error.kind).toBe("quota");
    expect(error.message).toBe("top up (broke)");
  });
});
