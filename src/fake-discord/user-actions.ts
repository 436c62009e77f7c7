// The user side of the fake: builds the INTERACTION_CREATE a person's slash command, button click or
// modal submission would cause, records it, and sends it to the connected bot.
import { randomBytes } from "node:crypto";
import {
  type APIApplicationCommand,
  type APIUser,
  ComponentType,
  GatewayDispatchEvents,
  GatewayOpcodes,
  InteractionType,
} from "discord-api-types/v10";
import type { FakeContext } from "./context.ts";
import type { GatewayServer } from "./gateway.ts";
import type { ButtonClickInput, FileInput, ModalSubmitInput, SlashCommandInput } from "./inputs.ts";
import {
  buildButtonInteraction,
  buildChatInputInteraction,
  buildCommandOptions,
  buildModalSubmitInteraction,
  declaredOptionsFor,
  type FakeInteractionPayload,
  nestInSubcommand,
} from "./interaction-payloads.ts";
import { InteractionHandle, type InteractionRecord } from "./interactions.ts";
import type { InteractionsEndpoint } from "./interactions-endpoint.ts";
import { visitComponents } from "./message-body.ts";
import type { StoredAttachment, StoredMessage } from "./message-store.ts";
import { submissionFor, submissionFromFields } from "./modal-submission.ts";
import { buildApiAttachment, buildApiMessage, type FakeGuild, guildOfChannel, guildsOf } from "./payloads.ts";

export interface UserActionsOptions {
  context: FakeContext;
  gateway: GatewayServer;
  /** Who acts when an input names no user. */
  defaultUser: APIUser;
  /** How long an action waits for a connected bot / registered command before failing. */
  dispatchTimeoutMs: number;
  /** Refuse slash commands the bot never registered (as Discord would). */
  requireRegisteredCommands: boolean;
  /** HTTP interactions: interactions go to the bot's endpoint, not over the gateway. */
  endpoint?: InteractionsEndpoint;
}

type InteractionIdentity = Pick<InteractionRecord, "id" | "token" | "type" | "user" | "commandName"> &
  Partial<Pick<InteractionRecord, "openedBy">>;

/** The handle tests hold on an interaction: its record plus the stores its answers land in. */
export function handleFor(context: FakeContext, record: InteractionRecord): InteractionHandle {
  return new InteractionHandle(record, context.store, context.interactions, context.feed);
}

export class UserActions {
  readonly #context: FakeContext;
  readonly #gateway: GatewayServer;
  readonly #defaultUser: APIUser;
  readonly #dispatchTimeoutMs: number;
  readonly #requireRegisteredCommands: boolean;
  readonly #endpoint: InteractionsEndpoint | undefined;

  constructor(options: UserActionsOptions) {
    this.#context = options.context;
    this.#gateway = options.gateway;
    this.#defaultUser = options.defaultUser;
    this.#dispatchTimeoutMs = options.dispatchTimeoutMs;
    this.#requireRegisteredCommands = options.requireRegisteredCommands;
    this.#endpoint = options.endpoint;
  }

  async runSlashCommand(input: SlashCommandInput): Promise<InteractionHandle> {
    const { world, ids } = this.#context;
    const guild = this.#guild(input.guildId);
    const command = await this.#registeredCommand(input.name, guild.id);
    const uploads = Object.entries(input.attachments ?? {}).map(
      ([option, file]) => [option, this.#saveUserFile(file, guild.channelId)] as const,
    );
    const declared = declaredOptionsFor(command, input.subcommand, input.subcommandGroup);
    const attachmentIds = Object.fromEntries(uploads.map(([option, attachment]) => [option, attachment.id]));
    const basic = buildCommandOptions(input.options ?? {}, attachmentIds, declared);
    const { id, token, user } = this.#newInteraction(input.user);
    const payload = buildChatInputInteraction({
      world,
      guild,
      id,
      token,
      user,
      locale: input.locale,
      name: input.name,
      commandId: command?.id ?? ids.next(),
      commandGuildId: command?.guild_id,
      options: nestInSubcommand(basic, input.subcommand, input.subcommandGroup),
      attachments: uploads.map(([, attachment]) => buildApiAttachment(attachment)),
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.ApplicationCommand, user, commandName: input.name },
      payload,
      undefined,
    );
  }

  async clickButton(input: ButtonClickInput): Promise<InteractionHandle> {
    const message = this.#liveMessage(typeof input.message === "string" ? input.message : input.message.id);
    assertClickableButton(message, input.customId);
    const { world } = this.#context;
    const { id, token, user } = this.#newInteraction(input.user);
    const payload = buildButtonInteraction({
      world,
      guild: guildOfChannel(world, message.channelId),
      id,
      token,
      user,
      locale: input.locale,
      message: buildApiMessage(message),
      customId: input.customId,
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.MessageComponent, user, commandName: input.customId },
      payload,
      message.id,
    );
  }

  async submitModal(input: ModalSubmitInput): Promise<InteractionHandle> {
    const { world, interactions, store } = this.#context;
    const opener = input.openedBy ? interactions.byId(input.openedBy.id) : undefined;
    if (opener && opener.modal?.custom_id !== input.customId) {
      throw new Error(`Interaction ${opener.id} did not open a modal "${input.customId}"`);
    }
    const components = opener?.modal
      ? submissionFor(opener.modal.components, input.fields)
      : submissionFromFields(input.fields);
    const source = opener?.sourceMessageId === undefined ? undefined : store.get(opener.sourceMessageId);
    const { id, token, user } = this.#newInteraction(input.user);
    const payload = buildModalSubmitInteraction({
      world,
      guild: opener ? guildOfChannel(world, opener.channelId) : undefined,
      id,
      token,
      user,
      locale: input.locale,
      customId: input.customId,
      components,
      message: source ? buildApiMessage(source) : undefined,
    });
    return this.#dispatchInteraction(
      { id, token, type: InteractionType.ModalSubmit, user, commandName: input.customId, openedBy: opener },
      payload,
      source?.id,
    );
  }

