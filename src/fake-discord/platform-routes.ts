import type { RESTGetAPIGatewayBotResult, RESTGetAPIGatewayResult } from "discord-api-types/v10";
import type { FakeContext } from "./context.ts";
import { unknownApplication, unknownGuild } from "./errors.ts";
import { buildApplication, buildUser, guildsOf } from "./payloads.ts";
import { ok, type Route, type RouteRequest, route } from "./router.ts";

const SESSION_LIMIT_TOTAL = 1000;
const SESSION_LIMIT_RESET_MS = 24 * 60 * 60 * 1000;

/** Gateway discovery, the bot's own user, and application command registration. */
export function platformRoutes(context: FakeContext): Route[] {
  const { world, commands } = context;
  const guildScope = (request: RouteRequest) => {
    checkApplication(context, request);
    const guild = guildsOf(world).find((candidate) => candidate.id === request.params.guildId);
    if (!guild) throw unknownGuild();
    return { guildId: guild.id };
  };
  const globalScope = (request: RouteRequest) => {
    checkApplication(context, request);
    return {};
  };
  return [
    route("GET", "/gateway", "none", () => ok({ url: context.gatewayUrl } satisfies RESTGetAPIGatewayResult)),
    route("GET", "/gateway/bot", "bot", () => ok(gatewayBot(context))),
    route("GET", "/users/@me", "bot", () => ok(world.botUser)),
    route("GET", "/applications/@me", "bot", () =>
      ok(buildApplication(world, buildUser(world.ownerId, "owner"))),
    ),
    route("GET", "/applications/:applicationId/commands", "bot", (request) =>
      ok(commands.list(globalScope(request))),
    ),
    route("PUT", "/applications/:applicationId/commands", "bot", (request) =>
      ok(commands.replace(globalScope(request), request.body.json)),
    ),
    route("POST", "/applications/:applicationId/commands", "bot", (request) =>
      ok(commands.upsert(globalScope(request), request.body.json)),
    ),
    route("GET", "/applications/:applicationId/guilds/:guildId/commands", "bot", (request) =>
      ok(commands.list(guildScope(request))),
    ),
    route("PUT", "/applications/:applicationId/guilds/:guildId/commands", "bot", (request) =>
      ok(commands.replace(guildScope(request), request.body.json)),
    ),
    route("POST", "/applications/:applicationId/guilds/:guildId/commands", "bot", (request) =>
      ok(commands.upsert(guildScope(request), request.body.json)),
    ),
  ];
}

function checkApplication(context: FakeContext, request: RouteRequest): void {
  if (request.params.applicationId !== context.world.applicationId) throw unknownApplication();
}

function gatewayBot(context: FakeContext): RESTGetAPIGatewayBotResult {
  return {
    url: context.gatewayUrl,
    // How many shards Discord recommends for the bot (discord.js opens that many with `shards: "auto"`).
    shards: context.settings.recommendedShards,
    session_start_limit: {
      total: SESSION_LIMIT_TOTAL,
      remaining: SESSION_LIMIT_TOTAL,
      reset_after: SESSION_LIMIT_RESET_MS,
      max_concurrency: 1,
    },
  };
}
