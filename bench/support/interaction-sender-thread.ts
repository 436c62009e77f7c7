// The interaction sender's thread (see interaction-sender.ts): POSTs each signed interaction it is
// given and times it here, where no other work runs. node:http over kept-alive connections rather
// than fetch: fetch's own layers (Request/Response objects, web streams) cost the sender ~1–2 ms a
// request (trace of one run: send → bot's request event p50 1.8 ms with fetch, 0.6 with node:http),
// which is the sender's time, not the bot's.
import { Agent, request as httpRequest } from "node:http";
import { parentPort } from "node:worker_threads";
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

/** Kept-alive connections to the endpoints, as Discord's edge keeps them. */
const agent = new Agent({ keepAlive: true });

/** POSTs one interaction; `sentAt` is taken just before it is written, `receivedAt` once the whole answer is in. */
function send({ id, url, request, timeoutMs }: SendRequest): Promise<SendReply> {
  return new Promise((resolve) => {
    const failed = (error: Error) => resolve({ id, error: error.message });
    let sentAt = 0;
    const outgoing = httpRequest(url, {
      method: "POST",
      agent,
      headers: endpointHeaders(request),
      timeout: timeoutMs,
    });
    outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on("error", failed);
    outgoing.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", failed);
      response.on("end", () => {
        const receivedAt = now();
        const body = Buffer.concat(chunks);
        resolve({
          id,
          status: response.statusCode ?? 0,
          contentType: response.headers["content-type"],
          body: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
          sentAt,
          receivedAt,
        });
      });
    });
    sentAt = now();
    outgoing.end(request.body);
  });
}

parentPort?.on("message", async (request: SendRequest) => {
  const reply = await send(request);
  parentPort?.postMessage(reply, "body" in reply ? [reply.body] : []);
});
