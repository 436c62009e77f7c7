// The playground's web server: the page (static files in ./page), the channel as Server-Sent Events,
// and the actions a person takes (type a command, click a button, submit a form), which it performs
// through the fake Discord's user-side API, as that person.
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type APIModalInteractionResponseCallbackData,
  ComponentType,
  InteractionResponseType,
} from "discord-api-types/v10";
import type { FakeDiscord, FileInput, InteractionHandle } from "../fake-discord/index.ts";
import type { Logger } from "../log.ts";
import { CommandLineError, readCommandLine } from "./commands.ts";
import type { Person } from "./people.ts";
import { pageMessage } from "./view.ts";

export interface PlaygroundWebOptions {
  fake: FakeDiscord;
  people: Person[];
  logger: Logger;
  port: number;
  host: string;
}

/** A form the bot opened, as the page shows it. */
export interface PageModal {
  interactionId: string;
  customId: string;
  title: string;
  fields: { customId: string; label: string; value: string; multiline: boolean; required: boolean }[];
}

/** What an action answers: nothing more to do, a form to fill in, or a private note to show. */
type ActionResult = { ok: true; modal?: PageModal } | { ok: false; error: string };

const pageDir = fileURLToPath(new URL("./page/", import.meta.url));
const staticFiles: Record<string, string> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
};
const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};
/** Discord's own wait: an interaction the bot has not acknowledged by then "failed". */
const acknowledgeMs = 3_000;
const maxBodyBytes = 40 * 1024 * 1024;
/** How often the channel is compared with what the page was last sent. */
const watchIntervalMs = 150;

