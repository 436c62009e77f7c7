// The first answer to an interaction that arrived over HTTP is the HTTP response. discord.js keeps
// its own flow (reply, deferReply, update, showModal and its replied/deferred state); only the
// transport of that first answer changes: its `POST /interactions/{id}/{token}/callback` is caught
// here (REST's `makeRequest` seam) and its body, JSON or multipart with files, becomes the response.
// An interaction the bot has not answered by the deadline is deferred in the response, so Discord
// never gives up on it; the bot's later answer then goes out as the webhook call it amounts to.
import {
  type APIMessage,
  DefaultRestOptions,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type RawFile,
  REST,
  type RESTOptions,
  type RESTPostAPIInteractionCallbackWithResponseResult,
  type ResponseLike,
  Routes,
} from "discord.js";
import type { Logger } from "../log.ts";

/** What goes back in the HTTP response: Discord takes JSON, or multipart with `payload_json` and files. */
export interface HttpAnswer {
  contentType: string;
  body: Buffer;
}

/** The fields of an incoming interaction that decide how it is answered. */
export interface IncomingInteraction {
  id: string;
  token: string;
  application_id: string;
  type: InteractionType;
  /** Components and modal submits from a component carry the message they are on. */
  message?: unknown;
}

/** One interaction waiting for its HTTP response. */
export interface AwaitedAnswer {
  /** The bot's first answer, or the deferral when the deadline passes first. */
  first: Promise<HttpAnswer>;
  /** Reports whether the response reached Discord; the bot's own request resolves only then. */
  settle(sent: boolean): void;
  /** Forgets the interaction (it could not be handed to discord.js). */
  cancel(): void;
}

type MakeRequest = RESTOptions["makeRequest"];

interface Pending {
  interaction: IncomingInteraction;
  answer(answer: HttpAnswer): void;
  stopDeadline(): void;
  release(): void;
  /** Set when the deadline answered for the bot. */
  deferredAs: InteractionResponseType | undefined;
  delivered: Promise<boolean>;
}

interface Callback {
  type: InteractionResponseType;
  data?: { flags?: number } & Record<string, unknown>;
}

export interface InteractionAnswersOptions {
  /** REST base for the webhook calls (DISCORD_API_URL); Discord's when absent. */
  apiUrl?: string;
  /** How long the bot may take before the response defers for it. Default 2.5 s (Discord waits 3 s). */
  deadlineMs?: number;
  logger: Logger;
  /** How the requests that are not a caught callback are made (default: @discordjs/rest's own). */
  fallback?: MakeRequest;
}

/** An interaction token lives 15 minutes; nothing is kept for it longer. */
const tokenLifetimeMs = 15 * 60_000;
/** Discord may take a moment to turn a response into a message: how often `@original` is asked for. */
const originalMessageAttempts = [0, 50, 150, 400, 1_000];

export class InteractionAnswers {
  readonly #pending = new Map<string, Pending>();
  readonly #deadlineMs: number;
  readonly #logger: Logger;
  readonly #fallback: MakeRequest;
  readonly #webhooks: REST;

