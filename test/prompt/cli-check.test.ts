import { Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../src/cli/check.ts";

function collector() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

async function run(args: string[], stdinText = "", options = {}) {
  const stdout = collector();
  const stderr = collector();
  const code = await runCheck(
    args,
    { stdin: Readable.from([stdinText]), stdout: stdout.stream, stderr: stderr.stream },
    options,
  );
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("atelier check", () => {
  it("prints the parsed prompt and the canonical jobs as one JSON line, exit 0", async () => {
    const { code, stdout, stderr } = await run(["a red fox —ar 3:2 --s 250 --r 2"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout.endsWith("\n")).toBe(true);
    expect(JSON.parse(stdout)).toEqual({
      ok: true,
      prompt: {
        images: [],
        text: "a red fox",
        params: { ar: "3:2", stylize: 250 },
        warnings: ["Read “—ar” as “--ar” (phones turn -- into —)"],
      },
      expanded: ["a red fox --ar 3:2 --stylize 250", "a red fox --ar 3:2 --stylize 250"],
    });
  });

  it("reads an unquoted prompt given as several arguments", async () => {
    const { code, stdout } = await run(["a", "fox", "--ar", "16:9"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).expanded).toEqual(["a fox --ar 16:9"]);
  });

  it("prints the error as JSON and the message on stderr, exit 1", async () => {
    const { code, stdout, stderr } = await run(["a fox --ar 1.5:1"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: {
        message: "--ar must be W:H with whole numbers, e.g. 16:9; no decimals, try 3:2",
        parameter: "--ar",
      },
    });
    expect(stderr).toBe("--ar must be W:H with whole numbers, e.g. 16:9; no decimals, try 3:2\n");
  });

  it("uses the job cap it is given", async () => {
    const { code, stdout } = await run(["{a,b,c} fox"], "", { maxJobs: 2 });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.message).toContain("the cap is 2");
  });

  it("prints usage and exits 2 without a prompt", async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(2);
    expect(stderr).toContain("usage: atelier check");
  });
});

describe("atelier check --jsonl", () => {
  it("answers every non-empty line with one JSON object and never stops on a bad line", async () => {
    const input = "a fox --ar 16:9\r\n\n   \na fox --chaos 900\nhttps://a.test/x.png\n{a,b} fox\n";
    const { code, stdout } = await run(["--jsonl"], input);
    expect(code).toBe(0);
    const lines = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.line, line.ok])).toEqual([
      [1, true],
      [4, false],
      [5, false],
      [6, true],
    ]);
    expect(lines[1].error.parameter).toBe("--chaos");
    expect(lines[3].expanded).toEqual(["a fox", "b fox"]);
  });

  it("handles a last line without a newline, and empty input", async () => {
    expect((await run(["--jsonl"], "a fox")).stdout).toContain('"expanded":["a fox"]');
    expect(await run(["--jsonl"], "")).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
