// Bot benchmark: the real bot (`atelier start`, own processes) against the in-repo fake Discord (this
// process) and the EvoLink emulator (a process of its own), in two deployments side by side: one
// process on the embedded store (gateway), and three processes on one Redis (HTTP interactions,
// round-robin). Prints figures with targets; never asserts.
//
//   1. 500 /imagine at 50/s while 1024² grids render (provider completes at once): first response.
//   2. The same at rates this machine sustains (--rate, default 4 and 6/s): provider completed →
//      grid on Discord, and CPU per job at steady state (three processes against one; 20 jobs per
//      process run first; both deployments run twice, one, three, three, one, for the CPU ratio).
//   3. 1,000 jobs in flight (provider takes 60 s, small tiles): peak RSS, event-loop delay, rates.
//
// Run: node bin/run-ts.mjs bench/bot.ts [--quick] [--rate N] [--warm-up N] [--only one|three-redis|one-redis] [--scenario 1,2,3] [--all] [--profile DIR]
//   --quick    smaller counts (a smoke run, figures not comparable to the targets)
//   --rate     /imagine per second for scenario 2, comma-separated for several (e.g. 4,6)
//   --warm-up  jobs each bot process runs before scenario 2 is measured
//   --only     one deployment only
//   --scenario the scenarios to run, comma-separated (default all three)
//   --all      also run 1 s tasks with provider callbacks (one process: callbacks reach one process)
//   --profile  write V8 CPU profiles of the bot processes into DIR (open in Chrome DevTools)
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import type { BenchWorldOptions, Deployment } from "./support/bench-world.ts";
import {
  type BurstResult,
  burstNotes,
  burstRows,
  cpuRatioRows,
  type InFlightResult,
  inFlightRows,
  problemLines,
  renderComparison,
  runBurst,
  runInFlight,
  stopSampling,
} from "./support/scenarios.ts";
import { fixed } from "./support/stats.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const quick = args.includes("--quick");
const runAll = args.includes("--all");
const cpuProfileDir = option("--profile");
if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
const sustainedRates = (option("--rate") ?? "4,6").split(",").map(Number);
const only = option("--only") as Deployment | undefined;
const deployments: Deployment[] = only ? [only] : ["one", "three-redis"];
const scenarios = new Set((option("--scenario") ?? "1,2,3").split(",").map(Number));

const burstCount = quick ? 100 : 500;
const sustainedSeconds = quick ? 8 : 30;
/**
 * Scenario 2 compares CPU per job at steady state, so every bot process first runs this many jobs:
 * each process compiles its own hot code (V8's optimizing compiler, in the bot and its image
 * worker), and in a 30 s phase at 4/s each of three processes runs 40 jobs to one process's 120,
 * so that one-off cost weighed three times as much per job. Measured (4/s, one run each, per-thread
 * CPU from /proc): the image workers took 14.6 s (one) against 18.5 s (three) after 2 warm-up jobs
 * per process, 16.6 s against 17.6 s after 20.
 */
const sustainedWarmUpPerProcess = Number(option("--warm-up") ?? (quick ? 2 : 20));
if (!Number.isInteger(sustainedWarmUpPerProcess) || sustainedWarmUpPerProcess < 0)
  throw new Error(`--warm-up takes a whole number of jobs (0 or more), not "${option("--warm-up")}"`);
const inFlightCount = quick ? 200 : 1000;
const inFlightTaskMs = quick ? 15_000 : 60_000;
/**
 * The job limits (MAX_RUNNING_JOBS and the per-user ones) are lifted in every scenario: the figures
 * are about the bot's own pipeline, and scenario 3 needs 1,000 tasks at the provider at once.
 */
const liftedLimits = { MAX_RUNNING_JOBS: 5000, MAX_RUNNING_PER_USER: 5000, MAX_QUEUED_PER_USER: 5000 };
const world = (deployment: Deployment, changes: Partial<BenchWorldOptions> = {}): BenchWorldOptions => ({
  deployment,
  taskDurationMs: 0,
  tileLongSide: 1024,
  pollSeconds: 3,
  callbacks: false,
  cpuProfileDir,
  overrides: liftedLimits,
  ...changes,
});
const load = () =>
  `load average ${loadavg()
    .map((value) => fixed(value, 2))
    .join(" ")}`;