  constructor(options: InteractionAnswersOptions) {
    this.#deadlineMs = options.deadlineMs ?? 2_500;
    this.#logger = options.logger;
    this.#fallback = options.fallback ?? DefaultRestOptions.makeRequest;
    this.#webhooks = new REST({
      ...(options.apiUrl ? { api: options.apiUrl } : {}),
      makeRequest: this.#fallback,
    });
  }

  /**
   * Starts waiting for the bot's first answer to `interaction`, which is about to be handed to
   * discord.js. `answered`: the endpoint already answered it so (as the deadline would have).
   */
  awaitAnswer(interaction: IncomingInteraction, answered?: InteractionResponseType): AwaitedAnswer {
    let answer!: (answer: HttpAnswer) => void;
    const first = new Promise<HttpAnswer>((resolve) => {
      answer = resolve;
    });
    let settle!: (sent: boolean) => void;
    const delivered = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const deferAs = (deferral: Callback) => {
      pending.deferredAs = deferral.type;
      answer(jsonAnswer(deferral));
    };
    const deadline =
      answered === undefined
        ? setTimeout(() => {
            this.#logger.debug("interaction deferred at the deadline", { interactionId: interaction.id });
            deferAs(deferralFor(interaction));
          }, this.#deadlineMs)
        : undefined;
    const forget = setTimeout(() => this.#forget(interaction.id, pending), tokenLifetimeMs);
    forget.unref();
    const pending: Pending = {
      interaction,
      answer,
      stopDeadline: () => clearTimeout(deadline),
      // The entry holds the answer (files included): nothing may keep it once it is taken.
      release: () => clearTimeout(forget),
      deferredAs: undefined,
      delivered,
    };
    this.#pending.set(interaction.id, pending);
    if (answered !== undefined) deferAs({ type: answered });
    void delivered.then((sent) => {
      if (!sent) this.#forget(interaction.id, pending);
    });
    return {
      first,
      settle,
      cancel: () => {
        clearTimeout(deadline);
        this.#forget(interaction.id, pending);
      },
    };
  }

  /** REST's transport: a callback to an interaction waiting here is answered here; the rest goes out. */
  readonly makeRequest: MakeRequest = async (url, init) => {
    const target = callbackTarget(url, init.method);
    const pending = target && this.#pending.get(target.id);
    if (!target || !pending || pending.interaction.token !== target.token) return this.#fallback(url, init);
    // Only the first answer is the bot's to change; a second one is Discord's to refuse.
    this.#forget(target.id, pending);
    // Read first: should that fail, the deadline still answers Discord for the bot.
    const callback = await readCallback(init.body);
    const inTime = pending.deferredAs === undefined;
    if (inTime) {
      pending.stopDeadline();
      pending.answer(callback.answer);
    }
    if (!(await pending.delivered)) return discordError(404, 10062, "Unknown interaction");
    const outcome = inTime
      ? { message: await this.#originalAfter(pending, callback.payload.type, target.withResponse) }
      : await this.#afterDeferral(pending, callback);
    if (outcome === "refused") return discordError(400, 40060, "Interaction has already been acknowledged.");
    if (!target.withResponse) return new Response(null, { status: 204 }) as ResponseLike;
    return jsonResponse(callbackResult(pending.interaction, callback.payload.type, outcome.message));
  };

  #forget(id: string, pending: Pending): void {
    pending.release();
    if (this.#pending.get(id) === pending) this.#pending.delete(id);
  }

  /** The message an answer made, for `with_response`: asked for like any client would, once Discord has it. */
  async #originalAfter(
    pending: Pending,
    type: InteractionResponseType,
    withResponse: boolean,
  ): Promise<APIMessage | undefined> {
    if (!withResponse || !makesMessage(type)) return undefined;
    const { application_id, token } = pending.interaction;
    for (const delayMs of originalMessageAttempts) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      try {
        return (await this.#webhooks.get(Routes.webhookMessage(application_id, token, "@original"), {
          auth: false,
        })) as APIMessage;
      } catch (error) {
        this.#logger.debug("original response not there yet", {
          interactionId: pending.interaction.id,
          error,
        });
      }
    }
    return undefined;
  }

  /**
   * The bot answered after the response deferred for it: the webhook call its answer amounts to.
   * A deferred reply was public, so a private reply replaces it with a private follow-up.
   */
  async #afterDeferral(
    pending: Pending,
    callback: ParsedCallback,
  ): Promise<{ message?: APIMessage } | "refused"> {
    const { application_id, token, id } = pending.interaction;
    const { type, data } = callback.payload;
    const original = Routes.webhookMessage(application_id, token, "@original");
    const followUp = Routes.webhook(application_id, token);
    const send = async (method: "patch" | "post", route: `/${string}`) => ({
      message: (await this.#webhooks[method](route, {
        body: data,
        files: callback.files,
        auth: false,
        ...(method === "post" ? { query: new URLSearchParams({ wait: "true" }) } : {}),
      })) as APIMessage,
    });
    const deferredReply = pending.deferredAs === InteractionResponseType.DeferredChannelMessageWithSource;
    this.#logger.debug("late interaction answer sent over its webhook", { interactionId: id, type });
    switch (type) {
      case InteractionResponseType.DeferredChannelMessageWithSource:
      case InteractionResponseType.DeferredMessageUpdate:
        return pending.deferredAs === type ? {} : "refused";
      case InteractionResponseType.ChannelMessageWithSource:
        if (!deferredReply) return send("post", followUp);
        if (((data?.flags ?? 0) & MessageFlags.Ephemeral) === 0) return send("patch", original);
        await this.#webhooks.delete(original, { auth: false });
        return send("post", followUp);
      case InteractionResponseType.UpdateMessage:
        return send("patch", original);
      default:
        this.#logger.warn("interaction answered too late for this kind of answer", {
          interactionId: id,
          type,
        });
        return "refused";
    }
  }
}

