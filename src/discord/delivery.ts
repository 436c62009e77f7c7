// Getting a view onto the user's message whatever happened in between: the interaction token
// while it lives (15 minutes), then the bot token, and when even that cannot edit the message,
// a new message that replies to the original.
import { DiscordAPIError, type RawFile, type REST, Routes } from "discord.js";
import { z } from "zod";
import type { Logger } from "../log.ts";
import type { MessageView } from "./views.ts";

export const deliverySchema = z.object({
  applicationId: z.string(),
  channelId: z.string(),
  messageId: z.string().optional(),
  token: z.string().optional(),
  tokenIssuedAt: z.number().optional(),
});
export type Delivery = z.infer<typeof deliverySchema>;

export interface OutgoingFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface OutgoingMessage extends MessageView {
  file?: OutgoingFile;
}

export interface DeliveryOptions {
  /**
   * REST client for interaction-token routes. Discord does not count those against the bot's global
   * rate limit, but discord.js would: a client of their own keeps progress edits of many jobs from
   * queueing behind a 50/s cap meant for bot-token calls. Defaults to the bot's client.
   */
  interactionRest?: REST;
  /** Interaction tokens live 15 minutes; stop using them a little before. */
  tokenLifetimeMs?: number;
  now?: () => number;
  logger: Logger;
}

/** The job's channel cannot take a message (deleted, or the bot lost access): retrying will not help. */
export class MessageUnreachableError extends Error {
  override readonly name = "MessageUnreachableError";
}

/** Unknown Channel, Missing Access, Missing Permissions. */
const unreachableChannelCodes = new Set([10003, 50001, 50013]);

const expiredTokenCodes = new Set([50027, 10015]);
const cannotEditCodes = new Set([10008, 50001, 50013, 50005]);

function apiCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === "number" ? error.code : undefined;
}

function isExpiredToken(error: unknown): boolean {
  const code = apiCode(error);
  return (
    (code !== undefined && expiredTokenCodes.has(code)) ||
    (error instanceof DiscordAPIError && error.status === 401)
  );
}

function isUneditable(error: unknown): boolean {
  const code = apiCode(error);
  return (
    (code !== undefined && cannotEditCodes.has(code)) ||
    (error instanceof DiscordAPIError && error.status === 403)
  );
}

function requestBody(message: OutgoingMessage) {
  const body = {
    content: message.content,
    components: message.components,
    embeds: message.embeds,
    ...(message.file ? { attachments: [{ id: 0, filename: message.file.name }] } : {}),
  };
  const files: RawFile[] | undefined = message.file
    ? [{ name: message.file.name, data: message.file.data, contentType: message.file.contentType }]
    : undefined;
  return { body, files };
}

export class MessageDelivery {
  private readonly tokenLifetimeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly rest: REST,
    private readonly options: DeliveryOptions,
  ) {
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 14 * 60_000 + 30_000;
    this.now = options.now ?? Date.now;
  }

  private tokenUsable(delivery: Delivery): delivery is Delivery & { token: string } {
    return (
      delivery.token !== undefined &&
      delivery.tokenIssuedAt !== undefined &&
      this.now() - delivery.tokenIssuedAt < this.tokenLifetimeMs
    );
  }

  /** Edits the job's message; returns the delivery to use from now on (it changes when a new message was posted). */
  async edit(delivery: Delivery, message: OutgoingMessage): Promise<Delivery> {
    const { body, files } = requestBody(message);
    if (this.tokenUsable(delivery)) {
      try {
        const route = Routes.webhookMessage(
          delivery.applicationId,
          delivery.token,
          delivery.messageId ?? "@original",
        );
        await (this.options.interactionRest ?? this.rest).patch(route, { body, files, auth: false });
        return delivery;
      } catch (error) {
        if (isUneditable(error))
          return this.postReply({ ...delivery, token: undefined, tokenIssuedAt: undefined }, message);
        if (!isExpiredToken(error)) throw error;
        this.options.logger.debug("interaction token expired; editing with the bot token", {
          message: delivery.messageId,
        });
      }
    }
    const withoutToken: Delivery = { ...delivery, token: undefined, tokenIssuedAt: undefined };
    if (delivery.messageId) {
      try {
        await this.rest.patch(Routes.channelMessage(delivery.channelId, delivery.messageId), { body, files });
        return withoutToken;
      } catch (error) {
        if (!isUneditable(error)) throw error;
        this.options.logger.warn("cannot edit the job message; posting a reply instead", {
          channel: delivery.channelId,
          code: apiCode(error),
        });
      }
    }
    return this.postReply(withoutToken, message);
  }

  /** Posts a new message in the job's channel, replying to the original when there is one. */
  async postReply(delivery: Delivery, message: OutgoingMessage): Promise<Delivery> {
    const { body, files } = requestBody(message);
    const reference = delivery.messageId
      ? { message_reference: { message_id: delivery.messageId, fail_if_not_exists: false } }
      : {};
    let posted: { id: string };
    try {
      posted = (await this.rest.post(Routes.channelMessages(delivery.channelId), {
        body: { ...body, ...reference },
        files,
      })) as { id: string };
    } catch (error) {
      const code = apiCode(error);
      if (code !== undefined && unreachableChannelCodes.has(code))
        throw new MessageUnreachableError(`Channel ${delivery.channelId} cannot take messages.`, {
          cause: error,
        });
      throw error;
    }
    return { ...delivery, messageId: posted.id, token: undefined, tokenIssuedAt: undefined };
  }
}
