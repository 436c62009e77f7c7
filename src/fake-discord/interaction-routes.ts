import {
  type APIApplicationCommandInteractionMetadata,
  type APIMessageComponentInteractionMetadata,
  type APIMessageInteractionMetadata,
  type APIModalInteractionResponseCallbackComponent,
  type APIModalInteractionResponseCallbackData,
  ApplicationIntegrationType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
  type RESTPostAPIInteractionCallbackWithResponseResult,
} from "discord-api-types/v10";
import { z } from "zod";
import type { FakeContext } from "./context.ts";
import {
  alreadyAcknowledged,
  badRequest,
  ErrorCollector,
  invalidFormBody,
  invalidWebhookToken,
  unknownInteraction,
  unknownMessage,
  unknownWebhook,
} from "./errors.ts";
import { isRecord } from "./guards.ts";
import type { CallbackTransport, InteractionRecord } from "./interactions.ts";
import type { NewMessage, StoredMessage } from "./message-store.ts";
import type { ParsedBody, UploadedFile } from "./multipart.ts";
import { buildApiMessage, guildOfChannel } from "./payloads.ts";
import { noContent, ok, type Route, type RouteRequest, type RouteResponse, route } from "./router.ts";

const callbackSchema = z.looseObject({
  type: z.enum(InteractionResponseType),
  data: z.unknown().optional(),
});

const modalSchema = z.looseObject({
  custom_id: z.string().min(1).max(100),
  title: z.string().min(1).max(45),
  components: z
    .array(z.custom<APIModalInteractionResponseCallbackComponent>((value) => isRecord(value)))
    .min(1)
    .max(5),
});

/** `POST /interactions/{id}/{token}/callback` and the interaction webhook (`/webhooks/{app}/{token}…`). */
export function interactionRoutes(context: FakeContext, callbacks: InteractionCallbacks): Route[] {
  const webhooks = new InteractionWebhooks(context);
  return [
    route("POST", "/interactions/:interactionId/:token/callback", "none", (request) =>
      callbacks.respond(request),
    ),
    route("POST", "/webhooks/:applicationId/:token", "none", (request) => webhooks.followUp(request)),
    route("GET", "/webhooks/:applicationId/:token/messages/:messageId", "none", (request) =>
      webhooks.get(request),
    ),
    route("PATCH", "/webhooks/:applicationId/:token/messages/:messageId", "none", (request) =>
      webhooks.edit(request),
    ),
    route("DELETE", "/webhooks/:applicationId/:token/messages/:messageId", "none", (request) =>
      webhooks.delete(request),
    ),
  ];
}

/**
 * An interaction's first answer, however it came: a `POST /interactions/{id}/{token}/callback`, or
 * the response to the interaction Discord POSTed to the bot's endpoint (HTTP interactions).
 */
export class InteractionCallbacks {
  readonly #context: FakeContext;

  constructor(context: FakeContext) {
    this.#context = context;
  }

  respond(request: RouteRequest): RouteResponse {
    const { interactionId, token } = request.params;
    const record = interactionId === undefined ? undefined : this.#context.interactions.byId(interactionId);
    if (!record || record.token !== token) throw unknownInteraction();
    const { type, message } = this.accept(record, request.body, "rest");
    if (request.query.get("with_response") !== "true") return noContent();
    return ok(callbackResponse(record, type, message));
  }

  /**
   * Takes `body` as the interaction's answer if it may still be answered; returns the message it
   * made. `at`: when the answer arrived, if timed elsewhere than on this thread.
   */
  accept(
    record: InteractionRecord,
    body: ParsedBody,
    via: CallbackTransport,
    at = Date.now(),
  ): { type: InteractionResponseType; message: StoredMessage | undefined } {
    this.#checkAccepting(record);
    const callback = parseCallback(body.json);
    const message = this.#apply(record, callback.type, callback.data, body.files);
    record.callbacks.push({
      type: callback.type,
      data: callback.data,
      files: body.files,
      at,
      via,
    });
    this.#context.interactions.changed();
    return { type: callback.type, message };
  }

