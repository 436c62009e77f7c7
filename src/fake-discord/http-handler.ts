import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { ChangeFeed } from "./change-feed.ts";
import { DiscordHttpError, methodNotAllowed, routeNotFound, unauthorized } from "./errors.ts";
import type { FaultInjector } from "./faults.ts";
import type { MessageStore } from "./message-store.ts";
import { BodyParseError, type ParsedBody, parseRequestBody, type UploadedFile } from "./multipart.ts";
import type { Router } from "./router.ts";

export const API_PREFIX = "/api/v10";
export const ATTACHMENTS_PREFIX = "/attachments";

/** One REST call the bot made, for assertions. Tokens never appear in `headers`. */
export interface RecordedRequest {
  at: number;
  method: string;
  /** Decoded path without `/api/v10`, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** Path exactly as received (discord.js sends `@original` as `%40original`). */
  rawPath: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Whether a valid `Authorization: Bot <token>` header came with it. */
  botAuth: boolean;
  /** JSON body, or `payload_json` of a multipart body. */
  json: unknown;
  files: UploadedFile[];
  /** 0 until answered. */
  status: number;
  response: unknown;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpHandlerDeps {
  router: Router;
  faults: FaultInjector;
  botToken: string;
  store: MessageStore;
  feed: ChangeFeed;
  requests: RecordedRequest[];
  /** Unexpected exceptions inside the fake (bugs of the fake, not of the bot). */
  serverErrors: Error[];
}

/** The HTTP side of the fake: Discord's REST API under `/api/v10`, uploaded files under `/attachments`. */
export class HttpHandler {
  readonly #deps: HttpHandlerDeps;

  constructor(deps: HttpHandlerDeps) {
    this.#deps = deps;
  }

  /** Node `request` listener. */
  readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    this.#handle(request, response).catch((error: unknown) => {
      // A client hanging up mid-request (e.g. discord.js aborting on timeout) is not a fault of the fake.
      if (request.destroyed && !request.complete) return;
      this.#deps.serverErrors.push(error instanceof Error ? error : new Error(String(error)));
      if (!response.headersSent)
        writeReply(response, { status: 500, body: { code: 0, message: "500: fake crashed" } });
    });
  };

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(request);
    if (url.pathname.startsWith(`${ATTACHMENTS_PREFIX}/`)) {
      writeReply(response, this.#serveAttachment(url.pathname));
      return;
    }
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
      writeReply(response, errorReply(routeNotFound()));
      return;
    }
    const record = this.#record(request, url);
    const reply = await this.#answer(record, url, raw, request.headers["content-type"]);
    record.status = reply.status;
    record.response = reply.body;
    // Done, but the answer is held back (the connection stays open until the fake stops).
    if (this.#deps.faults.takeHold(record.method, record.path)) return this.#deps.feed.notify();
    writeReply(response, reply);
    this.#deps.feed.notify();
  }

  #record(request: IncomingMessage, url: URL): RecordedRequest {
    const record: RecordedRequest = {
      at: Date.now(),
      method: request.method ?? "GET",
      path: decodePath(url.pathname.slice(API_PREFIX.length)),
      rawPath: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headersWithoutTokens(request.headers),
      botAuth: request.headers.authorization === `Bot ${this.#deps.botToken}`,
      json: undefined,
      files: [],
      status: 0,
      response: undefined,
    };
    this.#deps.requests.push(record);
    return record;
  }

  async #answer(
    record: RecordedRequest,
    url: URL,
    raw: Buffer,
    contentType: string | undefined,
  ): Promise<Reply> {
    try {
      const body = await parseBody(raw, contentType);
      record.json = body.json;
      record.files = body.files;
      const match = this.#deps.router.match(record.method, record.path);
      if (match === undefined) throw routeNotFound();
      if (match === "method-not-allowed") throw methodNotAllowed();
      if (match.route.auth === "bot" && !record.botAuth) throw unauthorized();
      const fault = this.#deps.faults.take(record.method, record.path);
      if (fault) return fault;
      const { method, path } = record;
      return await match.route.handle({ method, path, params: match.params, query: url.searchParams, body });
    } catch (error) {
      if (error instanceof DiscordHttpError) return errorReply(error);
      throw error;
    }
  }

  #serveAttachment(pathname: string): Reply {
    // /attachments/{channelId}/{attachmentId}/{filename}
    const attachmentId = pathname.split("/")[3];
    const attachment = attachmentId === undefined ? undefined : this.#deps.store.attachment(attachmentId);
    if (!attachment) return { status: 404, body: Buffer.from("Not Found") };
    return {
      status: 200,
      headers: { "content-type": attachment.contentType ?? "application/octet-stream" },
      body: attachment.bytes,
    };
  }
}

async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  try {
    return await parseRequestBody(raw, contentType);
  } catch (error) {
    if (error instanceof BodyParseError) {
      throw new DiscordHttpError(400, { code: 50109, message: "The request body contains invalid JSON." });
    }
    throw error;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function decodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/");
}

function headersWithoutTokens(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === "authorization" || value === undefined) continue;
    result[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return result;
}

function errorReply(error: DiscordHttpError): Reply {
  return { status: error.status, body: error.body };
}

/** Buffers go out as they are (attachments); everything else as JSON. */
function writeReply(response: ServerResponse, reply: Reply): void {
  if (reply.status === 204 || reply.body === undefined) {
    response.writeHead(reply.status, reply.headers);
    response.end();
    return;
  }
  if (Buffer.isBuffer(reply.body)) {
    response.writeHead(reply.status, { "content-length": String(reply.body.length), ...reply.headers });
    response.end(reply.body);
    return;
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...reply.headers,
  });
  response.end(text);
}
