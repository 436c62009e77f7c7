// `POST /interactions`: Discord's HTTP interactions endpoint. The signature is checked before
// anything else (401 otherwise, and nothing happens); PING is answered with PONG; a command that
// starts jobs may be answered "thinking…" here at once; any other interaction is handed to the
// bot, and its first answer (or the deferral at the deadline) is the response.
// Only discord-api-types here, not discord.js: this runs in the interaction front's own thread
// (interaction-front.ts), which loads as little as it can.
import type { IncomingMessage, ServerResponse } from "node:http";
import { InteractionResponseType, InteractionType, MessageFlags } from "discord-api-types/v10";
import { z } from "zod";
import { jobMessageText } from "../i18n/errors.ts";
import { languageOf } from "../i18n/index.ts";
import { jobText } from "../jobs/messages.ts";
import type { Logger } from "../log.ts";
import type { AwaitedAnswer, HttpAnswer, IncomingInteraction } from "./interaction-answers.ts";
import { type SignatureCheck, signatureHeader, timestampHeader } from "./interaction-signature.ts";

export type HttpRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/** A verified interaction as it came, with the fields that decide how it is answered. */
export type ReceivedInteraction = IncomingInteraction & {
  data?: { name?: string } & Record<string, unknown>;
  [field: string]: unknown;
};

/**
 * Hands a verified interaction to the bot and waits for its first answer; `answered` says the
 * endpoint has already answered it so (the bot's own answer then follows over the webhook).
 */
export type InteractionHandoff = (
  interaction: ReceivedInteraction,
  answered?: InteractionResponseType,
) => AwaitedAnswer;

export interface InteractionEndpointOptions {
  check: SignatureCheck;
  handOff: InteractionHandoff;
  /** Commands answered "thinking…" (public) by the endpoint itself, before the bot sees them. */
  thinkingCommands?: ReadonlySet<string>;
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
  data: z.looseObject({ name: z.string().optional() }).optional(),
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

function jsonAnswer(callback: unknown): HttpAnswer {
  return { contentType: "application/json", body: Buffer.from(JSON.stringify(callback)) };
}

const pong = jsonAnswer({ type: InteractionResponseType.Pong });
const thinking = jsonAnswer({ type: InteractionResponseType.DeferredChannelMessageWithSource });

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
  return jsonAnswer({
    type: InteractionResponseType.ChannelMessageWithSource,
    data: { content, flags: MessageFlags.Ephemeral },
  });
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
    const thinksAtOnce =
      parsed.type === InteractionType.ApplicationCommand &&
      options.thinkingCommands?.has(parsed.data?.name ?? "") === true;
    let awaited: AwaitedAnswer;
    try {
      awaited = options.handOff(
        parsed,
        thinksAtOnce ? InteractionResponseType.DeferredChannelMessageWithSource : undefined,
      );
    } catch (error) {
      logger.error("interaction could not be handed to the bot", { interactionId: parsed.id, error });
      plain(response, 500, "interaction failed");
      return;
    }
    awaited.settle(await send(response, 200, thinksAtOnce ? thinking : await awaited.first));
  };
}
