// compose.replicas.yaml cannot run here (no Docker engine), so check what can go wrong in it
// unnoticed: a misspelt or unknown setting, a URL pointing at a service that is not there, a
// value Atelier would refuse, and services other than the ones test/e2e/scale-out.test.ts runs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { sharedDeploymentNodeFlags } from "../src/cli/node-flags.ts";
import { parseSettings, settingsSchema } from "../src/config.ts";
import { imageCommand } from "./support/dockerfile.ts";

const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).default({}),
  deploy: z.looseObject({ replicas: z.number().int() }).optional(),
  depends_on: z.array(z.string()).default([]),
});
const composeSchema = z.looseObject({ services: z.record(z.string(), serviceSchema) });

const compose = composeSchema.parse(
  parse(readFileSync(new URL("../compose.replicas.yaml", import.meta.url), "utf8")),
);
const { atelier, redis, "discord-proxy": discordProxy, "load-balancer": loadBalancer } = compose.services;

/** `${NAME:?message}` as compose would fill it from .env: here, with a sample value that is valid. */
function interpolated(value: string, samples: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?[?-][^}]*)?\}/g, (_, name: string) => {
    const sample = samples[name];
    if (sample === undefined)
      throw new Error(`compose.replicas.yaml uses \${${name}}: give the test a sample`);
    return sample;
  });
}

describe("compose.replicas.yaml", () => {
  it("runs N bot replicas, Redis, the Discord REST proxy and a load balancer, nothing else", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "atelier",
      "discord-proxy",
      "load-balancer",
      "redis",
    ]);
    expect(atelier?.build).toBe(".");
    expect(atelier?.deploy?.replicas).toBeGreaterThan(1);
    expect(atelier?.depends_on.sort()).toEqual(["discord-proxy", "redis"]);
    expect(discordProxy?.image).toMatch(/^discordjs\/proxy(:|$)/);
    expect(redis?.image).toMatch(/^redis(:|$)/);
  });

  it("starts each replica as the image does, with the node options of a shared deployment", () => {
    const [node, ...rest] = imageCommand();
    expect(atelier?.command).toEqual([node, ...sharedDeploymentNodeFlags, ...rest]);
  });

  it("sets only settings Atelier knows, with values it accepts, pointing at the services in the file", () => {
    const environment = atelier?.environment ?? {};
    const known = Object.keys(settingsSchema.shape);
    expect(Object.keys(environment).filter((name) => !known.includes(name))).toEqual([]);

    const settings = parseSettings(
      {
        ...Object.fromEntries(
          Object.entries(environment).map(([name, value]) => [
            name,
            interpolated(value, { DISCORD_PUBLIC_KEY: "ab".repeat(32) }),
          ]),
        ),
        DISCORD_TOKEN: "token-from-env-file",
        EVOLINK_API_KEY: "key-from-env-file",
      },
      "bot",
    );
    // Replicas behind a load balancer take interactions over HTTP, share state in Redis and
    // Discord's rate limits in the proxy.
    expect(settings.DISCORD_PUBLIC_KEY).toBeDefined();
    expect(settings.SHARD_COUNT).toBeUndefined();
    expect(settings.REDIS_URL).toBe("redis://redis:6379");
    const proxyPort = discordProxy?.environment.PORT ?? "8080";
    expect(settings.DISCORD_API_URL).toBe(`http://discord-proxy:${proxyPort}/api`);

    const balancedTo = loadBalancer?.command?.[loadBalancer.command.indexOf("--to") + 1];
    expect(balancedTo).toBe(`atelier:${settings.HTTP_PORT}`);
  });
});
