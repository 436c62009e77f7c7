// Several providers configured at once: PROVIDER as a comma-separated list (the first is the
// default), each one made from its own settings, found again by the name stored with a job.
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, configuredProviders, parseSettings } from "../../src/config.ts";
import { createProvider, createProviders, registryOf } from "../../src/providers/index.ts";

const keys = {
  EVOLINK_API_KEY: "evk-registry-test-key",
  MJAPI_API_KEY: "mjapi-registry-test-key",
  MJAPI_BASE_URL: "http://127.0.0.1:9/v1",
  MIDJOURNEY_PROXY_BASE_URL: "http://127.0.0.1:9/mj",
};

/** The problems parseSettings lists for `env` (none when it accepts it). */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  const outcome = (() => {
    try {
      return parseSettings(env, "provider");
    } catch (error) {
      return error;
    }
  })();
  if (outcome instanceof Error && !(outcome instanceof ConfigError)) throw outcome;
  return outcome instanceof ConfigError ? outcome.problems : [];
}

describe("PROVIDER", () => {
  it("takes several names, comma-separated, the first being the default", () => {
    const settings = parseSettings(
      { ...keys, PROVIDER: " midjourney-proxy, evolink ,mjapi,evolink" },
      "provider",
    );
    expect(settings.PROVIDER).toBe("midjourney-proxy,evolink,mjapi");
    expect(configuredProviders(settings)).toEqual(["midjourney-proxy", "evolink", "mjapi"]);
    expect(configuredProviders(parseSettings(keys, "provider"))).toEqual(["evolink"]);
  });

  it("names what it does not know and lists the known names", () => {
    const [problem, ...more] = problemsOf({ ...keys, PROVIDER: "evolink,dalle" });
    expect(more).toEqual([]);
    expect(problem).toMatch(
      /^PROVIDER must be one of: evolink, mjapi, midjourney-proxy, openai, gemini, bfl, comfyui, a1111 \("dalle" is not\)/,
    );
    expect(problemsOf({ ...keys, PROVIDER: " , " })[0]).toMatch(/PROVIDER must be one of/);
  });

  it("asks for the settings of every listed provider", () => {
    expect(problemsOf({ PROVIDER: "mjapi,evolink" })).toEqual([
      "MJAPI_API_KEY is missing: PROVIDER lists mjapi, which needs its API key.",
      "MJAPI_BASE_URL is missing: set the base URL of your mjapi server.",
      "EVOLINK_API_KEY is missing: PROVIDER lists evolink, which needs its API key.",
    ]);
  });
});

describe("createProviders", () => {
  it("makes each listed provider, by name, the first as the default", async () => {
    const settings = parseSettings({ ...keys, PROVIDER: "mjapi,midjourney-proxy,evolink" }, "provider");
    const providers = createProviders(settings);
    expect(providers.names()).toEqual(["mjapi", "midjourney-proxy", "evolink"]);
    expect(providers.default.name).toBe("mjapi");
    expect(providers.all().map((provider) => provider.name)).toEqual(providers.names());
    expect(providers.get("midjourney-proxy")?.capabilities.blend).toBe(true);
    expect(providers.get("evolink")?.capabilities.blend).toBe(false);
    expect(providers.get("dalle")).toBeUndefined();
    await providers.closeAll();
  });

  it("keeps createProvider: the default, or the one named", async () => {
    const settings = parseSettings({ ...keys, PROVIDER: "evolink,mjapi" }, "provider");
    const fallback = createProvider(settings);
    const named = createProvider(settings, undefined, "mjapi");
    expect([fallback.name, named.name]).toEqual(["evolink", "mjapi"]);
    await Promise.all([fallback.close?.(), named.close?.()]);
  });

  it("refuses an empty registry and two providers of one name", () => {
    const settings = parseSettings(keys, "provider");
    expect(() => registryOf([])).toThrow(/at least one/);
    expect(() => registryOf([createProvider(settings), createProvider(settings)])).toThrow(/same name/);
  });
});

describe("atelier imagine --provider", () => {
  it("refuses a provider PROVIDER does not list, naming the ones it does, before sending anything", async () => {
    const bin = new URL("../../bin/atelier.mjs", import.meta.url).pathname;
    const run = promisify(execFile)(
      process.execPath,
      [bin, "imagine", "a fox", "--out", tmpdir(), "--provider", "mjapi"],
      {
        env: { PATH: process.env.PATH ?? "", PROVIDER: "evolink,midjourney-proxy", ...keys },
        cwd: tmpdir(),
      },
    );
    const failed = (await run.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code: number; stderr: string };
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      "--provider mjapi is not configured: PROVIDER lists evolink, midjourney-proxy.",
    );
  });
});
