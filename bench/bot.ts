// Bot benchmark: the real bot (`atelier start`, own process) against the in-repo fake Discord and
// the EvoLink emulator (this process). Prints figures with targets; never asserts.
//
//   1. 500 /imagine at 50/s, provider completes at once, 1024² tiles: time to the first response,
//      provider completed → grid on Discord (polling at the default 3 s, and with provider callbacks),
//      CPU per job, peak RSS.
//   2. 1,000 jobs in flight (provider takes 60 s, small tiles): peak RSS, event-loop delay, provider
//      polls/s and Discord edits/s while waiting.
//
// Run: node bin/run-ts.mjs bench/bot.ts [--quick] [--all] [--profile DIR]
//   --quick    smaller counts (a smoke run, figures not comparable to the targets)
//   --all      also run 1 s tasks with polling only (shows what the poll interval costs)
//   --profile  write V8 CPU profiles of the bot process into DIR (open in Chrome DevTools)
import { mkdirSync } from "node:fs";
import {
  type BurstPlan,
  burstTable,
  inFlightTable,
  runBurst,
  runInFlight,
  stopSampling,
} from "./support/scenarios.ts";
import { fixed } from "./support/stats.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runAll = args.includes("--all");
const profileIndex = args.indexOf("--profile");
const cpuProfileDir = profileIndex === -1 ? undefined : args[profileIndex + 1];
if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });

// ── main ─────────────────────────────────────────────────────────────────────────────────────

const burstCount = quick ? 100 : 500;
const inFlightCount = quick ? 200 : 1000;
const inFlightTaskMs = quick ? 15_000 : 60_000;
/**
 * The job limits (MAX_RUNNING_JOBS and the per-user ones) are lifted in every scenario: the figures
 * are about the bot's own pipeline, and scenario 2 needs 1,000 tasks at the provider at once.
 */
const liftedLimits = { MAX_RUNNING_JOBS: 5000, MAX_RUNNING_PER_USER: 5000, MAX_QUEUED_PER_USER: 5000 };
const tiles = { tileLongSide: 1024, cpuProfileDir, overrides: liftedLimits };
const bursts: BurstPlan[] = [
  {
    label: `${burstCount} /imagine at 50/s, instant completion, 1024² tiles, polling every 3 s (default)`,
    count: burstCount,
    perSecond: 50,
    world: { ...tiles, taskDurationMs: 0, pollSeconds: 3, callbacks: false },
  },
  {
    label: `${burstCount} /imagine at 50/s, 1 s tasks, 1024² tiles, provider callbacks (PUBLIC_URL) + polling every 3 s`,
    count: burstCount,
    perSecond: 50,
    world: { ...tiles, taskDurationMs: 1000, pollSeconds: 3, callbacks: true },
  },
];
if (runAll) {
  bursts.push({
    label: `${burstCount} /imagine at 50/s, 1 s tasks, 1024² tiles, polling every 3 s, no callbacks`,
    count: burstCount,
    perSecond: 50,
    world: { ...tiles, taskDurationMs: 1000, pollSeconds: 3, callbacks: false },
  });
}

console.log(
  [
    "Atelier bot benchmark — the bot runs alone in a child process (`atelier start`, production defaults);",
    "the fake Discord, the EvoLink emulator and its caching front (serves each distinct result image from",
    "memory, like a CDN) run in this process. Both share this machine's CPU cores; [bench process] rows",
    "are that side's cost, never counted in the bot's figures. Job limits are lifted for the bench:",
    `${Object.entries(liftedLimits)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ")}.`,
  ].join("\n"),
);
const benchStarted = Date.now();
for (const plan of bursts) console.log(burstTable(await runBurst(plan)));
const inFlightWorld = {
  taskDurationMs: inFlightTaskMs,
  tileLongSide: 128,
  pollSeconds: 3,
  callbacks: false,
  cpuProfileDir,
  overrides: liftedLimits,
};
console.log(inFlightTable(await runInFlight(inFlightCount, inFlightWorld), inFlightTaskMs));
console.log(`\nTotal bench time ${fixed((Date.now() - benchStarted) / 1000)} s`);
if (cpuProfileDir) console.log(`Bot CPU profiles written to ${cpuProfileDir}`);
stopSampling();
