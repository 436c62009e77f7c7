import {
  type APIEmbed,
  type APIMessage,
  type APIMessageInteraction,
  type APIMessageInteractionMetadata,
  type APIMessageReference,
  type APIMessageTopLevelComponent,
  type APIUser,
  MessageFlags,
  type MessageType,
} from "discord-api-types/v10";
import type { ChangeFeed } from "./change-feed.ts";
import { buildApiMessage } from "./payloads.ts";
import type { SnowflakeFactory } from "./snowflake.ts";

/** An uploaded file as the fake keeps it: bytes plus the URL the fake serves it from. */
export interface StoredAttachment {
  id: string;
  channelId: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  bytes: Buffer;
  url: string;
}

/** Who changed a message: lets tests tell interaction-token edits from bot-token edits. */
export type ChangeSource = "interaction-callback" | "interaction-webhook" | "bot-token";

/** A snapshot of a message after one create or edit (for pacing and history assertions). */
export interface MessageRevision {
  kind: "create" | "edit";
  at: number;
  source: ChangeSource;
  content: string;
  components: APIMessageTopLevelComponent[];
  embeds: APIEmbed[];
  attachmentIds: string[];
  flags: number;
}

export interface StoredMessage {
  id: string;
  channelId: string;
  type: MessageType;
  author: APIUser;
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: StoredAttachment[];
  flags: number;
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
  webhookId: string | undefined;
  applicationId: string | undefined;
  interactionId: string | undefined;
  interactionMetadata: APIMessageInteractionMetadata | undefined;
  legacyInteraction: APIMessageInteraction | undefined;
  messageReference: APIMessageReference | undefined;
  history: MessageRevision[];
}

/** Test-facing, read-only view of a message's current state. */
export interface FakeMessage {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  components: APIMessageTopLevelComponent[];
  embeds: APIEmbed[];
  attachments: FakeAttachment[];
  flags: number;
  ephemeral: boolean;
  /** Deferred ("Bot is thinking…") and not edited yet. */
  loading: boolean;
  deleted: boolean;
  /** Id of the interaction this message answers, when it came from one. */
  interactionId: string | undefined;
  createdAt: number;
  editCount: number;
  /** Edits only (the creation is `history[0]`). */
  edits: MessageRevision[];
  history: MessageRevision[];
  /** Exactly what the fake answers on the REST API for this message. */
  api: APIMessage;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  size: number;
  url: string;
  bytes: Buffer;
}

export type NewMessage = Pick<
  StoredMessage,
  "channelId" | "type" | "author" | "content" | "embeds" | "components"
> &
  Partial<
    Pick<
      StoredMessage,
      | "attachments"
      | "flags"
      | "webhookId"
      | "applicationId"
      | "interactionId"
      | "interactionMetadata"
      | "legacyInteraction"
      | "messageReference"
    >
  >;

/** Fields an edit may change; absent fields stay as they are. */
export interface MessagePatch {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIMessageTopLevelComponent[];
  attachments?: StoredAttachment[];
  flags?: number;
}

export interface NewAttachment {
  channelId: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  bytes: Buffer;
}

/** Every message and attachment the fake knows, with change notifications for `waitFor`. */
export class MessageStore {
  readonly #messages = new Map<string, StoredMessage>();
  readonly #attachments = new Map<string, StoredAttachment>();
  readonly #ids: SnowflakeFactory;
  readonly #feed: ChangeFeed;
  readonly #attachmentBaseUrl: string;

  constructor(ids: SnowflakeFactory, feed: ChangeFeed, attachmentBaseUrl: string) {
    this.#ids = ids;
    this.#feed = feed;
    this.#attachmentBaseUrl = attachmentBaseUrl;
  }

  saveAttachment(file: NewAttachment): StoredAttachment {
    const id = this.#ids.next();
    const url = `${this.#attachmentBaseUrl}/${file.channelId}/${id}/${encodeURIComponent(file.filename)}`;
    const attachment: StoredAttachment = { id, url, ...file };
    this.#attachments.set(id, attachment);
    return attachment;
  }

  attachment(id: string): StoredAttachment | undefined {
    return this.#attachments.get(id);
  }

  create(init: NewMessage, source: ChangeSource): StoredMessage {
    const now = Date.now();
    const message: StoredMessage = {
      id: this.#ids.next(),
      attachments: [],
      flags: 0,
      webhookId: undefined,
      applicationId: undefined,
      interactionId: undefined,
      interactionMetadata: undefined,
      legacyInteraction: undefined,
      messageReference: undefined,
      ...init,
      createdAt: now,
      editedAt: null,
      deleted: false,
      history: [],
    };
    message.history.push(snapshot(message, "create", source, now));
    this.#messages.set(message.id, message);
    this.#feed.notify();
    return message;
  }

  edit(message: StoredMessage, patch: MessagePatch, source: ChangeSource): StoredMessage {
    const now = Date.now();
    if (patch.content !== undefined) message.content = patch.content;
    if (patch.embeds !== undefined) message.embeds = patch.embeds;
    if (patch.components !== undefined) message.components = patch.components;
    if (patch.attachments !== undefined) message.attachments = patch.attachments;
    if (patch.flags !== undefined) message.flags = patch.flags;
    message.editedAt = now;
    message.history.push(snapshot(message, "edit", source, now));
    this.#feed.notify();
    return message;
  }

  delete(message: StoredMessage): void {
    message.deleted = true;
    this.#feed.notify();
  }

  get(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** Live (not deleted) messages in creation order, optionally of one channel. */
  list(channelId?: string): StoredMessage[] {
    return [...this.#messages.values()].filter(
      (message) => !message.deleted && (channelId === undefined || message.channelId === channelId),
    );
  }
}

function snapshot(message: StoredMessage, kind: MessageRevision["kind"], source: ChangeSource, at: number) {
  return {
    kind,
    at,
    source,
    content: message.content,
    components: structuredClone(message.components),
    embeds: structuredClone(message.embeds),
    attachmentIds: message.attachments.map((attachment) => attachment.id),
    flags: message.flags,
  } satisfies MessageRevision;
}

export function toFakeMessage(message: StoredMessage): FakeMessage {
  const edits = message.history.filter((revision) => revision.kind === "edit");
  return {
    id: message.id,
    channelId: message.channelId,
    authorId: message.author.id,
    content: message.content,
    components: structuredClone(message.components),
    embeds: structuredClone(message.embeds),
    attachments: message.attachments.map(toFakeAttachment),
    flags: message.flags,
    ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
    loading: (message.flags & MessageFlags.Loading) !== 0,
    deleted: message.deleted,
    interactionId: message.interactionId,
    createdAt: message.createdAt,
    editCount: edits.length,
    edits,
    history: [...message.history],
    api: buildApiMessage(message),
  };
}

function toFakeAttachment(attachment: StoredAttachment): FakeAttachment {
  return {
    id: attachment.id,
    filename: attachment.filename,
    contentType: attachment.contentType,
    description: attachment.description,
    size: attachment.bytes.length,
    url: attachment.url,
    bytes: attachment.bytes,
  };
}
