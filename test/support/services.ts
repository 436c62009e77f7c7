// Tests that need a program the machine may lack (redis-server, Chromium) follow one rule:
// - present: they run;
// - absent: they are skipped, and the run prints ONE line saying so (not one per test file);
// - absent while CI_REQUIRE_SERVICES=1 (what `.ci/run` sets): they run and fail, naming what is
//   missing and how to install it, so CI can never pass by skipping them.
// ATELIER_TEST_WITHOUT=redis-server,chromium makes the named programs count as absent, to try the
// rule on a machine that has them.
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ExternalProgram {
  /** What is looked for, e.g. `redis-server`. */
  name: string;
  /** The tests that need it, e.g. `Redis store tests`. */
  tests: string;
  /** How to get it, e.g. `apt-get install -y redis-server`. */
  install: string;
  /** Whether this machine has it. */
  isInstalled(): boolean;
}

export type ServiceDecision = "run" | "skip";

/** Absent programs fail the run instead of skipping their tests (CI sets this). */
export function servicesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI_REQUIRE_SERVICES === "1";
}

function hiddenPrograms(env: NodeJS.ProcessEnv): Set<string> {
  return new Set((env.ATELIER_TEST_WITHOUT ?? "").split(",").map((name) => name.trim()));
}

/** Whether the program counts as installed here (ATELIER_TEST_WITHOUT can hide it). */
export function isPresent(program: ExternalProgram, env: NodeJS.ProcessEnv = process.env): boolean {
  return !hiddenPrograms(env).has(program.name) && program.isInstalled();
}

/** The rule, as data: only an absent program that is not required skips its tests. */
export function decide(present: boolean, required: boolean): ServiceDecision {
  return present || required ? "run" : "skip";
}

/** The one line a run prints when it skips a program's tests. */
export function skipNotice(program: ExternalProgram): string {
  return `${program.name} not installed: ${program.tests} skipped (CI installs it: ${program.install})`;
}

/**
 * Prints `line` once per test run, however many test files skip the same tests: each file runs in
 * its own worker process, so the first to claim a marker named after the run's main process prints.
 */
function warnOncePerRun(key: string, line: string): void {
  const marker = join(tmpdir(), `${markerPrefix}${process.ppid}-${key}`);
  try {
    writeFileSync(marker, "", { flag: "wx" });
  } catch {
    return; // another test file of this run already said it
  }
  removeMarkersOfEndedRuns();
  console.warn(line);
}

const markerPrefix = "atelier-test-skip-";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Markers are empty files; those of runs that have ended are removed by the next run that skips. */
function removeMarkersOfEndedRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(name.slice(markerPrefix.length).split("-")[0]);
    if (name.startsWith(markerPrefix) && Number.isInteger(pid) && pid > 0 && !isRunning(pid))
      rmSync(join(tmpdir(), name), { force: true });
  }
}

/**
 * Whether the tests needing `program` should run (for `describe.runIf`). When they are skipped,
 * the run prints one line saying so; when the program is required but absent they run, and
 * `requirePresent` (called by the helper that starts it) fails them with a clear message.
 */
export function shouldRun(program: ExternalProgram, env: NodeJS.ProcessEnv = process.env): boolean {
  const decision = decide(isPresent(program, env), servicesRequired(env));
  if (decision === "skip") warnOncePerRun(program.name, skipNotice(program));
  return decision === "run";
}

/** Throws a message naming the missing program and how to install it. */
export function requirePresent(program: ExternalProgram, env: NodeJS.ProcessEnv = process.env): void {
  if (isPresent(program, env)) return;
  const why = servicesRequired(env) ? " CI_REQUIRE_SERVICES=1 makes its absence a failure." : "";
  throw new Error(
    `${program.name} is not installed, and the ${program.tests} need it: run \`${program.install}\` (.ci/run does this).${why}`,
  );
}