function modalOf(handle: InteractionHandle): PageModal | undefined {
  const modal: APIModalInteractionResponseCallbackData | undefined = handle.modal;
  if (!modal) return undefined;
  const fields = modal.components.flatMap((component) => {
    const found =
      component.type === ComponentType.Label
        ? [{ label: component.label, input: component.component }]
        : component.type === ComponentType.ActionRow
          ? component.components.map((input) => ({
              label: "label" in input ? String(input.label) : "",
              input,
            }))
          : [];
    return found.flatMap(({ label, input }) =>
      input.type === ComponentType.TextInput
        ? [
            {
              customId: input.custom_id,
              label,
              value: input.value ?? "",
              multiline: input.style === 2,
              required: input.required !== false,
            },
          ]
        : [],
    );
  });
  return { interactionId: handle.id, customId: modal.custom_id, title: modal.title, fields };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new CommandLineError("That is too much to send at once");
    chunks.push(chunk as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  if (typeof parsed !== "object" || parsed === null) throw new CommandLineError("Expected a JSON object");
  return parsed as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(text);
}

type Body = Record<string, unknown>;
type Action = (body: Body) => Promise<ActionResult>;

/** Everything the page shows of the channel: its people, the bot's commands and the messages. */
function channelView(fake: FakeDiscord, people: readonly Person[]) {
  return {
    botName: fake.botUser.username,
    channel: "general",
    people: [
      ...people.map((person) => ({ id: person.user.id, name: person.name, admin: person.admin })),
      { id: fake.botUserId, name: fake.botUser.username, admin: false },
    ],
    commands: fake.registeredCommands(fake.guildId).map((command) => ({
      name: command.name,
      description: command.description,
    })),
    messages: fake.messages(fake.channelId).map((message) => pageMessage(message, fake.baseUrl)),
  };
}

/** Open Server-Sent Event streams, each sent the channel again whenever it changes. */
class ChannelStreams {
  readonly #streams = new Set<ServerResponse>();
  readonly #snapshot: () => string;
  readonly #watcher: NodeJS.Timeout;
  #lastSnapshot = "";

  constructor(snapshot: () => string) {
    this.#snapshot = snapshot;
    this.#watcher = setInterval(() => this.#pushChanges(), watchIntervalMs);
  }

  open(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    this.#streams.add(response);
    request.on("close", () => this.#streams.delete(response));
    push(response, this.#snapshot());
  }

  stop(): void {
    clearInterval(this.#watcher);
  }

  #pushChanges(): void {
    if (this.#streams.size === 0) return;
    const snapshot = this.#snapshot();
    if (snapshot === this.#lastSnapshot) return;
    this.#lastSnapshot = snapshot;
    for (const stream of this.#streams) push(stream, snapshot);
  }
}

function push(response: ServerResponse, snapshot: string): void {
  response.write(`data: ${snapshot}\n\n`);
}

/** Waits Discord's three seconds for the bot's answer; a form it opens goes back to the page. */
async function acknowledged(handle: InteractionHandle): Promise<ActionResult> {
  try {
    const callback = await handle.waitForCallback(acknowledgeMs);
    const modal = callback.type === InteractionResponseType.Modal ? modalOf(handle) : undefined;
    return modal ? { ok: true, modal } : { ok: true };
  } catch {
    return { ok: false, error: "This interaction failed" };
  }
}

function filesFromBody(body: Body): FileInput[] {
  return (Array.isArray(body.files) ? body.files : []).map((file: Record<string, unknown>) => ({
    filename: String(file.name ?? "image.png"),
    contentType: typeof file.type === "string" && file.type !== "" ? file.type : undefined,
    bytes: Buffer.from(String(file.data ?? ""), "base64"),
  }));
}

function fieldsFromBody(body: Body): Record<string, string> {
  return Object.fromEntries(
    Object.entries((body.fields ?? {}) as Record<string, unknown>).map(([key, value]) => [
      key,
      String(value),
    ]),
  );
}

/** The page's actions by path, each performed as the person the request names. */
function pageActions(fake: FakeDiscord, people: readonly Person[]): Record<string, Action> {
  const byName = new Map(people.map((person) => [person.name, person]));
  const userIds = new Map(people.map((person) => [person.name, person.user.id]));
  const person = (body: Body): Person => {
    const found = byName.get(String(body.user));
    if (!found) throw new CommandLineError(`Nobody called ${String(body.user)} here`);
    return found;
  };
  return {
    "/api/command": async (body) => {
      const user = person(body).user;
      const input = readCommandLine(String(body.text ?? ""), filesFromBody(body), {
        commands: fake.registeredCommands(fake.guildId),
        channel: { id: fake.channelId, name: "general" },
        userIds,
      });
      return acknowledged(await fake.runSlashCommand({ ...input, user }));
    },
    "/api/click": async (body) =>
      acknowledged(
        await fake.clickButton({
          message: String(body.messageId),
          customId: String(body.customId),
          user: person(body).user,
        }),
      ),
    "/api/modal": async (body) => {
      const openedBy = fake.interactions().find((handle) => handle.id === body.interactionId);
      const fields = fieldsFromBody(body);
      return acknowledged(
        await fake.submitModal({
          customId: String(body.customId),
          fields,
          user: person(body).user,
          openedBy,
        }),
      );
    },
  };
}

async function serveStatic(response: ServerResponse, file: string): Promise<void> {
  const text = await readFile(join(pageDir, file));
  response.writeHead(200, {
    "content-type": contentTypes[extname(file)] ?? "text/plain",
    "cache-control": "no-store",
  });
  response.end(text);
}

/** Attachments live on the fake's own port; the page asks for them here, on its origin. */
async function serveAttachment(fake: FakeDiscord, response: ServerResponse, path: string): Promise<void> {
  const upstream = await fetch(`${fake.baseUrl}${path}`);
  const bytes = Buffer.from(await upstream.arrayBuffer());
  response.writeHead(upstream.status, {
    "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
    "cache-control": "max-age=3600",
  });
  response.end(bytes);
}

/** Performs a page action and answers its result; a refused action is answered as a note, not an error. */
async function performAction(
  action: Action,
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
  logger: Logger,
): Promise<void> {
  try {
    return sendJson(response, 200, await action(await readJson(request)));
  } catch (error) {
    // A mistake in what was typed (or a button that just went away) is a note to its author.
    const message = (error as Error).message;
    if (!(error instanceof CommandLineError)) logger.debug("playground action refused", { path, message });
    return sendJson(response, 200, { ok: false, error: message });
  }
}

export async function startPlaygroundWeb(options: PlaygroundWebOptions): Promise<Server> {
  const { fake, people, logger } = options;
  const channel = () => channelView(fake, people);
  const streams = new ChannelStreams(() => JSON.stringify(channel()));
  const actions = pageActions(fake, people);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://playground").pathname;
    const file = staticFiles[path];
    if (request.method === "GET" && file) return serveStatic(response, file);
    if (request.method === "GET" && path === "/api/events") return streams.open(request, response);
    if (request.method === "GET" && path === "/api/state") return sendJson(response, 200, channel());
    if (request.method === "GET" && path.startsWith("/attachments/"))
      return serveAttachment(fake, response, path);
    const action = actions[path];
    if (request.method === "POST" && action) return performAction(action, path, request, response, logger);
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.warn("playground request failed", { error });
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end("playground error");
    });
  });
  server.on("close", () => streams.stop());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
