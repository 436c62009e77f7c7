/** Discord's JSON error body: `{ code, message, errors? }`; discord.js turns it into a DiscordAPIError. */
export interface DiscordErrorBody {
  code: number;
  message: string;
  errors?: ErrorTree;
}

/** Nested `{ field: { 0: { _errors: [...] } } }` tree that Discord uses for form validation errors. */
export interface ErrorTree {
  [key: string]: ErrorTree | ErrorLeaf[];
}

export interface ErrorLeaf {
  code: string;
  message: string;
}

/** Thrown by route handlers; the HTTP layer turns it into the matching status and body. */
export class DiscordHttpError extends Error {
  readonly status: number;
  readonly body: DiscordErrorBody;

  constructor(status: number, body: DiscordErrorBody) {
    super(`${status} ${body.code}: ${body.message}`);
    this.status = status;
    this.body = body;
  }
}

// The codes and messages below are Discord's documented JSON error codes.
export const unauthorized = () => new DiscordHttpError(401, { code: 0, message: "401: Unauthorized" });
export const routeNotFound = () => new DiscordHttpError(404, { code: 0, message: "404: Not Found" });
export const methodNotAllowed = () =>
  new DiscordHttpError(405, { code: 0, message: "405: Method Not Allowed" });
export const unknownChannel = () => new DiscordHttpError(404, { code: 10003, message: "Unknown Channel" });
export const unknownMessage = () => new DiscordHttpError(404, { code: 10008, message: "Unknown Message" });
export const unknownWebhook = () => new DiscordHttpError(404, { code: 10015, message: "Unknown Webhook" });
export const unknownInteraction = () =>
  new DiscordHttpError(404, { code: 10062, message: "Unknown interaction" });
export const invalidWebhookToken = () =>
  new DiscordHttpError(401, { code: 50027, message: "Invalid Webhook Token" });
export const cannotEditOthersMessage = () =>
  new DiscordHttpError(403, { code: 50005, message: "Cannot edit a message authored by another user" });
export const emptyMessage = () =>
  new DiscordHttpError(400, { code: 50006, message: "Cannot send an empty message" });
export const alreadyAcknowledged = () =>
  new DiscordHttpError(400, { code: 40060, message: "Interaction has already been acknowledged." });
export const entityTooLarge = () =>
  new DiscordHttpError(413, { code: 40005, message: "Request entity too large" });
export const invalidFormBody = (errors: ErrorTree) =>
  new DiscordHttpError(400, { code: 50035, message: "Invalid Form Body", errors });

/** Accumulates field errors under their JSON path, in Discord's error-tree shape. */
export class ErrorCollector {
  readonly tree: ErrorTree = {};
  #count = 0;

  add(path: readonly (string | number)[], code: string, message: string): void {
    let node: ErrorTree = this.tree;
    for (const segment of path) {
      const key = String(segment);
      const child = node[key];
      if (child === undefined || Array.isArray(child)) {
        const created: ErrorTree = {};
        node[key] = created;
        node = created;
      } else {
        node = child;
      }
    }
    const leaves = node._errors;
    const leaf = { code, message };
    if (Array.isArray(leaves)) leaves.push(leaf);
    else node._errors = [leaf];
    this.#count++;
  }

  get isEmpty(): boolean {
    return this.#count === 0;
  }

  throwIfAny(): void {
    if (!this.isEmpty) throw invalidFormBody(this.tree);
  }
}
export const unknownApplication = () =>
  new DiscordHttpError(404, { code: 10002, message: "Unknown Application" });
export const badRequest = (path: string, code: string, message: string) => {
  const errors = new ErrorCollector();
  errors.add([path], code, message);
  return invalidFormBody(errors.tree);
};
export const unknownGuild = () => new DiscordHttpError(404, { code: 10004, message: "Unknown Guild" });