  /** A fresh interaction id and token, sent by `user` (default: the fake's default user). */
  #newInteraction(user: APIUser | undefined): Pick<InteractionRecord, "id" | "token" | "user"> {
    const id = this.#context.ids.next();
    return { id, token: newInteractionToken(id), user: user ?? this.#defaultUser };
  }

  /** The server an action happens in: `guildId` when given (one added with `addGuild`), else the main one. */
  #guild(guildId: string | undefined): FakeGuild {
    const guilds = guildsOf(this.#context.world);
    const guild = guildId === undefined ? guilds[0] : guilds.find((candidate) => candidate.id === guildId);
    if (!guild) throw new Error(`The fake has no server ${guildId} (add it with addGuild)`);
    return guild;
  }

  async #registeredCommand(name: string, guildId: string): Promise<APIApplicationCommand | undefined> {
    const { commands, feed } = this.#context;
    const find = () => commands.find(name, guildId);
    if (!this.#requireRegisteredCommands) return find();
    // The bot registers commands at start; wait for it rather than racing it.
    return feed.waitFor(find, this.#dispatchTimeoutMs, `the bot to register the /${name} command`);
  }

  #saveUserFile(file: FileInput, channelId: string): StoredAttachment {
    return this.#context.store.saveAttachment({
      channelId,
      filename: file.filename,
      contentType: file.contentType,
      description: undefined,
      bytes: Buffer.from(file.bytes),
    });
  }

  #liveMessage(id: string): StoredMessage {
    const message = this.#context.store.get(id);
    if (!message || message.deleted) throw new Error(`No live message ${id} in the fake`);
    return message;
  }

  async #dispatchInteraction(
    identity: InteractionIdentity,
    payload: FakeInteractionPayload,
    sourceMessageId: string | undefined,
  ): Promise<InteractionHandle> {
    // Discord sends an interaction to the bot's HTTP endpoint when it has one, else only to the
    // gateway shard of its server (see sharding.ts).
    const session = this.#endpoint
      ? await this.#endpoint.waitUntilConfigured(this.#dispatchTimeoutMs)
      : await this.#gateway.waitForSessionFor(payload.guild_id, this.#dispatchTimeoutMs);
    const record: InteractionRecord = {
      ...identity,
      payload,
      channelId: payload.channel_id ?? this.#context.world.channelId,
      sessionId: session?.sessionId,
      openedBy: identity.openedBy,
      // The 3-second clock starts when the interaction goes out to the bot.
      createdAt: Date.now(),
      sourceMessageId,
      callbacks: [],
      originalMessageId: undefined,
      followUpIds: [],
      tokenExpired: false,
      modal: undefined,
    };
    this.#context.interactions.add(record);
    if (session)
      session.sendDispatch({
        op: GatewayOpcodes.Dispatch,
        t: GatewayDispatchEvents.InteractionCreate,
        d: payload,
      });
    else this.#endpoint?.deliver(record);
    return handleFor(this.#context, record);
  }
}

/** Interaction tokens are opaque URL-safe strings; prefixing the id keeps logs readable. */
function newInteractionToken(interactionId: string): string {
  return `interaction-${interactionId}-${randomBytes(24).toString("base64url")}`;
}

function assertClickableButton(message: StoredMessage, customId: string): void {
  const buttons: Record<string, unknown>[] = [];
  visitComponents(message.components, [], (component) => {
    if (component.type === ComponentType.Button) buttons.push(component);
  });
  const button = buttons.find((candidate) => candidate.custom_id === customId);
  if (!button) {
    const available = buttons.map((candidate) => String(candidate.custom_id)).join(", ") || "none";
    throw new Error(`Message ${message.id} has no button "${customId}" (buttons: ${available})`);
  }
  if (button.disabled === true) throw new Error(`Button "${customId}" on message ${message.id} is disabled`);
}
