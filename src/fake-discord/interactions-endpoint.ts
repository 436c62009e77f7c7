// HTTP interactions, Discord's side: instead of INTERACTION_CREATE on the gateway, each interaction
// is signed (Ed25519 over timestamp + body, with the application's key pair) and POSTed to the
// bot's Interactions Endpoint URL; the response is the interaction's first answer, taken exactly as
// a POST to /interactions/{id}/{token}/callback would be. Several URLs are served round-robin (many
// processes behind a balancer). Saving an endpoint checks it as the developer portal does: a signed
// PING must get PONG and a badly signed one 401.
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { InteractionResponseType, InteractionType } from "discord-api-types/v10";
import type { FakeContext } from "./context.ts";
import { DiscordHttpError } from "./errors.ts";
import type { InteractionCallbacks } from "./interaction-routes.ts";
import type { InteractionRecord, SignedInteraction } from "./interactions.ts";
import { parseRequestBody } from "./multipart.ts";

/** The raw 32-byte key, as the developer portal shows it (hex). */
function rawPublicKeyHex(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url").toString("hex");
}

/** What came back from the endpoint. */
export interface EndpointReply {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /**
   * When the request went out and its whole response was in (ms since the epoch), for a poster
   * that times them on a thread of its own; otherwise the fake's own clock is used.
   */
  sentAt?: number;
  receivedAt?: number;
}

/** How a signed interaction reaches the endpoint: `fetch` on the fake's thread unless given. */
export type EndpointPoster = (
  url: string,
  request: Omit<SignedInteraction, "url">,
  timeoutMs: number,
) => Promise<EndpointReply>;

/** Used when the three-second rule is off: the bot still may not hang a request forever. */
const lenientDeadlineMs = 60_000;

export class InteractionsEndpoint {
  /** The application's public key (hex): what the bot is given as DISCORD_PUBLIC_KEY. */
  readonly publicKey: string;
  readonly #privateKey: KeyObject;
  readonly #context: FakeContext;
  readonly #callbacks: InteractionCallbacks;
  readonly #poster: EndpointPoster;
  #urls: string[] = [];
  #next = 0;

  constructor(context: FakeContext, callbacks: InteractionCallbacks, poster?: EndpointPoster) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    this.publicKey = rawPublicKeyHex(publicKey);
    this.#privateKey = privateKey;
    this.#context = context;
    this.#callbacks = callbacks;
    this.#poster = poster ?? fetchReply;
  }

  get urls(): readonly string[] {
    return this.#urls;
  }

  /** Saves the endpoint URL(s) after checking each as the portal does; throws naming what failed. */
  async configure(urls: readonly string[]): Promise<void> {
    for (const url of urls) {
      const ping = JSON.stringify({
        id: this.#context.ids.next(),
        application_id: this.#context.world.applicationId,
        type: InteractionType.Ping,
        token: `ping-${this.#context.ids.next()}`,
        version: 1,
      });
      const signed = await this.post(url, this.sign(url, ping));
      const answer = signed.status === 200 ? safeJson(signed.body) : undefined;
      if ((answer as { type?: unknown } | undefined)?.type !== InteractionResponseType.Pong)
        throw new Error(
          `Interactions endpoint ${url} did not answer PING with PONG (status ${signed.status})`,
        );
      const forged = await this.post(url, { ...this.sign(url, ping), signature: "00".repeat(64) });
      if (forged.status !== 401)
        throw new Error(`Interactions endpoint ${url} accepted a bad signature (status ${forged.status})`);
    }
    this.#urls = [...urls];
    this.#context.feed.notify();
  }

  waitUntilConfigured(timeoutMs: number): Promise<undefined> {
    return this.#context.feed
      .waitFor(() => this.#urls.length > 0, timeoutMs, "an interactions endpoint (setInteractionsEndpoint)")
      .then(() => undefined);
  }

  /** A request to `url` carrying `body`, signed now. */
  sign(url: string, body: string): SignedInteraction {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(timestamp + body), this.#privateKey).toString("hex");
    return { url, body, timestamp, signature };
  }

  /** POSTs a signed (or tampered) request as Discord would; any answer is returned, none is applied. */
  post(
    url: string,
    request: Omit<SignedInteraction, "url">,
    timeoutMs = lenientDeadlineMs,
  ): Promise<EndpointReply> {
    return this.#poster(url, request, timeoutMs);
  }

  /** Sends the interaction to the next endpoint; its response, read in the background, is its answer. */
  deliver(record: InteractionRecord): void {
    const url = this.#urls[this.#next++ % this.#urls.length] as string;
    record.signed = this.sign(url, JSON.stringify(record.payload));
    const { enforceThreeSeconds, responseDeadlineMs } = this.#context.settings;
    record.answering = this.post(
      url,
      record.signed,
      enforceThreeSeconds ? responseDeadlineMs : lenientDeadlineMs,
    )
      .then(async (reply) => {
        if (reply.status !== 200) throw new Error(`the endpoint answered ${reply.status}`);
        if (reply.sentAt !== undefined) record.sentAt = reply.sentAt;
        const body = await parseRequestBody(reply.body, reply.contentType);
        this.#callbacks.accept(record, body, "http-response", reply.receivedAt);
      })
      .catch((error: unknown) => {
        record.endpointError =
          error instanceof DiscordHttpError
            ? `${error.status} ${error.body.code}: ${error.body.message}`
            : String((error as Error).message ?? error);
      })
      .finally(() => {
        record.answering = undefined;
        this.#context.interactions.changed();
      });
  }
}

/** The default poster: Node's fetch, on the fake's own thread. */
async function fetchReply(
  url: string,
  request: Omit<SignedInteraction, "url">,
  timeoutMs: number,
): Promise<EndpointReply> {
  const response = await fetch(url, {
    method: "POST",
    headers: endpointHeaders(request),
    body: request.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? undefined,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** The headers Discord sends with an interaction. */
export function endpointHeaders(request: Omit<SignedInteraction, "url" | "body">): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-signature-ed25519": request.signature,
    "x-signature-timestamp": request.timestamp,
  };
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
