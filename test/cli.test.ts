// The `atelier` command as a newcomer runs it: the real bin script in a child process.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvolinkEmulator, startEvolinkEmulator } from "../emulators/index.ts";
import { expectSetWritten, runAtelier } from "./support/cli.ts";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

describe("atelier: help, version, usage errors", () => {
  it("lists every command with examples on --help, exit 0", async () => {
    const result = await runAtelier(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: atelier /);
    for (const command of ["start", "check", "imagine", "playground"]) {
      expect(result.stdout).toContain(`  ${command}`);
    }
    expect(result.stdout).toContain("Examples:");
  });

  it.each([
    ["check", ["--jsonl", "Examples:", "atelier check -- --help"]],
    ["imagine", ["--out <dir>", "--provider <name>", "--speed <speed>", "--quality <quality>", "Examples:"]],
    ["start", ["Examples:"]],
    ["playground", ["--port <port>", "Examples:"]],
  ])("shows usage, options and examples for `atelier %s --help`", async (command, expected) => {
    const result = await runAtelier([command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: atelier ${command}`);
    for (const text of expected) expect(result.stdout).toContain(text);
    expect((await runAtelier(["help", command])).stdout).toBe(result.stdout);
  });

  it("prints the package version for --version and -V", async () => {
    for (const flag of ["--version", "-V"]) {
      const result = await runAtelier([flag]);
      expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
    }
  });

  it("exits 2 with the help on stderr when no command is given, and names an unknown command", async () => {
    const none = await runAtelier([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: atelier");
    const unknown = await runAtelier(["chekc", "a fox"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'chekc'");
    expect(unknown.stderr).toContain("Did you mean check?");
  });
});

describe("atelier check", () => {
  it("reads an em dash as a parameter marker and says so", async () => {
    const result = await runAtelier(["check", "a cat —ar 16:9 --s 250"]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.ok).toBe(true);
    expect(parsed.prompt.params).toMatchObject({ ar: "16:9", stylize: 250 });
    expect(parsed.prompt.warnings.join(" ")).toMatch(/—ar/);
  });

  it("exits 1 naming --ar and the expected form", async () => {
    const result = await runAtelier(["check", "a cat --ar banana"]);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.error.parameter).toBe("--ar");
    expect(parsed.error.message).toMatch(/W:H/);
  });

  it("reads an unquoted prompt's --words as its parameters, the same as the quoted prompt", async () => {
    const quoted = await runAtelier(["check", "a fox --ar 3:2 --no red"]);
    const unquoted = await runAtelier(["check", "a", "fox", "--ar", "3:2", "--no", "red"]);
    expect(quoted.code).toBe(0);
    expect(unquoted).toEqual(quoted);
    expect(JSON.parse(quoted.stdout).expanded).toEqual(["a fox --ar 3:2 --no red"]);
  });

  it("checks a prompt that is literally --help when it follows --", async () => {
    const result = await runAtelier(["check", "--", "--help"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.parameter).toBe("--help");
    const more = await runAtelier(["check", "a", "fox", "--ar", "3:2", "--", "--s", "100"]);
    expect(JSON.parse(more.stdout).expanded).toEqual(["a fox --ar 3:2 --stylize 100"]);
  });

  it("exits 2 when given both --jsonl and a prompt, or nothing", async () => {
    const both = await runAtelier(["check", "a fox", "--jsonl"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--jsonl reads prompts from stdin/);
    expect((await runAtelier(["check"])).code).toBe(2);
  });

  it("runs whatever unrelated settings say, reading only PROMPT_MAX_JOBS (environment or .env)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atelier-check-env-"));
    try {
      writeFileSync(join(dir, ".env"), "DISCORD_API_URL=not a url\nPROMPT_MAX_JOBS=2\nREDIS_URL=http://x\n");
      const bad = {
        DISCORD_API_URL: "nope",
        PROVIDER: "nobody",
        EVOLINK_BASE_URL: "ftp://x",
        HTTP_PORT: "-1",
      };
      const fine = await runAtelier(["check", "a fox --ar 3:2"], bad, dir);
      expect(fine.code).toBe(0);
      expect(JSON.parse(fine.stdout).ok).toBe(true);
      const capped = await runAtelier(["check", "{a,b,c} fox"], bad, dir);
      expect(capped.code).toBe(1);
      expect(JSON.parse(capped.stdout).error.message).toMatch(/the cap is 2/);
      const invalid = await runAtelier(["check", "a fox"], { ...bad, PROMPT_MAX_JOBS: "99" }, dir);
      expect(invalid.code).toBe(1);
      expect(invalid.stdout).toBe("");
      expect(invalid.stderr).toBe(
        "atelier check: PROMPT_MAX_JOBS must be at most 40 (environment or .env)\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 1 explaining that one image needs text", async () => {
    const result = await runAtelier(["check", "https://x.test/a.png"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.message).toMatch(/one image needs text/i);
  });
});

describe("atelier imagine", () => {
  const apiKey = "evk-cli-test-key-0123";
  let emulator: EvolinkEmulator;
  let out: string;

  beforeAll(async () => {
    emulator = await startEvolinkEmulator({ apiKey, taskDurationMs: 300, tileLongSide: 300 });
    out = mkdtempSync(join(tmpdir(), "atelier-cli-"));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("writes a 2×2 grid twice the tile size and the four images, in order", async () => {
    const env = { EVOLINK_BASE_URL: emulator.baseUrl, EVOLINK_API_KEY: apiKey, POLL_INTERVAL_SECONDS: "0.1" };
    const result = await runAtelier(["imagine", "a red fox --ar 3:2", "--out", out], env);
    expect(result.stderr).not.toContain(apiKey);
    expect(result.code).toBe(0);
    await expectSetWritten(out, { tile: [300, 200] });
  });

  it("fails with one clear line naming the setting when the key is wrong", async () => {
    const env = { EVOLINK_BASE_URL: emulator.baseUrl, EVOLINK_API_KEY: "evk-wrong-key-9999" };
    const result = await runAtelier(["imagine", "a red fox", "--out", out], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EVOLINK_API_KEY/);
    expect(result.stderr).not.toContain("evk-wrong-key-9999");
  });

  const sent = () => emulator.apiRequests().length;
  const settings = () => ({
    EVOLINK_BASE_URL: emulator.baseUrl,
    EVOLINK_API_KEY: apiKey,
    POLL_INTERVAL_SECONDS: "0.1",
  });

  it("creates a missing --out directory", async () => {
    const nested = join(out, "new", "deeper");
    const result = await runAtelier(
      ["imagine", "a red fox", "--out", nested, "--speed", "turbo"],
      settings(),
    );
    expect(result.code).toBe(0);
    expect(readdirSync(nested)).toContain("4.png");
    expect(readdirSync(nested).filter((name) => name.startsWith(".atelier"))).toEqual([]);
  });

  it("exits 2 before anything is sent when --out cannot hold the images", async () => {
    const file = join(out, "a-file");
    writeFileSync(file, "");
    const before = sent();
    for (const [dir, reason] of [
      [file, "it is a file, not a directory"],
      [join(file, "sub"), "part of the path is a file"],
    ] as const) {
      const result = await runAtelier(["imagine", "a red fox", "--out", dir], settings());
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`atelier imagine: --out ${dir} cannot hold the images: ${reason}`);
    }
    expect(existsSync(join(file, "sub"))).toBe(false);
    expect(sent()).toBe(before);
  });

  it("names an unknown option with a suggestion, exit 2, nothing sent", async () => {
    const before = sent();
    const result = await runAtelier(["imagine", "a fox", "--outt", out], settings());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--outt'");
    expect(result.stderr).toContain("Did you mean --out?");
    expect(sent()).toBe(before);
  });

  it.each([
    [["imagine", "a fox"], /required option '-o, --out <dir>'/],
    [["imagine", "--out", "x"], /missing required argument 'prompt'/],
    [
      ["imagine", "a fox", "--out", "x", "--speed", "warp"],
      /argument 'warp' is invalid.*draft, fast, turbo, relax/,
    ],
    [["imagine", "a fox", "--out"], /option '-o, --out <dir>' argument missing/],
  ])("exits 2 on a wrong command line: %j", async (args, message) => {
    const before = sent();
    const result = await runAtelier(args, settings());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(sent()).toBe(before);
  });

  it("stops before anything is sent when the settings are missing", async () => {
    const result = await runAtelier(["imagine", "a red fox", "--out", out], {
      EVOLINK_BASE_URL: emulator.baseUrl,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EVOLINK_API_KEY is missing/);
  });
});
