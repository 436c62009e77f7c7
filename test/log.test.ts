// The logger: JSON lines on pino, Errors with their stacks and causes, and no secret in any line.
import { describe, expect, it } from "vitest";
import { createLogger, defaultLogFormat } from "../src/log.ts";
import { ProviderError } from "../src/providers/types.ts";

const secret = "evk-log-test-secret-77";

function recording(level: "debug" | "info" | "warn" | "error" = "debug", secrets = [secret]) {
  const lines: string[] = [];
  const logger = createLogger({ level, secrets, write: (line) => lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe("createLogger", () => {
  it("writes one JSON line per record with the level's name, the message and the fields", () => {
    const { logger, lines, records } = recording("info");
    logger.debug("not shown");
    logger.info("atelier running", { provider: "evolink", skipped: undefined });
    logger.error("job crashed", { job: "j1" });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain("\n");
    expect(records()).toEqual([
      expect.objectContaining({ level: "info", msg: "atelier running", provider: "evolink" }),
      expect.objectContaining({ level: "error", msg: "job crashed", job: "j1" }),
    ]);
    expect(records()[0]).not.toHaveProperty("skipped");
  });

  it("logs an error with its cause: both stacks, its own fields, and no secret", () => {
    const { logger, lines, records } = recording();
    const cause = new Error(`connect refused for Bearer ${secret}`);
    const error = new ProviderError("transient", `EvoLink did not answer (key ${secret})`, {
      code: "ECONNREFUSED",
      maybeSubmitted: true,
      cause,
    });
    logger.error("job crashed", { job: "j1", error });

    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    const logged = records()[0]?.error as Record<string, unknown>;
    expect(logged).toMatchObject({
      type: "ProviderError",
      message: "EvoLink did not answer (key [redacted])",
      kind: "transient",
      code: "ECONNREFUSED",
      maybeSubmitted: true,
    });
    expect(logged.stack).toMatch(
      /^ProviderError: EvoLink did not answer \(key \[redacted\]\)\n\s+at .*log\.test\.ts/,
    );
    const loggedCause = logged.cause as Record<string, unknown>;
    expect(loggedCause).toMatchObject({ type: "Error", message: "connect refused for Bearer [redacted]" });
    expect(loggedCause.stack).toMatch(
      /^Error: connect refused for Bearer \[redacted\]\n\s+at .*log\.test\.ts/,
    );
  });

  it("keeps a cause that is not an Error and serializes Errors and bytes nested in fields", () => {
    const { logger, records } = recording();
    logger.warn("several failed", {
      failures: [new TypeError("first", { cause: "the disk was full" })],
      request: { files: [{ name: "grid.png", data: Buffer.alloc(2048) }] },
    });
    const record = records()[0] ?? {};
    expect(record.failures).toEqual([
      expect.objectContaining({ type: "TypeError", message: "first", cause: "the disk was full" }),
    ]);
    expect(record.request).toEqual({ files: [{ name: "grid.png", data: "[2048 bytes]" }] });
  });

  it("redacts a secret in any position, also where JSON escapes it", () => {
    const quoted = 'pa"ss\\word';
    const { logger, lines } = recording("debug", [secret, quoted, "abc"]);
    logger.info(`sent ${secret}`, {
      header: `Bearer ${secret}`,
      password: quoted,
      [secret]: 1,
      short: "abc",
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toContain(JSON.stringify(quoted).slice(1, -1));
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      msg: "sent [redacted]",
      header: "Bearer [redacted]",
      password: "[redacted]",
      "[redacted]": 1,
      short: "abc", // shorter than 4 characters: too common to be treated as a secret
    });
  });
});

describe("pretty format", () => {
  function pretty(secrets = [secret]) {
    const texts: string[] = [];
    const logger = createLogger({
      level: "debug",
      format: "pretty",
      secrets,
      write: (text) => texts.push(text),
    });
    return { logger, texts };
  }

  it("writes readable text: level, message, then the fields", () => {
    const { logger, texts } = pretty();
    logger.info("atelier running", { provider: "evolink" });
    logger.debug("detail");
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: atelier running\n\s+provider: "evolink"$/);
    expect(texts[1]).toMatch(/DEBUG: detail$/);
    expect(() => JSON.parse(texts[0] ?? "")).toThrow();
  });

  it("redacts secrets in the message, the fields, an error's stack and its cause", () => {
    const quoted = 'pa"ss\\word';
    const { logger, texts } = pretty([secret, quoted]);
    const cause = new Error(`connect refused for Bearer ${secret}`);
    logger.error(`sent ${secret}`, {
      header: `Bearer ${secret}`,
      password: quoted,
      error: new ProviderError("transient", `EvoLink did not answer (key ${secret})`, { cause }),
    });
    expect(texts).toHaveLength(1);
    const text = texts[0] ?? "";
    expect(text).not.toContain(secret);
    expect(text).not.toContain(quoted);
    expect(text).not.toContain(JSON.stringify(quoted).slice(1, -1));
    expect(text).toContain("ERROR: sent [redacted]");
    expect(text).toContain('header: "Bearer [redacted]"');
    expect(text).toMatch(/ProviderError: EvoLink did not answer \(key \[redacted\]\)\n\s+at .*log\.test\.ts/);
    expect(text).toMatch(/Error: connect refused for Bearer \[redacted\]\n\s+at .*log\.test\.ts/);
  });

  it("is the default on a terminal; JSON lines otherwise", () => {
    expect(defaultLogFormat({ isTTY: true })).toBe("pretty");
    expect(defaultLogFormat({ isTTY: false })).toBe("json");
    expect(defaultLogFormat({})).toBe("json");
  });
});
