// The interaction sender's thread (see interaction-sender.ts): POSTs each signed interaction it is
// given and times it here, where no other work runs. undici's `request` rather than fetch: fetch's
// own layers (Request/Response objects, web streams) cost the sender ~1–2 ms a request (trace of
// one run: send → the bot's request event p50 1.8 ms with fetch, 0.6 with a plain client), which is
// the sender's time, not the bot's.
import { parentPort } from "node:worker_threads";
import { Agent, request as undiciRequest } from "undici";
import { endpointHeaders, type SignedInteraction } from "../../test/fake-discord/index.ts";

export interface SendRequest {
  id: number;
  url: string;
  request: Omit<SignedInteraction, "url">;
  timeoutMs: number;
}

export type SendReply =
  | {
      id: number;
      status: number;
      contentType: string | undefined;
      body: ArrayBuffer;
      sentAt: number;
      receivedAt: number;
    }
  | { id: number; error: string };

/** Wall-clock milliseconds with the monotonic clock's resolution. */
const now = () => performance.timeOrigin + performance.now();

/**
 * Kept-alive connections to the endpoints, as Discord's edge keeps them; undici closes an idle one
 * before the bot's server would (its 4 s against Node's 5 s), so a request is not sent on a socket
 * the server is closing.
 */
const connections = new Agent({ keepAliveTimeout: 4_000 });

/** POSTs one interaction; `sentAt` is taken just before it is sent, `receivedAt` once the whole answer is in. */
async function send({ id, url, request, timeoutMs }: SendRequest): Promise<SendReply> {
  try {
    const sentAt = now();
    const response = await undiciRequest(url, {
      method: "POST",
      headers: endpointHeaders(request),
      body: request.body,
      dispatcher: connections,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = await response.body.arrayBuffer();
    const receivedAt = now();
    const contentType = response.headers["content-type"];
    return {
      id,
      status: response.statusCode,
      contentType: typeof contentType === "string" ? contentType : undefined,
      body,
      sentAt,
      receivedAt,
    };
  } catch (error) {
    return { id, error: String((error as Error).message ?? error) };
  }
}

parentPort?.on("message", async (request: SendRequest) => {
  const reply = await send(request);
  parentPort?.postMessage(reply, "body" in reply ? [reply.body] : []);
});
