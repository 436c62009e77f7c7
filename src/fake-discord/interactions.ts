import type {
  APIModalInteractionResponseCallbackData,
  APIUser,
  InteractionResponseType,
  InteractionType,
} from "discord-api-types/v10";
import type { ChangeFeed } from "./change-feed.ts";
import type { FakeInteractionPayload } from "./interaction-payloads.ts";
import { type FakeMessage, type MessageStore, toFakeMessage } from "./message-store.ts";
import type { UploadedFile } from "./multipart.ts";

/** How an answer reached the fake: the callback route, or the response to an HTTP interaction. */
export type CallbackTransport = "rest" | "http-response";

/** One accepted answer: a `POST /interactions/{id}/{token}/callback`, or the HTTP response that stood for it. */
export interface RecordedCallback {
  type: InteractionResponseType;
  /** The callback's `data` as the bot sent it (message body, modal, choices…). */
  data: unknown;
  files: UploadedFile[];
  at: number;
  via: CallbackTransport;
}

/** An interaction as it was POSTed to the bot's interactions endpoint. */
export interface SignedInteraction {
  url: string;
  body: string;
  timestamp: string;
  signature: string;
}

/** Server-side state of one interaction the fake dispatched. */
export interface InteractionRecord {
  id: string;
  token: string;
  type: InteractionType;
  payload: FakeInteractionPayload;
  user: APIUser;
  channelId: string;
  /** The gateway session it was dispatched to (with sharding, the one on its server's shard). */
  sessionId: string | undefined;
  /** Slash command name, for the legacy `message.interaction.name`. */
  commandName: string;
  createdAt: number;
  /** Component/modal interactions: the message the clicked component is on. */
  sourceMessageId: string | undefined;
  /** Modal submits: the interaction whose callback opened the modal, when known. */
  openedBy: InteractionRecord | undefined;
  callbacks: RecordedCallback[];
  /** What `@original` refers to once the interaction is acknowledged. */
  originalMessageId: string | undefined;
  followUpIds: string[];
  tokenExpired: boolean;
  modal: APIModalInteractionResponseCallbackData | undefined;
  /** HTTP interactions: the request sent to the bot, and its response while it is being read. */
  signed?: SignedInteraction;
  /** HTTP interactions: when the request went out, when the poster timed it (see EndpointReply). */
  sentAt?: number;
  answering?: Promise<void>;
  /** HTTP interactions: why the bot's response was not taken as an answer (the user saw "interaction failed"). */
  endpointError?: string;
}

export class InteractionRegistry {
  readonly #byId = new Map<string, InteractionRecord>();
  readonly #byToken = new Map<string, InteractionRecord>();
  readonly #feed: ChangeFeed;

  constructor(feed: ChangeFeed) {
    this.#feed = feed;
  }

  add(record: InteractionRecord): void {
    this.#byId.set(record.id, record);
    this.#byToken.set(record.token, record);
    this.#feed.notify();
  }

  byId(id: string): InteractionRecord | undefined {
    return this.#byId.get(id);
  }

  byToken(token: string): InteractionRecord | undefined {
    return this.#byToken.get(token);
  }

  all(): InteractionRecord[] {
    return [...this.#byId.values()];
  }

  /** Simulates the 15-minute token lifetime running out, for the given tokens or all known ones. */
  expire(tokens?: readonly string[]): void {
    for (const record of this.#byId.values()) {
      if (tokens === undefined || tokens.includes(record.token)) record.tokenExpired = true;
    }
    this.#feed.notify();
  }

  /** Call after mutating a record so `waitFor` probes re-run. */
  changed(): void {
    this.#feed.notify();
  }
}

const DEFAULT_WAIT_MS = 5_000;

/** Test-facing view of one interaction: what the bot answered, and the messages it produced. */
export class InteractionHandle {
  readonly #record: InteractionRecord;
  readonly #store: MessageStore;
  readonly #registry: InteractionRegistry;
  readonly #feed: ChangeFeed;