/** What stands in for an answer that is late: "thinking…" for commands, a silent acknowledgement for components. */
function deferralFor(interaction: IncomingInteraction): Callback {
  if (interaction.type === InteractionType.ApplicationCommandAutocomplete)
    return { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [] } };
  const onMessage =
    interaction.type === InteractionType.MessageComponent ||
    (interaction.type === InteractionType.ModalSubmit && interaction.message !== undefined);
  return {
    type: onMessage
      ? InteractionResponseType.DeferredMessageUpdate
      : InteractionResponseType.DeferredChannelMessageWithSource,
  };
}

function makesMessage(type: InteractionResponseType): boolean {
  return (
    type === InteractionResponseType.ChannelMessageWithSource ||
    type === InteractionResponseType.DeferredChannelMessageWithSource ||
    type === InteractionResponseType.DeferredMessageUpdate ||
    type === InteractionResponseType.UpdateMessage
  );
}

const callbackPath = /\/interactions\/(\d+)\/([^/]+)\/callback$/;

function callbackTarget(
  url: string,
  method: string | undefined,
): { id: string; token: string; withResponse: boolean } | undefined {
  if (method?.toUpperCase() !== "POST") return undefined;
  const parsed = new URL(url);
  const match = callbackPath.exec(parsed.pathname);
  if (!match?.[1] || !match[2]) return undefined;
  return {
    id: match[1],
    token: decodeURIComponent(match[2]),
    withResponse: parsed.searchParams.get("with_response") === "true",
  };
}

interface ParsedCallback {
  payload: Callback;
  files: RawFile[];
  answer: HttpAnswer;
}

/** The callback as @discordjs/rest encoded it: a JSON string, or form data with `payload_json` and `files[n]`. */
async function readCallback(body: unknown): Promise<ParsedCallback> {
  if (typeof body === "string")
    return {
      payload: JSON.parse(body) as Callback,
      files: [],
      answer: { contentType: "application/json", body: Buffer.from(body) },
    };
  if (!(body instanceof FormData)) throw new Error("interaction callback with an unexpected body");
  const encoded = new Response(body);
  const answer = {
    contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
    body: Buffer.from(await encoded.arrayBuffer()),
  };
  const files: RawFile[] = [];
  let payload: Callback | undefined;
  for (const [key, value] of body.entries()) {
    if (typeof value === "string") {
      if (key === "payload_json") payload = JSON.parse(value) as Callback;
      continue;
    }
    files.push({
      key,
      name: value.name,
      contentType: value.type || undefined,
      data: Buffer.from(await value.arrayBuffer()),
    });
  }
  if (!payload) throw new Error("interaction callback form without payload_json");
  return { payload, files, answer };
}

function jsonAnswer(callback: Callback): HttpAnswer {
  return { contentType: "application/json", body: Buffer.from(JSON.stringify(callback)) };
}

function callbackResult(
  interaction: IncomingInteraction,
  type: InteractionResponseType,
  message: APIMessage | undefined,
): RESTPostAPIInteractionCallbackWithResponseResult {
  const flags = message?.flags ?? 0;
  return {
    interaction: {
      id: interaction.id,
      type: interaction.type,
      ...(message === undefined
        ? {}
        : {
            response_message_id: message.id,
            response_message_loading: (flags & MessageFlags.Loading) !== 0,
            response_message_ephemeral: (flags & MessageFlags.Ephemeral) !== 0,
          }),
    },
    resource: { type, ...(message === undefined ? {} : { message }) },
  };
}

function jsonResponse(body: unknown, status = 200): ResponseLike {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  }) as ResponseLike;
}

/** An error as Discord words it, so discord.js raises the DiscordAPIError it would have met. */
function discordError(status: number, code: number, message: string): ResponseLike {
  return jsonResponse({ code, message }, status);
}
