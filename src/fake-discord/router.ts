import type { ParsedBody } from "./multipart.ts";

/** `bot`: requires `Authorization: Bot <token>`; `none`: interaction/webhook routes authorised by their URL token. */
export type AuthMode = "bot" | "none";

export interface RouteRequest {
  method: string;
  /** Decoded path without `/api/v10` (`%40original` arrives as `@original`). */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: ParsedBody;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
}

export interface Route {
  method: string;
  template: string;
  auth: AuthMode;
  pattern: RegExp;
  handle: (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;
}

export type RouteMatch = { route: Route; params: Record<string, string> } | "method-not-allowed" | undefined;

/** Declares a route from a template like `/channels/:channelId/messages/:messageId`. */
export function route(method: string, template: string, auth: AuthMode, handle: Route["handle"]): Route {
  const source = template.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, "(?<$1>[^/]+)");
  return { method, template, auth, pattern: new RegExp(`^${source}$`), handle };
}

export const ok = (body: unknown): RouteResponse => ({ status: 200, body });
export const noContent = (): RouteResponse => ({ status: 204 });

export class Router {
  readonly #routes: readonly Route[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes;
  }

  match(method: string, path: string): RouteMatch {
    let pathMatched = false;
    for (const candidate of this.#routes) {
      const found = candidate.pattern.exec(path);
      if (!found) continue;
      pathMatched = true;
      if (candidate.method === method) return { route: candidate, params: { ...found.groups } };
    }
    return pathMatched ? "method-not-allowed" : undefined;
  }
}