  /** The interaction may still be answered: fresh, not yet acknowledged. */
  #checkAccepting(record: InteractionRecord): void {
    if (record.tokenExpired) throw unknownInteraction();
    const { enforceThreeSeconds, responseDeadlineMs } = this.#context.settings;
    if (enforceThreeSeconds && Date.now() - record.createdAt > responseDeadlineMs) throw unknownInteraction();
    if (record.callbacks.length > 0) throw alreadyAcknowledged();
  }

  /** Applies one callback type; returns the message it created or updated, if any. */
  #apply(
    record: InteractionRecord,
    type: InteractionResponseType,
    data: unknown,
    files: UploadedFile[],
  ): StoredMessage | undefined {
    const { writer } = this.#context;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        return this.#setOriginal(
          record,
          writer.create(data, files, this.#replyOptions(record), "interaction-callback"),
        );
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        const flags = isRecord(data) && typeof data.flags === "number" ? data.flags : 0;
        const options = { ...this.#replyOptions(record), allowEmpty: true, extraFlags: MessageFlags.Loading };
        return this.#setOriginal(record, writer.create({ flags }, [], options, "interaction-callback"));
      }
      case InteractionResponseType.DeferredMessageUpdate:
        return this.#setOriginal(record, this.#sourceMessage(record));
      case InteractionResponseType.UpdateMessage: {
        const source = this.#sourceMessage(record);
        return this.#setOriginal(record, writer.edit(source, data, files, "interaction-callback"));
      }
      case InteractionResponseType.Modal:
        if (record.type === InteractionType.ModalSubmit) {
          throw badRequest("type", "INTERACTION_RESPONSE_TYPE_INVALID", "A modal cannot open another modal");
        }
        record.modal = parseModal(data);
        return undefined;
      default:
        throw badRequest(
          "type",
          "INTERACTION_RESPONSE_TYPE_INVALID",
          `Response type ${type} is not valid here`,
        );
    }
  }

  #replyOptions(record: InteractionRecord) {
    return { init: interactionMessageInit(this.#context, record, "original") };
  }

  #sourceMessage(record: InteractionRecord): StoredMessage {
    const message =
      record.sourceMessageId === undefined ? undefined : this.#context.store.get(record.sourceMessageId);
    if (!message || message.deleted) {
      throw badRequest(
        "type",
        "INTERACTION_RESPONSE_TYPE_INVALID",
        "This interaction has no message to update",
      );
    }
    return message;
  }

  #setOriginal(record: InteractionRecord, message: StoredMessage): StoredMessage {
    record.originalMessageId = message.id;
    return message;
  }
}

class InteractionWebhooks {
  readonly #context: FakeContext;

  constructor(context: FakeContext) {
    this.#context = context;
  }

