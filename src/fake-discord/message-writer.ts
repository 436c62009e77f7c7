import { MessageFlags } from "discord-api-types/v10";
import { emptyMessage } from "./errors.ts";
import {
  type MessageBody,
  parseMessageBody,
  resolveAttachments,
  validateMessageLimits,
  validateUploads,
} from "./message-body.ts";
import type {
  ChangeSource,
  MessagePatch,
  MessageStore,
  NewAttachment,
  NewMessage,
  StoredMessage,
} from "./message-store.ts";
import type { UploadedFile } from "./multipart.ts";

/** Flags a sender may set when creating a message (others are Discord-managed). */
const CREATE_FLAGS =
  MessageFlags.Ephemeral |
  MessageFlags.SuppressEmbeds |
  MessageFlags.SuppressNotifications |
  MessageFlags.IsComponentsV2;

export interface CreateOptions {
  /** Identity fields of the new message (type, author, interaction metadata…). */
  init: Omit<NewMessage, "content" | "embeds" | "components" | "attachments" | "flags">;
  /** Which of the body's flags to honour (channel messages cannot be ephemeral). */
  allowedFlags?: number;
  /** Flags the server adds itself (e.g. Loading for a deferred reply). */
  extraFlags?: number;
  /** A deferred reply starts empty; everything else must have content, embeds, components or files. */
  allowEmpty?: boolean;
}

/** Applies message create/edit bodies to the store with Discord's validation and attachment rules. */
export class MessageWriter {
  readonly #store: MessageStore;
  readonly #maxFileBytes: number;

  constructor(store: MessageStore, maxFileBytes: number) {
    this.#store = store;
    this.#maxFileBytes = maxFileBytes;
  }

  create(json: unknown, files: UploadedFile[], options: CreateOptions, source: ChangeSource): StoredMessage {
    const body = this.#validated(json, files);
    const channelId = options.init.channelId;
    const attachments =
      resolveAttachments(body, files, [], (file) => this.#store.saveAttachment({ ...file, channelId })) ?? [];
    const content = body.content ?? "";
    const embeds = body.embeds ?? [];
    const components = body.components ?? [];
    const isEmpty =
      content === "" && embeds.length === 0 && components.length === 0 && attachments.length === 0;
    if (isEmpty && !options.allowEmpty) throw emptyMessage();
    const flags = ((body.flags ?? 0) & (options.allowedFlags ?? CREATE_FLAGS)) | (options.extraFlags ?? 0);
    return this.#store.create({ ...options.init, content, embeds, components, attachments, flags }, source);
  }

  edit(message: StoredMessage, json: unknown, files: UploadedFile[], source: ChangeSource): StoredMessage {
    const body = this.#validated(json, files);
    const patch = this.#patchFrom(body, files, message);
    const isEmpty =
      (patch.content ?? message.content) === "" &&
      (patch.embeds ?? message.embeds).length === 0 &&
      (patch.components ?? message.components).length === 0 &&
      (patch.attachments ?? message.attachments).length === 0;
    if (isEmpty) throw emptyMessage();
    return this.#store.edit(message, patch, source);
  }

  #validated(json: unknown, files: UploadedFile[]): MessageBody {
    const body = parseMessageBody(json);
    validateMessageLimits(body);
    validateUploads(files, this.#maxFileBytes);
    return body;
  }

  #patchFrom(body: MessageBody, files: UploadedFile[], message: StoredMessage): MessagePatch {
    const channelId = message.channelId;
    const save = (file: Omit<NewAttachment, "channelId">) =>
      this.#store.saveAttachment({ ...file, channelId });
    // `null` clears a field, `undefined` (absent) leaves it alone.
    return {
      content: body.content === undefined ? undefined : (body.content ?? ""),
      embeds: body.embeds === undefined ? undefined : (body.embeds ?? []),
      components: body.components === undefined ? undefined : (body.components ?? []),
      attachments: resolveAttachments(body, files, message.attachments, save),
      flags: editedFlags(message.flags, body.flags),
    };
  }
}

function editedFlags(current: number, requested: number | null | undefined): number {
  // Any edit ends the "thinking…" state of a deferred reply; ephemeral stays as created.
  const kept = current & ~MessageFlags.Loading & ~MessageFlags.SuppressEmbeds;
  const suppressEmbeds = (requested ?? current) & MessageFlags.SuppressEmbeds;
  // Components v2 can be switched on by an edit, never off.
  const componentsV2 = (requested ?? 0) & MessageFlags.IsComponentsV2;
  return kept | suppressEmbeds | componentsV2;
}
