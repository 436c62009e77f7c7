import { MessageFlags, MessageType } from "discord-api-types/v10";
import type { FakeContext } from "./context.ts";
import { cannotEditOthersMessage, unknownChannel, unknownMessage } from "./errors.ts";
import { isRecord } from "./guards.ts";
import type { StoredMessage } from "./message-store.ts";
import { buildApiMessage, buildTextChannel, guildOfChannel } from "./payloads.ts";
import { noContent, ok, type Route, type RouteRequest, type RouteResponse, route } from "./router.ts";

/** Bot messages cannot be ephemeral; the rest of the create flags are honoured. */
const CHANNEL_MESSAGE_FLAGS =
  MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

/** Bot-token channel routes: the fallback once an interaction token has expired. */
export function channelRoutes(context: FakeContext): Route[] {
  const channels = new ChannelMessages(context);
  return [
    route("GET", "/channels/:channelId", "bot", (request) => channels.channel(request)),
    route("POST", "/channels/:channelId/messages", "bot", (request) => channels.create(request)),
    route("GET", "/channels/:channelId/messages/:messageId", "bot", (request) => channels.get(request)),
    route("PATCH", "/channels/:channelId/messages/:messageId", "bot", (request) => channels.edit(request)),
    route("DELETE", "/channels/:channelId/messages/:messageId", "bot", (request) => channels.delete(request)),
  ];
}

class ChannelMessages {
  readonly #context: FakeContext;

  constructor(context: FakeContext) {
    this.#context = context;
  }

  channel(request: RouteRequest): RouteResponse {
    const channelId = this.#knownChannel(request.params.channelId);
    return ok(buildTextChannel(this.#context.world, guildOfChannel(this.#context.world, channelId)));
  }

  create(request: RouteRequest): RouteResponse {
    const channelId = this.#knownChannel(request.params.channelId);
    const { json, files } = request.body;
    const reference = isRecord(json) && isRecord(json.message_reference) ? json.message_reference : undefined;
    const init = {
      channelId,
      type: reference ? MessageType.Reply : MessageType.Default,
      author: this.#context.world.botUser,
      // Discord answers a reply with the reference filled in (channel and guild added).
      ...(reference && typeof reference.message_id === "string"
        ? {
            messageReference: {
              type: 0,
              message_id: reference.message_id,
              channel_id: channelId,
              guild_id: guildOfChannel(this.#context.world, channelId)?.id,
            },
          }
        : {}),
    };
    const options = { init, allowedFlags: CHANNEL_MESSAGE_FLAGS };
    return ok(buildApiMessage(this.#context.writer.create(json, files, options, "bot-token")));
  }

  get(request: RouteRequest): RouteResponse {
    return ok(buildApiMessage(this.#visibleMessage(request)));
  }

  edit(request: RouteRequest): RouteResponse {
    const message = this.#visibleMessage(request);
    if (message.author.id !== this.#context.world.botUser.id) throw cannotEditOthersMessage();
    const { json, files } = request.body;
    return ok(buildApiMessage(this.#context.writer.edit(message, json, files, "bot-token")));
  }

  delete(request: RouteRequest): RouteResponse {
    this.#context.store.delete(this.#visibleMessage(request));
    return noContent();
  }

  #knownChannel(channelId: string | undefined): string {
    if (channelId === undefined || !guildOfChannel(this.#context.world, channelId)) throw unknownChannel();
    return channelId;
  }

  /** Ephemeral messages exist only for their interaction's webhook: the bot token gets 10008. */
  #visibleMessage(request: RouteRequest): StoredMessage {
    const channelId = this.#knownChannel(request.params.channelId);
    const id = request.params.messageId;
    const message = id === undefined ? undefined : this.#context.store.get(id);
    const visible =
      message !== undefined &&
      !message.deleted &&
      message.channelId === channelId &&
      (message.flags & MessageFlags.Ephemeral) === 0;
    if (!visible) throw unknownMessage();
    return message;
  }
}