console.log(
  [
    "Atelier bot benchmark — the bot runs in child processes (`atelier start`, production defaults): one",
    "on SQLite over the gateway, or three on one Redis (redis-server started here as compose runs it)",
    "taking interactions over HTTP round-robin. The fake Discord runs in this process (HTTP interactions",
    "are POSTed and timed by a thread of their own, as Discord's edge is not busy with the grid uploads",
    "the fake parses; the figure timed on the fake's loop is shown too); the EvoLink emulator and its",
    "caching front (each distinct result image served from memory, like a CDN) in a process of their",
    "own. The bench changes no priority (the bot lowers its own threads and its image worker itself, as",
    "it does anywhere); bot figures count every bot process and its image worker (read from /proc),",
    "never these.",
    `Job limits lifted: ${Object.entries(liftedLimits)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ")}. Start: ${load()}.`,
  ].join("\n"),
);
const benchStarted = Date.now();

async function eachDeployment<R>(run: (deployment: Deployment) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const deployment of deployments) results.push(await run(deployment));
  return results;
}

function print(title: string, rows: Parameters<typeof renderComparison>[2], notes: string[] = []): void {
  console.log(renderComparison(title, deployments, rows) + notes.map((line) => `\n  • ${line}`).join(""));
}

if (scenarios.has(1)) {
  const underLoad: BurstResult[] = await eachDeployment((deployment) =>
    runBurst({ count: burstCount, perSecond: 50, world: world(deployment) }),
  );
  print(
    `1 — ${burstCount} /imagine at 50/s while 1024² grids render (provider completes at once, polls every 3 s)`,
    burstRows(underLoad, { firstResponse: true, grid: false }),
    [...burstNotes(underLoad), ...problemLines(underLoad), load()],
  );
}

for (const rate of scenarios.has(2) ? sustainedRates : []) {
  const sustainedRun = (deployment: Deployment) =>
    runBurst({
      count: rate * sustainedSeconds,
      perSecond: rate,
      warmUpPerProcess: sustainedWarmUpPerProcess,
      world: world(deployment),
    });
  const sustained: BurstResult[] = await eachDeployment(sustainedRun);
  // The CPU ratio compares phases run one after another on a shared machine, whose speed drifts:
  // with both deployments, a second pass in reverse order (one, three, three, one) lets drift weigh
  // on both alike, and doubles the jobs the ratio is taken over.
  const [oneSustained, manySustained] = sustained;
  const secondPass =
    oneSustained && manySustained
      ? { many: await sustainedRun("three-redis"), one: await sustainedRun("one") }
      : undefined;
  print(
    `2 — ${rate} /imagine/s for ${sustainedSeconds} s while 1024² grids render (a rate this machine sustains; ${sustainedWarmUpPerProcess} jobs per process first)`,
    [
      ...burstRows(sustained, { firstResponse: true, grid: true }),
      ...(oneSustained && manySustained && secondPass
        ? cpuRatioRows([oneSustained, secondPass.one], [manySustained, secondPass.many])
        : []),
    ],
    [...burstNotes(sustained), ...problemLines(sustained), load()],
  );
}

if (runAll && deployments.includes("one")) {
  const withCallbacks = await runBurst({
    count: burstCount,
    perSecond: 50,
    world: world("one", { taskDurationMs: 1000, callbacks: true }),
  });
  console.log(
    renderComparison(
      `extra — ${burstCount} /imagine at 50/s, 1 s tasks, provider callbacks (PUBLIC_URL) + polling every 3 s`,
      ["one"],
      burstRows([withCallbacks], { firstResponse: true, grid: false }),
    ),
  );
}

if (scenarios.has(3)) {
  const inFlight: InFlightResult[] = await eachDeployment((deployment) =>
    runInFlight(inFlightCount, world(deployment, { taskDurationMs: inFlightTaskMs, tileLongSide: 128 })),
  );
  print(
    `3 — ${inFlightCount} jobs in flight (provider takes ${inFlightTaskMs / 1000} s, 128 px tiles, poll 3 s, progress pacing 2 s)`,
    inFlightRows(inFlight),
    [...problemLines(inFlight), load()],
  );
}

console.log(`\nTotal bench time ${fixed((Date.now() - benchStarted) / 1000)} s`);
if (cpuProfileDir) console.log(`Bot CPU profiles written to ${cpuProfileDir}`);
stopSampling();
