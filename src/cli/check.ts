// `atelier check "<prompt>"` and `atelier check --jsonl`: the prompt language from the command line,
// for people trying a prompt and for scripts checking many. Returns the exit code.
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseEnv } from "node:util";
import { ConfigError, parseSettings } from "../config.ts";
import { checkPrompt, type PromptCheck, type PromptOptions, renderPrompt } from "../prompt/index.ts";

export interface CheckIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE =
  'usage: atelier check "<prompt>"   or   atelier check --jsonl < prompts.txt   (atelier check --help for more)\n';

/** `args` as typed after `check`: `--jsonl`, or the prompt's words (an unquoted prompt arrives as several). */
export async function runCheck(args: string[], io: CheckIo, options?: PromptOptions): Promise<number> {
  if (args.includes("--jsonl")) return checkLines(io, options);
  return checkOne(args.join(" "), io, options);
}

/** Checks one prompt: its JSON on stdout, exit 0 or 1 (and the message on stderr); 2 when it is empty. */
export async function checkOne(input: string, io: CheckIo, options?: PromptOptions): Promise<number> {
  if (input.trim() === "") {
    await write(io.stderr, USAGE);
    return 2;
  }
  const result = checkPrompt(input, options);
  await write(io.stdout, `${JSON.stringify(toJson(result))}\n`);
  if (result.ok) return 0;
  await write(io.stderr, `${result.error.message}\n`);
  return 1;
}

/** One JSON object per non-empty input line, with its 1-based line number; never stops early. */
export async function checkLines(io: CheckIo, options?: PromptOptions): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    await write(
      io.stdout,
      `${JSON.stringify({ line: lineNumber, ...toJson(checkPrompt(line, options)) })}\n`,
    );
  }
  return 0;
}

/** The printed shape: the first job's parsed prompt and every job as canonical text. */
function toJson(result: PromptCheck): object {
  // The error as it always printed: English message and parameter (codes and values are for translation).
  if (!result.ok)
    return { ok: false, error: { message: result.error.message, parameter: result.error.parameter } };
  const { images, text, segments, params, warnings } = result.prompt;
  return {
    ok: true,
    prompt: { images, text, ...(segments ? { segments } : {}), params, warnings },
    expanded: result.expanded.map(renderPrompt),
  };
}

/** Writes and waits for the stream to drain when it asks to, so large batches do not pile up. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}

/**
 * The one setting `check` reads: PROMPT_MAX_JOBS from the environment or `.env` (the environment
 * wins, as for every setting). Nothing else is loaded, so a bad unrelated setting cannot stop it.
 * Throws an Error naming the setting when it is invalid.
 */
export function promptMaxJobs(env: NodeJS.ProcessEnv = process.env, envFile = ".env"): number {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  try {
    return parseSettings({ PROMPT_MAX_JOBS: env.PROMPT_MAX_JOBS ?? fromFile.PROMPT_MAX_JOBS }, "prompt")
      .PROMPT_MAX_JOBS;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new Error(`${error.problems.join("; ")} (environment or .env)`);
  }
}
