// The interaction front's thread (see interaction-front.ts): the HTTP port, `POST /interactions`
// answered here, every other path passed on to the bot thread's server on loopback.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { answeringThreadNames, nameThisThread } from "../service/thread-names.mjs";
import { threadLogger } from "../service/threads.ts";
import { sharedSeenKeys } from "../store/seen.ts";
import type { HttpAnswer } from "./interaction-answers.ts";
import { type InteractionHandoff, interactionEndpoint } from "./interaction-endpoint.ts";
import type { BotMessage, FrontMessage, FrontSettings } from "./interaction-front.ts";
import { createSignatureCheck, MemoryReplayGuard } from "./interaction-signature.ts";

const port = parentPort;
if (!port) throw new Error("interaction-front-thread.ts runs as a worker thread");
// Before it listens: the bot lowers every thread not named so once started.
nameThisThread(answeringThreadNames.http);
const settings = (workerData as { settings: FrontSettings }).settings;
const post = (message: FrontMessage) => port.postMessage(message);

const logger = threadLogger((line) => post({ kind: "log", ...line }));

/** Interactions handed to the bot's thread whose answer is awaited here, by sequence number. */
const answering = new Map<number, { resolve(answer: HttpAnswer): void; reject(error: Error): void }>();
let nextSeq = 1;

const handOff: InteractionHandoff = (interaction, answered) => {
  const seq = nextSeq++;
  const first =
    answered === undefined
      ? new Promise<HttpAnswer>((resolve, reject) => answering.set(seq, { resolve, reject }))
      : Promise.resolve({ contentType: "", body: Buffer.alloc(0) });
  post({ kind: "interaction", seq, interaction, ...(answered === undefined ? {} : { answered }) });
  return {
    first,
    settle: (sent) => post({ kind: "settled", seq, sent }),
    cancel: () => answering.delete(seq),
  };
};

/** Every path but /interactions belongs to the bot thread's own server. */
function passOn(request: IncomingMessage, response: ServerResponse): void {
  const upstream = httpRequest(
    {
      host: "127.0.0.1",
      port: settings.upstreamPort,
      method: request.method,
      path: request.url,
      headers: request.headers,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, response, () => undefined);
    },
  );
  upstream.on("error", (error) => {
    logger.warn("request could not be passed to the bot", { path: request.url, error });
    if (!response.headersSent) response.writeHead(502).end();
    else response.destroy();
  });
  pipeline(request, upstream, () => undefined);
}

const replays = settings.redisUrl ? await sharedSeenKeys(settings.redisUrl) : new MemoryReplayGuard();
const endpoint = interactionEndpoint({
  check: createSignatureCheck({ publicKey: settings.publicKey, replays }),
  handOff,
  thinkingCommands: new Set(settings.thinkingCommands),
  logger,
});
const server = createServer((request, response) => {
  if ((request.url ?? "/").split("?")[0] !== "/interactions") return passOn(request, response);
  endpoint(request, response).catch((error: unknown) => {
    logger.error("http request failed", { path: "/interactions", error });
    if (!response.headersSent) response.writeHead(500).end();
  });
});

port.on("message", (message: BotMessage) => {
  switch (message.kind) {
    case "answer": {
      const waiter = answering.get(message.seq);
      answering.delete(message.seq);
      // Buffers cross threads as plain bytes.
      waiter?.resolve({ contentType: message.answer.contentType, body: Buffer.from(message.answer.body) });
      return;
    }
    case "not-taken":
      answering.get(message.seq)?.reject(new Error("the bot could not take the interaction"));
      answering.delete(message.seq);
      return;
    case "stop":
      server.close(() => {
        if ("close" in replays) replays.close();
        post({ kind: "stopped" });
      });
      server.closeIdleConnections();
      return;
  }
});

server.once("error", (error: NodeJS.ErrnoException) =>
  post({ kind: "failed", code: error.code, message: error.message }),
);
server.listen(settings.port, settings.host ?? "0.0.0.0", () => {
  const address = server.address();
  post({ kind: "listening", port: typeof address === "object" && address ? address.port : settings.port });
});