  async get(request: RouteRequest): Promise<RouteResponse> {
    const record = await this.#webhookRecord(request);
    return ok(buildApiMessage(this.#ownMessage(record, request.params.messageId)));
  }

  async edit(request: RouteRequest): Promise<RouteResponse> {
    const record = await this.#webhookRecord(request);
    const message = this.#ownMessage(record, request.params.messageId);
    const { json, files } = request.body;
    return ok(buildApiMessage(this.#context.writer.edit(message, json, files, "interaction-webhook")));
  }

  async delete(request: RouteRequest): Promise<RouteResponse> {
    const record = await this.#webhookRecord(request);
    this.#context.store.delete(this.#ownMessage(record, request.params.messageId));
    return noContent();
  }

  /**
   * Follow-up message. As on Discord, the first follow-up after a deferred reply that was never edited
   * replaces the "thinking…" message instead of creating a new one.
   */
  async followUp(request: RouteRequest): Promise<RouteResponse> {
    const record = await this.#webhookRecord(request);
    const { json, files } = request.body;
    const message = this.#pendingDeferredReply(record)
      ? this.#context.writer.edit(this.#ownMessage(record, "@original"), json, files, "interaction-webhook")
      : this.#createFollowUp(record, json, files);
    this.#context.interactions.changed();
    return request.query.get("wait") === "true" ? ok(buildApiMessage(message)) : noContent();
  }

  #createFollowUp(record: InteractionRecord, json: unknown, files: UploadedFile[]): StoredMessage {
    const init = interactionMessageInit(this.#context, record, "follow-up");
    const message = this.#context.writer.create(json, files, { init }, "interaction-webhook");
    record.followUpIds.push(message.id);
    return message;
  }

  #pendingDeferredReply(record: InteractionRecord): boolean {
    const deferred = record.callbacks[0]?.type === InteractionResponseType.DeferredChannelMessageWithSource;
    const original =
      record.originalMessageId === undefined ? undefined : this.#context.store.get(record.originalMessageId);
    return (
      deferred && original !== undefined && !original.deleted && (original.flags & MessageFlags.Loading) !== 0
    );
  }

  /** The interaction behind a webhook URL; 401/50027 for unknown or expired tokens like Discord. */
  async #webhookRecord(request: RouteRequest): Promise<InteractionRecord> {
    if (request.params.applicationId !== this.#context.world.applicationId) throw unknownWebhook();
    const token = request.params.token;
    const record = token === undefined ? undefined : this.#context.interactions.byToken(token);
    if (!record || record.tokenExpired) throw invalidWebhookToken();
    // An answer still arriving as an HTTP response is taken before the webhook it opens is used.
    await record.answering;
    // The webhook only exists once the interaction has been acknowledged.
    if (record.callbacks.length === 0) throw unknownWebhook();
    return record;
  }

  /** `@original` or one of this interaction's follow-ups; anything else is 10008 Unknown Message. */
  #ownMessage(record: InteractionRecord, messageId: string | undefined): StoredMessage {
    const id = messageId === "@original" ? record.originalMessageId : messageId;
    const belongs = id !== undefined && (id === record.originalMessageId || record.followUpIds.includes(id));
    const message = belongs ? this.#context.store.get(id) : undefined;
    if (!message || message.deleted) throw unknownMessage();
    return message;
  }
}

function parseCallback(json: unknown): z.infer<typeof callbackSchema> {
  const parsed = callbackSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw badRequest("type", "BASE_TYPE_CHOICES", "Value must be one of the interaction response types.");
}

function parseModal(data: unknown): APIModalInteractionResponseCallbackData {
  const parsed = modalSchema.safeParse(data);
  if (parsed.success) {
    const { custom_id, title, components } = parsed.data;
    return { custom_id, title, components };
  }
  const errors = new ErrorCollector();
  for (const issue of parsed.error.issues)
    errors.add(["data", ...issue.path.map(String)], "BASE_TYPE_INVALID", issue.message);
  throw invalidFormBody(errors.tree);
}

function callbackResponse(
  record: InteractionRecord,
  type: InteractionResponseType,
  message: StoredMessage | undefined,
): RESTPostAPIInteractionCallbackWithResponseResult {
  return {
    interaction: {
      id: record.id,
      type: record.type,
      ...(message === undefined
        ? {}
        : {
            response_message_id: message.id,
            response_message_loading: (message.flags & MessageFlags.Loading) !== 0,
            response_message_ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
          }),
    },
    resource: { type, ...(message === undefined ? {} : { message: buildApiMessage(message) }) },
  };
}

type InteractionMessageInit = Omit<NewMessage, "content" | "embeds" | "components" | "attachments" | "flags">;

/** Author, type and interaction metadata of a message sent through an interaction. */
function interactionMessageInit(
  context: FakeContext,
  record: InteractionRecord,
  role: "original" | "follow-up",
): InteractionMessageInit {
  const { world } = context;
  const guildId = guildOfChannel(world, record.channelId)?.id ?? world.guildId;
  const metadata = interactionMetadata(guildId, record);
  const isCommandReply = role === "original" && record.type === InteractionType.ApplicationCommand;
  return {
    channelId: record.channelId,
    // Slash-command responses are CHAT_INPUT_COMMAND messages; other interaction messages are plain.
    type: isCommandReply ? MessageType.ChatInputCommand : MessageType.Default,
    author: world.botUser,
    webhookId: world.applicationId,
    applicationId: world.applicationId,
    interactionId: record.id,
    interactionMetadata:
      role === "follow-up" && record.originalMessageId !== undefined
        ? { ...metadata, original_response_message_id: record.originalMessageId }
        : metadata,
    legacyInteraction: { id: record.id, type: record.type, name: record.commandName, user: record.user },
  };
}

/** `message.interaction_metadata`: how the bot (e.g. `message.interactionMetadata.user`) finds the requester. */
function interactionMetadata(guildId: string, record: InteractionRecord): APIMessageInteractionMetadata {
  const base = {
    id: record.id,
    user: record.user,
    authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId },
  };
  switch (record.type) {
    case InteractionType.MessageComponent:
      return {
        ...base,
        type: InteractionType.MessageComponent,
        interacted_message_id: record.sourceMessageId ?? "",
      };
    case InteractionType.ModalSubmit:
      return {
        ...base,
        type: InteractionType.ModalSubmit,
        triggering_interaction_metadata: triggeringMetadata(guildId, record),
      };
    default:
      return { ...base, type: InteractionType.ApplicationCommand };
  }
}

function triggeringMetadata(
  guildId: string,
  record: InteractionRecord,
): APIApplicationCommandInteractionMetadata | APIMessageComponentInteractionMetadata {
  const opener = record.openedBy ? interactionMetadata(guildId, record.openedBy) : undefined;
  if (opener && opener.type !== InteractionType.ModalSubmit) return opener;
  // Unknown opener: describe it as the slash command it most likely was.
  return {
    id: record.id,
    type: InteractionType.ApplicationCommand,
    user: record.user,
    authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId },
  };
}
