// The bot's own HTTP port (HTTP_PORT), always on: GET /healthz for supervisors and load balancers,
// GET /metrics for Prometheus, provider callbacks under /callbacks/ when PUBLIC_URL is set. With
// DISCORD_PUBLIC_KEY, the interaction front's thread holds the port and passes these on to here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import type { AtelierMetrics } from "./metrics.ts";

export interface HealthCheck {
  /** Empty when healthy; otherwise what is wrong, one entry per problem. */
  problems(): Promise<string[]>;
}

export interface ServiceServerOptions {
  port: number;
  host?: string;
  health: HealthCheck;
  metrics: AtelierMetrics;
  /** Handles /callbacks/… when the bot takes provider callbacks. */
  callbacks?: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  logger: Logger;
}

async function healthz(health: HealthCheck, response: ServerResponse): Promise<void> {
  const problems = await health.problems();
  const body = JSON.stringify(problems.length === 0 ? { ok: true } : { ok: false, problems });
  response.writeHead(problems.length === 0 ? 200 : 503, { "content-type": "application/json" }).end(body);
}

async function metricsText(metrics: AtelierMetrics, response: ServerResponse): Promise<void> {
  const text = await metrics.registry.metrics();
  response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text);
}

export function startServiceServer(options: ServiceServerOptions): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const work =
      request.method === "GET" && path === "/healthz"
        ? healthz(options.health, response)
        : request.method === "GET" && path === "/metrics"
          ? metricsText(options.metrics, response)
          : options.callbacks && path?.startsWith("/callbacks/")
            ? options.callbacks(request, response)
            : Promise.resolve(void response.writeHead(404).end());
    work.catch((error: unknown) => {
      options.logger.error("http request failed", { path, error });
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve(server));
  });
}
