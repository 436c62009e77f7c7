// The `atelier` command as a newcomer runs it: the real bin script in a child process, with only the
// environment given (plus PATH and HOME), in a temporary directory. Never throws: the exit code,
// stdout and stderr come back for the test to look at.
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = new URL("../../bin/atelier.mjs", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runAtelier(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const options = {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    cwd: tmpdir(),
  };
  return run(process.execPath, [bin, ...args], options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}