  constructor(
    record: InteractionRecord,
    store: MessageStore,
    registry: InteractionRegistry,
    feed: ChangeFeed,
  ) {
    this.#record = record;
    this.#store = store;
    this.#registry = registry;
    this.#feed = feed;
  }

  get id(): string {
    return this.#record.id;
  }

  get token(): string {
    return this.#record.token;
  }

  get type(): InteractionType {
    return this.#record.type;
  }

  /** The exact INTERACTION_CREATE `d` the bot received. */
  get payload(): FakeInteractionPayload {
    return this.#record.payload;
  }

  get user(): APIUser {
    return this.#record.user;
  }

  /** The gateway session it went to (compare with `fake.identifies` to see which shard got it). */
  get sessionId(): string | undefined {
    return this.#record.sessionId;
  }

  get callbacks(): readonly RecordedCallback[] {
    return this.#record.callbacks;
  }

  /** HTTP interactions: the signed request the bot received (to replay it, say). */
  get signed(): SignedInteraction | undefined {
    return this.#record.signed;
  }

  /** HTTP interactions: when the request went out, if the poster timed it on a thread of its own. */
  get sentAt(): number | undefined {
    return this.#record.sentAt;
  }

  /** HTTP interactions: why the bot's response was refused, if it was. */
  get endpointError(): string | undefined {
    return this.#record.endpointError;
  }

  get acknowledged(): boolean {
    return this.#record.callbacks.length > 0;
  }

  /** The modal the bot opened (callback type 9), if any. */
  get modal(): APIModalInteractionResponseCallbackData | undefined {
    return this.#record.modal;
  }

  /** Component/modal interactions: id of the message the component is on. */
  get sourceMessageId(): string | undefined {
    return this.#record.sourceMessageId;
  }

  originalMessage(): FakeMessage | undefined {
    const id = this.#record.originalMessageId;
    const message = id === undefined ? undefined : this.#store.get(id);
    return message ? toFakeMessage(message) : undefined;
  }

  followUps(): FakeMessage[] {
    return this.#record.followUpIds.flatMap((id) => {
      const message = this.#store.get(id);
      return message ? [toFakeMessage(message)] : [];
    });
  }

  waitForCallback(timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedCallback> {
    return this.#feed.waitFor(
      () => this.#record.callbacks[0],
      timeoutMs,
      `a callback for interaction ${this.id}`,
    );
  }

  /** Resolves with `@original` once it satisfies `predicate` (default: no longer "thinking…"). */
  waitForOriginalMessage(
    predicate: (message: FakeMessage) => boolean = (message) => !message.loading,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<FakeMessage> {
    return this.#feed.waitFor(
      () => {
        const message = this.originalMessage();
        return message && predicate(message) ? message : undefined;
      },
      timeoutMs,
      `the original response of interaction ${this.id}`,
    );
  }

  /**
   * Resolves with the private (ephemeral) message the person got in answer: the original response,
   * or a follow-up when the bot answered "thinking…" first and replaced it.
   */
  waitForPrivateAnswer(timeoutMs = DEFAULT_WAIT_MS): Promise<FakeMessage> {
    return this.#feed.waitFor(
      () =>
        [this.originalMessage(), ...this.followUps()].find(
          (message) => message?.ephemeral && !message.deleted,
        ),
      timeoutMs,
      `a private answer to interaction ${this.id}`,
    );
  }

  /** Resolves with the first follow-up that satisfies `predicate` (default: any). */
  waitForFollowUp(
    predicate: (message: FakeMessage) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<FakeMessage> {
    return this.#feed.waitFor(
      () => this.followUps().find(predicate),
      timeoutMs,
      `a follow-up of interaction ${this.id}`,
    );
  }

  /** Makes this interaction's webhook routes answer 401 / 50027, as after 15 minutes. */
  expireToken(): void {
    this.#registry.expire([this.token]);
  }
}
