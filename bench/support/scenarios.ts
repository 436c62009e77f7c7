// The two bot scenarios: a burst of /imagine (latency, CPU per job) and many jobs in flight at once
// (memory, event-loop delay, request rates). Each runs in a fresh world; see bench/bot.ts.
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type BenchWorld, type BenchWorldOptions, startBenchWorld } from "./bench-world.ts";
import {
  callbackArrivals,
  type Dispatched,
  editArrivals,
  editGaps,
  GridEdits,
  restArrivals,
  tasksByIndex,
} from "./observations.ts";
import { type ProcessFigures, ProcessSampler } from "./sampler.ts";
import {
  atMost,
  fixed,
  ms,
  peakPerSecond,
  type Row,
  ratePerSecond,
  renderTable,
  summarize,
} from "./stats.ts";

const marker = /\bn(\d+)\b/;
const promptFor = (index: number) => `bench scene n${index}`;
/** This process (fake Discord + emulator): its cost is printed apart from the bot's. */
const parentSampler = new ProcessSampler();

export function stopSampling(): void {
  parentSampler.stop();
}

// ── driving ──────────────────────────────────────────────────────────────────────────────────

/** Sends `count` /imagine at `perSecond`, catching up when this process falls behind. */
async function dispatchImagines(world: BenchWorld, count: number, perSecond: number): Promise<Dispatched[]> {
  const users = Array.from({ length: 20 }, (_, index) => world.fake.makeUser(`bench${index}`));
  const started = performance.now();
  const sent: Promise<Dispatched>[] = [];
  for (let index = 0; index < count; index++) {
    const wait = started + (index * 1000) / perSecond - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(
      world.fake
        .runSlashCommand({ name: "imagine", options: { prompt: promptFor(index) }, user: users[index % 20] })
        .then((handle) => ({ index, interactionId: handle.id, token: handle.token, at: Date.now() })),
    );
  }
  return Promise.all(sent);
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

// ── scenario 1: a burst of /imagine ─────────────────────────────────────────────────────────

export interface BurstPlan {
  label: string;
  count: number;
  perSecond: number;
  world: BenchWorldOptions;
}

export interface BurstResult {
  plan: BurstPlan;
  delivered: number;
  dispatchRate: number;
  firstResponse: number[];
  completedToGrid: number[];
  completedToLearned: number[];
  learnedToGrid: number[];
  learnedVia: { poll: number; callback: number };
  pollsPerJob: number;
  restPerJob: number;
  editsPerJob: number;
  restPeakPerSecond: number;
  editPeakPerSecond: number;
  bot: ProcessFigures;
  parent: ProcessFigures;
  botProblems: { count: number; first: string[] };
}

export async function runBurst(plan: BurstPlan): Promise<BurstResult> {
  const world = await startBenchWorld(plan.world);
  try {
    const grids = new GridEdits(world.fake);
    const restBefore = world.fake.requests.length;
    await world.bot.mark();
    parentSampler.mark();
    const started = Date.now();
    const dispatched = await dispatchImagines(world, plan.count, plan.perSecond);
    const dispatchSeconds = (Date.now() - started) / 1000;
    await waitUntil(() => grids.update() >= plan.count, 150_000);
    const bot = await world.bot.report();
    const parent = parentSampler.read();
    return {
      ...burstLatencies(world, dispatched, grids),
      plan,
      delivered: grids.arrivals.size,
      dispatchRate: plan.count / dispatchSeconds,
      pollsPerJob: world.front.pollTimes.length / plan.count,
      restPerJob: (world.fake.requests.length - restBefore) / plan.count,
      editsPerJob: editArrivals(world.fake).length / plan.count,
      restPeakPerSecond: peakPerSecond(restArrivals(world.fake).filter((at) => at >= started)),
      editPeakPerSecond: peakPerSecond(editArrivals(world.fake)),
      bot,
      parent,
      botProblems: world.bot.problems,
    };
  } finally {
    await world.stop();
  }
}

function burstLatencies(world: BenchWorld, dispatched: Dispatched[], grids: GridEdits) {
  const callbacks = callbackArrivals(world.fake);
  const tasks = tasksByIndex(world.emulator, marker);
  const result = {
    firstResponse: [] as number[],
    completedToGrid: [] as number[],
    completedToLearned: [] as number[],
    learnedToGrid: [] as number[],
    learnedVia: { poll: 0, callback: 0 },
  };
  for (const job of dispatched) {
    const answeredAt = callbacks.get(job.interactionId);
    if (answeredAt !== undefined) result.firstResponse.push(answeredAt - job.at);
    const task = tasks.get(job.index);
    const gridAt = grids.arrivals.get(job.token);
    if (!task || gridAt === undefined) continue;
    result.completedToGrid.push(gridAt - task.completedAt);
    const learned = world.front.learned.get(task.taskId);
    if (!learned) continue;
    result.learnedVia[learned.via]++;
    result.completedToLearned.push(learned.at - task.completedAt);
    result.learnedToGrid.push(gridAt - learned.at);
  }
  return result;
}

export function burstTable(result: BurstResult): string {
  const { plan } = result;
  const first = summarize(result.firstResponse);
  const toGrid = summarize(result.completedToGrid);
  const toLearned = summarize(result.completedToLearned);
  const learnedToGrid = summarize(result.learnedToGrid);
  const cores = result.bot.cpuMs / result.bot.elapsedMs;
  const rows: Row[] = [
    { figure: "jobs delivered with a grid", value: `${result.delivered}/${plan.count}` },
    { figure: "/imagine sent per second (achieved)", value: fixed(result.dispatchRate) },
    { figure: "interaction → first response p50", value: ms(first.p50) },
    { figure: "interaction → first response p99", value: ms(first.p99), target: "≤ 25 ms" },
    { figure: "provider completed → grid edit p50", value: ms(toGrid.p50), target: "≤ 250 ms" },
    { figure: "provider completed → grid edit p99", value: ms(toGrid.p99) },
    {
      figure: "  of which: completed → bot has result p50/p99",
      value: `${ms(toLearned.p50)} / ${ms(toLearned.p99)}`,
    },
    {
      figure: "  of which: bot has result → grid at Discord p50/p99",
      value: `${ms(learnedToGrid.p50)} / ${ms(learnedToGrid.p99)}`,
    },
    {
      figure: "  bot learned completion via poll / callback",
      value: `${result.learnedVia.poll} / ${result.learnedVia.callback}`,
    },
    { figure: "provider polls per job", value: fixed(result.pollsPerJob, 2) },
    {
      figure: "Discord REST calls per job (of which edits)",
      value: `${fixed(result.restPerJob, 2)} (${fixed(result.editsPerJob, 2)})`,
    },
    {
      figure: "Discord REST calls/s (of which edits), busiest second",
      value: `${result.restPeakPerSecond} (${result.editPeakPerSecond})`,
    },
    { figure: "bot CPU per job", value: ms(result.bot.cpuMs / plan.count) },
    { figure: "bot CPU use over the phase (cores of 2)", value: fixed(cores, 2) },
    { figure: "bot peak RSS", value: `${fixed(result.bot.peakRssMb, 0)} MB` },
    {
      figure: "bot event-loop delay p99 / max",
      value: `${ms(result.bot.eventLoopDelayP99Ms)} / ${ms(result.bot.eventLoopDelayMaxMs)}`,
    },
    { figure: "phase wall time", value: `${fixed(result.bot.elapsedMs / 1000)} s` },
    {
      figure: "[bench process: fake Discord + emulator] CPU",
      value: `${fixed(result.parent.cpuMs / 1000)} s`,
    },
    {
      figure: "[bench process: fake Discord + emulator] peak RSS",
      value: `${fixed(result.parent.peakRssMb, 0)} MB`,
    },
    { figure: "bot WARN/ERROR log lines", value: String(result.botProblems.count) },
  ];
  for (const row of rows) {
    if (row.target === "≤ 25 ms") row.verdict = atMost(first.p99, 25);
    if (row.target === "≤ 250 ms") row.verdict = atMost(toGrid.p50, 250);
  }
  return (
    renderTable(`Scenario 1 — ${plan.label}`, rows) +
    notes(burstNotes(result)) +
    problemLines(result.botProblems)
  );
}

/** What the figures are dominated by, read from the figures themselves. */
function burstNotes(result: BurstResult): string[] {
  const { plan } = result;
  const cpuPerJob = result.bot.cpuMs / plan.count;
  const coresNeeded = (cpuPerJob * plan.perSecond) / 1000;
  const lines = [
    `CPU: ${ms(cpuPerJob)} per job × ${plan.perSecond}/s needs ${fixed(coresNeeded)} cores; this machine has ${cores}.` +
      (coresNeeded > cores
        ? " The burst outruns the CPU, so the bot's queues (store, images, Discord) grow for its whole length."
        : ""),
  ];
  if (result.learnedVia.poll > result.learnedVia.callback && result.pollsPerJob < 1.2) {
    lines.push(
      "Polling: ~1 poll per job — the first poll, sent right after the submit, already finds the task done," +
        " so POLL_INTERVAL_SECONDS does not enter 'completed → bot has result' here.",
    );
  }
  if (result.learnedVia.callback > result.learnedVia.poll) {
    lines.push(
      `Callbacks: the bot hears of a completion ${ms(summarize(result.completedToLearned).p50)} (p50) after it` +
        ` happens; with polling alone a task finishing between polls waits up to POLL_INTERVAL_SECONDS.`,
    );
  }
  if (result.editPeakPerSecond >= 45 && result.editPeakPerSecond <= 55) {
    lines.push(discordJsGlobalLimit);
  }
  return lines;
}

const cores = availableParallelism();
const discordJsGlobalLimit =
  "Edits plateau at ~50/s: discord.js applies its 50 requests/s global limit to interaction-webhook" +
  " edits too (only the interaction callback is exempt), although Discord does not bind interaction" +
  " endpoints to the global limit; progress and final edits queue behind it.";

function notes(lines: string[]): string {
  return lines.map((line) => `\n  • ${line}`).join("");
}

function problemLines(problems: { count: number; first: string[] }): string {
  return problems.first.map((line) => `\n  bot log: ${line}`).join("");
}

function inFlightNotes(result: InFlightResult): string[] {
  const lines: string[] = [];
  if (result.editsPerSecond >= 40 && result.editsPerSecond <= 55) lines.push(discordJsGlobalLimit);
  const gridP50 = summarize(result.completedToGrid).p50;
  if (gridP50 > 5_000) {
    lines.push(
      `Final edits wait in that queue too: provider completed → grid p50 is ${ms(gridP50)} although` +
        " the tiles are small.",
    );
  }
  return lines;
}

// ── scenario 2: 1,000 jobs in flight ────────────────────────────────────────────────────────

export interface InFlightResult {
  count: number;
  delivered: number;
  windowSeconds: number;
  peakRssMb: number;
  waiting: ProcessFigures;
  pollsPerSecond: number;
  editsPerSecond: number;
  editGapP50: number;
  completedToGrid: number[];
  parent: ProcessFigures;
  botProblems: { count: number; first: string[] };
}

export async function runInFlight(count: number, options: BenchWorldOptions): Promise<InFlightResult> {
  const world = await startBenchWorld(options);
  try {
    const grids = new GridEdits(world.fake);
    await world.bot.mark();
    parentSampler.mark();
    const dispatched = await dispatchImagines(world, count, 200);
    await waitUntil(() => world.emulator.tasks.size >= count, 60_000);
    const ramp = await world.bot.report();
    // The wait window: every task created, none finished yet.
    const tasks = [...tasksByIndex(world.emulator, marker).values()];
    const windowEnd = Math.min(...tasks.map((task) => task.completedAt)) - 500;
    await sleep(1_000);
    const windowStart = Date.now();
    await world.bot.mark();
    await sleep(Math.max(0, windowEnd - Date.now()));
    const waiting = await world.bot.report();
    await world.bot.mark();
    await waitUntil(() => grids.update() >= count, 120_000);
    const drain = await world.bot.report();
    const parent = parentSampler.read();
    const byIndex = tasksByIndex(world.emulator, marker);
    const completedToGrid = dispatched.flatMap((job) => {
      const gridAt = grids.arrivals.get(job.token);
      const task = byIndex.get(job.index);
      return gridAt === undefined || !task ? [] : [gridAt - task.completedAt];
    });
    return {
      count,
      delivered: grids.arrivals.size,
      windowSeconds: (windowEnd - windowStart) / 1000,
      peakRssMb: Math.max(ramp.peakRssMb, waiting.peakRssMb, drain.peakRssMb),
      waiting,
      pollsPerSecond: ratePerSecond(world.front.pollTimes, windowStart, windowEnd),
      editsPerSecond: ratePerSecond(editArrivals(world.fake), windowStart, windowEnd),
      editGapP50: summarize(editGaps(world.fake, windowStart, windowEnd)).p50,
      completedToGrid,
      parent,
      botProblems: world.bot.problems,
    };
  } finally {
    await world.stop();
  }
}

export function inFlightTable(result: InFlightResult, taskDurationMs: number): string {
  const toGrid = summarize(result.completedToGrid);
  const rows: Row[] = [
    { figure: "jobs delivered with a grid", value: `${result.delivered}/${result.count}` },
    { figure: "wait window (all tasks running, none done)", value: `${fixed(result.windowSeconds)} s` },
    {
      figure: "bot peak RSS (whole scenario)",
      value: `${fixed(result.peakRssMb, 0)} MB`,
      target: "≤ 300 MB",
      verdict: atMost(result.peakRssMb, 300),
    },
    {
      figure: "bot event-loop delay p99 while waiting",
      value: ms(result.waiting.eventLoopDelayP99Ms),
      target: "≤ 50 ms",
      verdict: atMost(result.waiting.eventLoopDelayP99Ms, 50),
    },
    { figure: "bot event-loop delay max while waiting", value: ms(result.waiting.eventLoopDelayMaxMs) },
    {
      figure: "bot CPU while waiting (cores of 2)",
      value: fixed(result.waiting.cpuMs / result.waiting.elapsedMs, 2),
    },
    { figure: "provider polls/s while waiting", value: fixed(result.pollsPerSecond) },
    { figure: "  expected at POLL_INTERVAL_SECONDS=3", value: fixed(result.count / 3) },
    { figure: "Discord message edits/s while waiting", value: fixed(result.editsPerSecond) },
    { figure: "  at most, with 2 s pacing per message", value: fixed(result.count / 2) },
    { figure: "time between edits of one message p50", value: ms(result.editGapP50) },
    { figure: "provider completed → grid edit p50 / p99", value: `${ms(toGrid.p50)} / ${ms(toGrid.p99)}` },
    {
      figure: "[bench process: fake Discord + emulator] CPU",
      value: `${fixed(result.parent.cpuMs / 1000)} s`,
    },
    {
      figure: "[bench process: fake Discord + emulator] peak RSS",
      value: `${fixed(result.parent.peakRssMb, 0)} MB`,
    },
    { figure: "bot WARN/ERROR log lines", value: String(result.botProblems.count) },
  ];
  const title = `Scenario 2 — ${result.count} jobs in flight (provider takes ${taskDurationMs / 1000} s, 128 px tiles, poll 3 s, progress pacing 2 s)`;
  return renderTable(title, rows) + notes(inFlightNotes(result)) + problemLines(result.botProblems);
}
