// Discord's side of HTTP interactions, timed apart from the fake Discord: the fake signs each
// interaction and a thread of its own POSTs it and clocks request → whole response there. Timed on
// the fake's event loop instead, the figure would also count the fake's own work (parsing grid
// uploads) that delays reading the response — work Discord does on other machines. The time the
// response reached the fake's loop is kept too (`loopArrivals`), to show the difference.
import type { Worker } from "node:worker_threads";
import { startTypeScriptThread } from "../../src/service/threads.ts";
import type { EndpointPoster, EndpointReply } from "../../test/fake-discord/index.ts";
import type { SendReply, SendRequest } from "./interaction-sender-thread.ts";

export interface InteractionSender {
  post: EndpointPoster;
  /** Signature of each interaction → when its response reached the fake's event loop (ms). */
  loopArrivals: Map<string, number>;
  stop(): Promise<void>;
}

export function startInteractionSender(): InteractionSender {
  const thread: Worker = startTypeScriptThread(
    new URL("./interaction-sender-thread.ts", import.meta.url),
    {},
  );
  thread.unref();
  const waiting = new Map<number, (reply: SendReply) => void>();
  const loopArrivals = new Map<string, number>();
  thread.on("message", (reply: SendReply) => {
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  let nextId = 0;
  const post: EndpointPoster = (url, request, timeoutMs) =>
    new Promise<EndpointReply>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (reply) => {
        loopArrivals.set(request.signature, Date.now());
        if ("error" in reply) reject(new Error(reply.error));
        else resolve({ ...reply, body: Buffer.from(reply.body) });
      });
      thread.postMessage({ id, url, request, timeoutMs } satisfies SendRequest);
    });
  return {
    post,
    loopArrivals,
    stop: async () => {
      await thread.terminate();
    },
  };
}
