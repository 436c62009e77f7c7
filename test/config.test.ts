import { describe, expect, it } from "vitest";
import { ConfigError, loadSettings, parseSettings, secretValues, shardsOf } from "../src/config.ts";
import { createLogger } from "../src/log.ts";

const base = { DISCORD_TOKEN: "discord-secret-token-value", EVOLINK_API_KEY: "sk-evolink-secret-value" };

function problemsOf(env: NodeJS.ProcessEnv, purpose: "prompt" | "provider" | "bot"): string[] {
  try {
    parseSettings(env, purpose);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("settings", () => {
  it("fills documented defaults", () => {
    const settings = parseSettings(base, "bot");
    expect(settings.PROVIDER).toBe("evolink");
    expect(settings.EVOLINK_BASE_URL).toBe("https://api.evolink.ai");
    expect(settings.DATA_DIR).toBe("./data");
    expect(settings.PROMPT_MAX_JOBS).toBe(10);
    expect(settings.REDIS_URL).toBeUndefined();
  });

  it("treats empty lines copied from .env.example as unset", () => {
    const settings = parseSettings(
      { ...base, DISCORD_API_URL: "", TASK_TIMEOUT_MINUTES: " ", REDIS_URL: "" },
      "bot",
    );
    expect(settings.DISCORD_API_URL).toBeUndefined();
    expect(settings.TASK_TIMEOUT_MINUTES).toBeUndefined();
  });

  it("needs nothing to check prompts", () => {
    expect(problemsOf({}, "prompt")).toEqual([]);
  });

  it("lists every problem at once, naming each setting and how to fix it", () => {
    const problems = problemsOf(
      {
        ...base,
        PROVIDER: "dalle",
        PROMPT_MAX_JOBS: "lots",
        DISCORD_API_URL: "not a url",
        DISCORD_GUILD_ID: "abc",
      },
      "bot",
    );
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/PROVIDER must be one of: evolink, mjapi, midjourney-proxy/);
    expect(problems.join("\n")).toMatch(/PROMPT_MAX_JOBS must be a whole number/);
    expect(problems.join("\n")).toMatch(/DISCORD_API_URL must be an http\(s\) URL/);
    expect(problems.join("\n")).toMatch(/DISCORD_GUILD_ID must be a server \(guild\) id/);
  });

  it("asks for the token and the provider key the command needs", () => {
    expect(problemsOf({}, "bot")).toEqual([
      "EVOLINK_API_KEY is missing: PROVIDER is evolink, which needs its API key.",
      "DISCORD_TOKEN is missing: copy the bot token from the Discord developer portal (Bot → Token).",
    ]);
    expect(problemsOf({ PROVIDER: "mjapi", MJAPI_API_KEY: "k" }, "provider")).toEqual([
      "MJAPI_BASE_URL is missing: set the base URL of your mjapi server.",
    ]);
  });

  it("never prints a secret, even when the secret is malformed", () => {
    const error = (() => {
      try {
        parseSettings({ ...base, REDIS_URL: "http://user:pa55word-secret@host", PROVIDER: "x" }, "bot");
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/REDIS_URL must start with redis:\/\//);
    expect(error?.message).not.toContain("pa55word-secret");
    expect(error?.message).not.toContain(base.DISCORD_TOKEN);
  });

  it("reads LOG_LEVEL and LOG_FORMAT in any case, and names the choices when wrong", () => {
    expect(parseSettings({ ...base, LOG_LEVEL: "DEBUG" }, "bot").LOG_LEVEL).toBe("debug");
    expect(parseSettings({ ...base, LOG_LEVEL: " Info " }, "bot").LOG_LEVEL).toBe("info");
    expect(parseSettings(base, "bot").LOG_LEVEL).toBe("info");
    expect(parseSettings({ ...base, LOG_FORMAT: "Pretty" }, "bot").LOG_FORMAT).toBe("pretty");
    expect(parseSettings({ ...base, LOG_FORMAT: "JSON" }, "bot").LOG_FORMAT).toBe("json");
    expect(parseSettings(base, "bot").LOG_FORMAT).toBeUndefined();
    expect(problemsOf({ ...base, LOG_LEVEL: "verbose", LOG_FORMAT: "xml" }, "bot")).toEqual([
      "LOG_LEVEL must be one of: debug, info, warn, error (any case)",
      "LOG_FORMAT must be one of: json, pretty (any case)",
    ]);
  });

  it("takes DISCORD_PUBLIC_KEY only as 64 hex characters, and says where to find it", () => {
    const key = "a".repeat(64);
    expect(parseSettings({ ...base, DISCORD_PUBLIC_KEY: key }, "bot").DISCORD_PUBLIC_KEY).toBe(key);
    for (const wrong of ["a".repeat(63), "g".repeat(64), `${key} extra`])
      expect(problemsOf({ ...base, DISCORD_PUBLIC_KEY: wrong }, "bot")).toEqual([
        expect.stringMatching(
          /^DISCORD_PUBLIC_KEY must be .*64 hex characters.*General Information → Public Key/,
        ),
      ]);
  });

  it("accepts only an HTTPS public URL for provider callbacks", () => {
    expect(problemsOf({ ...base, PUBLIC_URL: "http://bot.example.com" }, "bot")[0]).toMatch(
      /PUBLIC_URL must be an https/,
    );
    expect(parseSettings({ ...base, PUBLIC_URL: "https://bot.example.com/" }, "bot").PUBLIC_URL).toBe(
      "https://bot.example.com",
    );
  });

  it("reads gateway shards and refuses shard ids outside SHARD_COUNT", () => {
    expect(shardsOf(parseSettings(base, "bot"))).toBeUndefined();
    expect(shardsOf(parseSettings({ ...base, SHARD_COUNT: "3" }, "bot"))).toEqual({
      count: 3,
      ids: [0, 1, 2],
    });
    expect(shardsOf(parseSettings({ ...base, SHARD_COUNT: "4", SHARD_IDS: " 3, 1,1" }, "bot"))).toEqual({
      count: 4,
      ids: [1, 3],
    });
    expect(problemsOf({ ...base, SHARD_IDS: "0,1" }, "bot")).toEqual([
      "SHARD_IDS is set without SHARD_COUNT: set SHARD_COUNT to the number of shards all processes share (e.g. SHARD_COUNT=2).",
    ]);
    expect(problemsOf({ ...base, SHARD_COUNT: "2", SHARD_IDS: "1,2" }, "bot")).toEqual([
      "SHARD_IDS 2 is not a shard of SHARD_COUNT=2: shard ids go from 0 to 1.",
    ]);
    expect(problemsOf({ ...base, SHARD_COUNT: "2", DISCORD_PUBLIC_KEY: "ab".repeat(32) }, "bot")).toEqual([
      "SHARD_COUNT and SHARD_IDS split the gateway, but with DISCORD_PUBLIC_KEY interactions come over HTTP and no gateway is opened: unset one or the other.",
    ]);
    expect(problemsOf({ ...base, SHARD_COUNT: "0", SHARD_IDS: "one" }, "bot")).toEqual([
      "SHARD_COUNT must be at least 1",
      "SHARD_IDS must be shard ids: whole numbers from 0, comma-separated (e.g. 0,1)",
    ]);
  });

  it("unsets blank settings for libraries too (discord.js would read SHARD_COUNT= as 0 shards)", () => {
    const saved = process.env.SHARD_COUNT;
    process.env.SHARD_COUNT = " ";
    try {
      expect(loadSettings("prompt", "no-such-env-file").SHARD_COUNT).toBeUndefined();
      expect("SHARD_COUNT" in process.env).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.SHARD_COUNT;
      else process.env.SHARD_COUNT = saved;
    }
  });

  it("keeps configured secrets out of every log line, even when foreign text echoes them", () => {
    const settings = parseSettings(base, "bot");
    const lines: string[] = [];
    const logger = createLogger({
      level: "debug",
      secrets: secretValues(settings),
      write: (line) => lines.push(line),
    });
    logger.warn(`Bearer ${base.EVOLINK_API_KEY} failed`, { echoed: base.DISCORD_TOKEN });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "warn",
      msg: "Bearer [redacted] failed",
      echoed: "[redacted]",
    });
  });

  it("keeps configured secrets out of pretty logs too (LOG_FORMAT=pretty)", () => {
    const settings = parseSettings({ ...base, LOG_FORMAT: "pretty" }, "bot");
    const texts: string[] = [];
    const logger = createLogger({
      level: settings.LOG_LEVEL,
      format: settings.LOG_FORMAT,
      secrets: secretValues(settings),
      write: (text) => texts.push(text),
    });
    logger.warn(`Bearer ${base.EVOLINK_API_KEY} failed`, { echoed: base.DISCORD_TOKEN });
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain("WARN: Bearer [redacted] failed");
    expect(texts[0]).toContain('echoed: "[redacted]"');
    expect(texts[0]).not.toContain(base.EVOLINK_API_KEY);
    expect(texts[0]).not.toContain(base.DISCORD_TOKEN);
  });
});

describe("documentation of settings", () => {
  it(".env.example lists every setting", async () => {
    const { readFile } = await import("node:fs/promises");
    const { settingsSchema } = await import("../src/config.ts");
    const example = await readFile(new URL("../.env.example", import.meta.url), "utf8");
    const listed = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]).sort();
    expect(listed).toEqual(Object.keys(settingsSchema.shape).sort());
  });

  it("the README's settings table lists every setting", async () => {
    const { readFile } = await import("node:fs/promises");
    const { settingsSchema } = await import("../src/config.ts");
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const listed = [...readme.matchAll(/^\| `([A-Z0-9_]+)`\s+\|/gm)].map((match) => match[1]).sort();
    expect(listed).toEqual(Object.keys(settingsSchema.shape).sort());
  });
});
