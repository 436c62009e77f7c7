// Provider callbacks: when the bot has a public HTTPS URL, providers POST task updates here and
// the job's tracker wakes at once instead of waiting for its next poll.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import type { ProviderLookup } from "../providers/types.ts";
import type { JobService } from "./service.ts";

export interface CallbackOptions {
  jobs: JobService;
  providers: ProviderLookup;
  /** When set, the URL must end in /<secret>; callbacks without it are refused. */
  secret?: string;
  logger: Logger;
  maxBodyBytes?: number;
}

function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return given === undefined;
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("callback body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A request handler for `POST /callbacks/<provider>[/<secret>]`; other paths are not its business (404). */
export function callbackHandler(
  options: CallbackOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  return async (request, response) => {
    const [, root, providerName, secret, ...rest] = (request.url ?? "").split("?")[0]?.split("/") ?? [];
    const provider = providerName ? options.providers.get(providerName) : undefined;
    if (request.method !== "POST" || root !== "callbacks" || !provider?.parseCallback || rest.length > 0) {
      response.writeHead(404).end();
      return;
    }
    if (!sameSecret(secret || undefined, options.secret)) {
      response.writeHead(401).end();
      return;
    }
    try {
      const snapshot = provider.parseCallback(JSON.parse(await readBody(request, limit)));
      const known = options.jobs.pushSnapshot(snapshot);
      options.logger.debug("provider callback", { provider: providerName, task: snapshot.taskId, known });
      response.writeHead(204).end();
    } catch (error) {
      options.logger.warn("unreadable provider callback", { provider: providerName, error });
      response.writeHead(400).end();
    }
  };
}
