// `POST /interactions`: Discord's HTTP interactions endpoint. The signature is checked before
// anything else (401 otherwise, and nothing happens); PING is answered with PONG; any other
// interaction is handed to discord.js, and its first answer (or the deferral at the deadline)
// is the response.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type APIInteraction, InteractionResponseType, InteractionType, MessageFlags } from "discord.js";
import { z } from "zod";
import { jobMessageText } from "../i18n/errors.ts";
import { languageOf } from "../i18n/index.ts";
import { jobText } from "../jobs/messages.ts";
import type { Logger } from "../log.ts";
import type { HttpAnswer, InteractionAnswers } from "./interaction-answers.ts";
import { type SignatureCheck, signatureHeader, timestampHeader } from "./interaction-signature.ts";

export type HttpRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface InteractionEndpointOptions {
  check: SignatureCheck;
  answers: InteractionAnswers;
  /** Hands a verified interaction to discord.js, which builds it and emits `interactionCreate`. */
  dispatch(payload: APIInteraction): void;
  logger: Logger;
  /** Larger bodies are refused (413) unread. Default 1 MiB: interactions are small. */
  maxBodyBytes?: number;
}

const interactionSchema = z.looseObject({
  id: z.string().min(1),
  token: z.string().min(1),
  application_id: z.string().min(1),
  type: z.enum(InteractionType),
  message: z.unknown().optional(),
});

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Writes the answer; resolves with whether it was all handed over before the connection ended. */
function send(response: ServerResponse, status: number, answer: HttpAnswer): Promise<boolean> {
  // Discord hung up first (it waits 3 s): nothing reaches it, and no 'close' is coming.
  if (response.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    response.once("close", () => resolve(response.writableFinished));
    response
      .writeHead(status, { "content-type": answer.contentType, "content-length": String(answer.body.length) })
      .end(answer.body);
  });
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}

const pong: HttpAnswer = {
  contentType: "application/json",
  body: Buffer.from(JSON.stringify({ type: InteractionResponseType.Pong })),
};

/** PONG for a PING; otherwise a private "cannot reach its database, try again" in the person's language. */
function unavailableAnswer(body: Buffer): HttpAnswer {
  let payload: { type?: number; locale?: string } = {};
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    // Signed but unreadable: answer in English rather than not at all.
  }
  if (payload.type === InteractionType.Ping) return pong;
  const content = jobMessageText(jobText("database-away", {}), languageOf(payload.locale));
  return {
    contentType: "application/json",
    body: Buffer.from(
      JSON.stringify({
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { content, flags: MessageFlags.Ephemeral },
      }),
    ),
  };
}

export function interactionEndpoint(options: InteractionEndpointOptions): HttpRoute {
  const { logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return async (request, response) => {
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      plain(response.setHeader("connection", "close"), 413, "request body too large");
      return;
    }
    const verdict = await options.check({
      signature: request.headers[signatureHeader] as string | undefined,
      timestamp: request.headers[timestampHeader] as string | undefined,
      body,
    });
    if (!verdict.ok && verdict.unavailable) {
      // Genuine, but Redis (the replay memory) is away: act on nothing, and tell the person why.
      logger.warn("interaction not taken: the replay memory is unavailable", { reason: verdict.reason });
      await send(response, 200, unavailableAnswer(body));
      return;
    }
    if (!verdict.ok) {
      logger.warn("interaction refused", { reason: verdict.reason, from: request.socket.remoteAddress });
      plain(response, 401, "invalid request signature");
      return;
    }
    let parsed: z.infer<typeof interactionSchema>;
    try {
      parsed = interactionSchema.parse(JSON.parse(body.toString("utf8")));
    } catch (error) {
      logger.warn("signed interaction is not one Atelier can read", { error });
      plain(response, 400, "not an interaction");
      return;
    }
    if (parsed.type === InteractionType.Ping) {
      await send(response, 200, pong);
      return;
    }
    const awaited = options.answers.awaitAnswer(parsed);
    try {
      options.dispatch(parsed as unknown as APIInteraction);
    } catch (error) {
      awaited.cancel();
      logger.error("interaction could not be handed to discord.js", { interactionId: parsed.id, error });
      plain(response, 500, "interaction failed");
      return;
    }
    awaited.settle(await send(response, 200, await awaited.first));
  };
}
