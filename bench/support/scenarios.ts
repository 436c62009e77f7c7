// The bot scenarios: a burst of /imagine (first response, grid latency, CPU per job) and many jobs
// in flight at once (memory, event-loop delay, request rates). Each runs in a fresh world, in either
// deployment (bench-world.ts); the tables put the deployments side by side. See bench/bot.ts.
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BenchWorld,
  type BenchWorldOptions,
  type Deployment,
  deploymentLabels,
  startBenchWorld,
} from "./bench-world.ts";
import type { BotChild } from "./bot-child.ts";
import { type Dispatched, editArrivals, editGaps, GridEdits, restArrivals } from "./observations.ts";
import { EventLoopMonitor, type ProcessFigures, ProcessSampler } from "./sampler.ts";
import { atMost, fixed, ms, peakPerSecond, ratePerSecond, summarize, type Verdict } from "./stats.ts";

const marker = /\bn(\d+)\b/;
const promptFor = (index: number) => `bench scene n${index}`;
/** This process (the fake Discord): its cost is printed apart from the bot's. */
const parentSampler = new ProcessSampler();
const parentLoop = new EventLoopMonitor(2);
const cores = availableParallelism();

export function stopSampling(): void {
  parentSampler.stop();
  parentLoop.stop();
}

/** What the rest of the world costs over a phase: this process (fake Discord), and the provider's. */
interface WorldFigures {
  parent: ProcessFigures;
  provider: ProcessFigures;
}

function watchWorld(world: BenchWorld): { read(): WorldFigures } {
  const provider = new ProcessSampler({ pid: world.provider.pid });
  parentSampler.mark();
  parentLoop.mark();
  return {
    read: () => {
      const figures = {
        parent: { ...parentSampler.read(), ...parentLoop.read() },
        provider: provider.read(),
      };
      provider.stop();
      return figures;
    },
  };
}

// ── the bot processes, measured together ────────────────────────────────────────────────────

/** Figures of all bot processes: CPU summed, the largest process's RSS, the worst event-loop delay. */
export interface BotFigures extends ProcessFigures {
  processes: number;
  /** Sum of each process's peak (an upper bound of the deployment's peak). */
  peakRssSumMb: number;
}

async function markBots(bots: BotChild[]): Promise<void> {
  await Promise.all(bots.map((bot) => bot.mark()));
}

async function reportBots(bots: BotChild[]): Promise<BotFigures> {
  const each = await Promise.all(bots.map((bot) => bot.report()));
  const max = (pick: (figures: ProcessFigures) => number) => Math.max(...each.map(pick));
  const sum = (pick: (figures: ProcessFigures) => number) => each.reduce((total, f) => total + pick(f), 0);
  return {
    processes: each.length,
    elapsedMs: max((f) => f.elapsedMs),
    cpuMs: sum((f) => f.cpuMs),
    childCpuMs: sum((f) => f.childCpuMs),
    peakRssMb: max((f) => f.peakRssMb),
    peakRssSumMb: sum((f) => f.peakRssMb),
    peakFootprintMb: max((f) => f.peakFootprintMb),
    rssMb: sum((f) => f.rssMb),
    eventLoopDelayP50Ms: max((f) => f.eventLoopDelayP50Ms),
    eventLoopDelayP99Ms: max((f) => f.eventLoopDelayP99Ms),
    eventLoopDelayMaxMs: max((f) => f.eventLoopDelayMaxMs),
  };
}

function problemsOf(bots: BotChild[]): { count: number; first: string[] } {
  return {
    count: bots.reduce((total, bot) => total + bot.problems.count, 0),
    first: bots.flatMap((bot) => bot.problems.first).slice(0, 5),
  };
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

/**
 * Runs `perProcess` jobs per bot process to the end before measuring: each process starts its
 * image worker on first use (a second or two of CPU), which is start-up, not the cost of a job.
 */
async function warmUp(world: BenchWorld, perProcess = 2): Promise<void> {
  const grids = new GridEdits(world.fake);
  const count = world.bots.length * perProcess;
  // Whatever the scenario's tasks take, these finish at once.
  await world.provider.setTaskDuration(0);
  for (let index = 0; index < count; index++)
    await world.fake.runSlashCommand({ name: "imagine", options: { prompt: `bench warm-up ${index}` } });
  // A grid takes ~0.1 s of CPU on two cores: allow well over that for a long warm-up.
  await waitUntil(async () => (await world.provider.countTasks("warm-up")) >= count, 30_000 + count * 100);
  await world.provider.setTaskDuration(world.taskDurationMs);
  await waitUntil(() => grids.update() >= count, 60_000 + count * 200);
}

async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

interface Answered {
  /** When the interaction went out: the sender thread's clock for HTTP, else `Dispatched.at`. */
  sentAt: number | undefined;
  /** When its first answer arrived (callback POST, or the HTTP response as the sender timed it). */
  at: number;
  /** When that answer reached the fake's event loop. */
  onLoopAt: number;
}

/** Interaction id → when it was sent and first answered. */
function answerArrivals(world: BenchWorld): Map<string, Answered> {
  const arrivals = new Map<string, Answered>();
  for (const handle of world.fake.interactions()) {
    const first = handle.callbacks[0];
    if (!first) continue;
    const signature = handle.signed?.signature;
    const onLoopAt = (signature && world.sender?.loopArrivals.get(signature)) || first.at;
    arrivals.set(handle.id, { sentAt: handle.sentAt, at: first.at, onLoopAt });
  }
  return arrivals;
}

// ── scenario 1: a burst of /imagine ─────────────────────────────────────────────────────────

export interface BurstPlan {
  count: number;
  perSecond: number;
  /** Jobs each bot process runs before the phase (default 2; see warmUp). */
  warmUpPerProcess?: number;
  world: BenchWorldOptions;
}

export interface BurstResult {
  plan: BurstPlan;
  delivered: number;
  dispatchRate: number;
  firstResponse: number[];
  /** The same, both ends timed on the fake's event loop (HTTP: differs from `firstResponse`). */
  firstResponseOnLoop: number[];
  completedToGrid: number[];
  completedToLearned: number[];
  learnedToGrid: number[];
  learnedVia: { poll: number; callback: number };
  /** Interactions that got no first answer, and why the fake refused the endpoint's reply (the first few). */
  unanswered: { count: number; why: string[] };
  pollsPerJob: number;
  restPerJob: number;
  /** Shared deployment: Redis commands per job, and how many of them were script calls. */
  redisPerJob: { processed: number; scriptCalls: number } | undefined;
  editsPerJob: number;
  restPeakPerSecond: number;
  editPeakPerSecond: number;
  bot: BotFigures;
  parent: ProcessFigures;
  provider: ProcessFigures;
  botProblems: { count: number; first: string[] };
}

export async function runBurst(plan: BurstPlan): Promise<BurstResult> {
  const world = await startBenchWorld(plan.world);
  try {
    await warmUp(world, plan.warmUpPerProcess);
    const grids = new GridEdits(world.fake);
    const restBefore = world.fake.requests.length;
    const redisBefore = await world.redisCommands?.();
    await markBots(world.bots);
    const others = watchWorld(world);
    const started = Date.now();
    const dispatched = await dispatchImagines(world, plan.count, plan.perSecond);
    const dispatchSeconds = (Date.now() - started) / 1000;
    await waitUntil(() => grids.update() >= plan.count, 180_000);
    const bot = await reportBots(world.bots);
    const { parent, provider } = others.read();
    const redisAfter = await world.redisCommands?.();
    return {
      ...(await burstLatencies(world, dispatched, grids)),
      plan,
      unanswered: unansweredOf(world, dispatched),
      delivered: grids.arrivals.size,
      dispatchRate: plan.count / dispatchSeconds,
      pollsPerJob: (await world.provider.pollTimes()).filter((at) => at >= started).length / plan.count,
      restPerJob: (world.fake.requests.length - restBefore) / plan.count,
      redisPerJob:
        redisBefore && redisAfter
          ? {
              processed: (redisAfter.processed - redisBefore.processed) / plan.count,
              scriptCalls: (redisAfter.scriptCalls - redisBefore.scriptCalls) / plan.count,
            }
          : undefined,
      editsPerJob: editArrivals(world.fake).filter((at) => at >= started).length / plan.count,
      restPeakPerSecond: peakPerSecond(restArrivals(world.fake).filter((at) => at >= started)),
      editPeakPerSecond: peakPerSecond(editArrivals(world.fake).filter((at) => at >= started)),
      bot,
      parent,
      provider,
      botProblems: problemsOf(world.bots),
    };
  } finally {
    await world.stop();
  }
}

function unansweredOf(world: BenchWorld, dispatched: Dispatched[]): BurstResult["unanswered"] {
  const sent = new Set(dispatched.map((job) => job.interactionId));
  const unanswered = [...world.fake.interactions()].filter(
    (handle) => sent.has(handle.id) && !handle.acknowledged,
  );
  return {
    count: unanswered.length,
    why: unanswered.slice(0, 3).map((handle) => `${handle.id}: ${handle.endpointError ?? "no answer"}`),
  };
}

async function burstLatencies(world: BenchWorld, dispatched: Dispatched[], grids: GridEdits) {
  const answers = answerArrivals(world);
  const tasks = await world.provider.tasks(marker);
  const learnedAt = await world.provider.learned();
  const result = {
    firstResponse: [] as number[],
    firstResponseOnLoop: [] as number[],
    completedToGrid: [] as number[],
    completedToLearned: [] as number[],
    learnedToGrid: [] as number[],
    learnedVia: { poll: 0, callback: 0 },
  };
  for (const job of dispatched) {
    const answer = answers.get(job.interactionId);
    if (answer) {
      result.firstResponse.push(answer.at - (answer.sentAt ?? job.at));
      result.firstResponseOnLoop.push(answer.onLoopAt - job.at);
    }
    const task = tasks.get(job.index);
    const gridAt = grids.arrivals.get(job.token);
    if (!task || gridAt === undefined) continue;
    result.completedToGrid.push(gridAt - task.completedAt);
    const learned = learnedAt.get(task.taskId);
    if (!learned) continue;
    result.learnedVia[learned.via]++;
    result.completedToLearned.push(learned.at - task.completedAt);
    result.learnedToGrid.push(gridAt - learned.at);
  }
  return result;
}

// ── scenario 3: 1,000 jobs in flight ────────────────────────────────────────────────────────

export interface InFlightResult {
  deployment: Deployment;
  count: number;
  taskDurationMs: number;
  delivered: number;
  windowSeconds: number;
  /** The largest bot process's peak over the whole scenario, and the sum of every process's peak. */
  peakRssMb: number;
  peakRssSumMb: number;
  /** The largest process's peak with its worker's shared pages counted once (sampler.ts). */
  peakFootprintMb: number;
  waiting: BotFigures;
  pollsPerSecond: number;
  editsPerSecond: number;
  editGapP50: number;
  completedToGrid: number[];
  parent: ProcessFigures;
  provider: ProcessFigures;
  botProblems: { count: number; first: string[] };
}

export async function runInFlight(count: number, options: BenchWorldOptions): Promise<InFlightResult> {
  const world = await startBenchWorld(options);
  try {
    await warmUp(world);
    const grids = new GridEdits(world.fake);
    await markBots(world.bots);
    const others = watchWorld(world);
    const dispatched = await dispatchImagines(world, count, 200);
    await waitUntil(async () => (await world.provider.tasks(marker)).size >= count, 60_000);
    const ramp = await reportBots(world.bots);
    // The wait window: every task created, none finished yet.
    const tasks = [...(await world.provider.tasks(marker)).values()];
    const windowEnd = Math.min(...tasks.map((task) => task.completedAt)) - 500;
    await sleep(1_000);
    const windowStart = Date.now();
    await markBots(world.bots);
    await sleep(Math.max(0, windowEnd - Date.now()));
    const waiting = await reportBots(world.bots);
    await markBots(world.bots);
    await waitUntil(() => grids.update() >= count, 120_000);
    const drain = await reportBots(world.bots);
    const { parent, provider } = others.read();
    const byIndex = await world.provider.tasks(marker);
    const completedToGrid = dispatched.flatMap((job) => {
      const gridAt = grids.arrivals.get(job.token);
      const task = byIndex.get(job.index);
      return gridAt === undefined || !task ? [] : [gridAt - task.completedAt];
    });
    return {
      deployment: options.deployment,
      count,
      taskDurationMs: options.taskDurationMs,
      delivered: grids.arrivals.size,
      windowSeconds: (windowEnd - windowStart) / 1000,
      peakRssMb: Math.max(ramp.peakRssMb, waiting.peakRssMb, drain.peakRssMb),
      peakRssSumMb: Math.max(ramp.peakRssSumMb, waiting.peakRssSumMb, drain.peakRssSumMb),
      peakFootprintMb: Math.max(ramp.peakFootprintMb, waiting.peakFootprintMb, drain.peakFootprintMb),
      waiting,
      pollsPerSecond: ratePerSecond(await world.provider.pollTimes(), windowStart, windowEnd),
      editsPerSecond: ratePerSecond(editArrivals(world.fake), windowStart, windowEnd),
      editGapP50: summarize(editGaps(world.fake, windowStart, windowEnd)).p50,
      completedToGrid,
      parent,
      provider,
      botProblems: problemsOf(world.bots),
    };
  } finally {
    await world.stop();
  }
}

// ── tables: deployments side by side ────────────────────────────────────────────────────────

/** One figure across deployments: its value in each, its target, and each value's verdict. */
export interface ComparedRow {
  figure: string;
  values: string[];
  target?: string;
  verdicts?: Verdict[];
}

/** A fixed-width table: figure | one column per deployment | target. Verdicts follow their value. */
export function renderComparison(title: string, deployments: Deployment[], rows: ComparedRow[]): string {
  const header = ["figure", ...deployments.map((deployment) => deploymentLabels[deployment]), "target"];
  const cells = [
    header,
    ...rows.map((row) => [
      row.figure,
      ...row.values.map((value, column) => {
        const verdict = row.verdicts?.[column];
        return verdict ? `${value} ${verdict}` : value;
      }),
      row.target ?? "",
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...cells.map((line) => (line[column] ?? "").length)));
  const line = (parts: string[]) =>
    `| ${parts.map((part, column) => part.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  const rule = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`;
  const [head, ...body] = cells;
  return [`\n${title}`, line(head ?? []), rule, ...body.map(line)].join("\n");
}

/** A target: a ceiling on a figure, for the results it applies to (all when `appliesTo` is absent). */
interface Ceiling<R> {
  target: string;
  of: (result: R) => number;
  at: number;
  appliesTo?: (result: R) => boolean;
}

/** The rows of a figure computed per result; `target` with a ceiling adds PASS/MISS where it applies. */
function compared<R>(
  results: R[],
  figure: string,
  value: (result: R) => string,
  ceiling?: Ceiling<R>,
): ComparedRow {
  const verdict = (result: R, { of, at, appliesTo }: Ceiling<R>) =>
    appliesTo && !appliesTo(result) ? "" : atMost(of(result), at);
  return {
    figure,
    values: results.map(value),
    ...(ceiling
      ? { target: ceiling.target, verdicts: results.map((result) => verdict(result, ceiling)) }
      : {}),
  };
}

export function burstRows(results: BurstResult[], targets: { firstResponse: boolean; grid: boolean }) {
  const first = (r: BurstResult) => summarize(r.firstResponse);
  const toGrid = (r: BurstResult) => summarize(r.completedToGrid);
  const both = (values: number[], format = ms) =>
    `${format(summarize(values).p50)} / ${format(summarize(values).p99)}`;
  return [
    compared(results, "jobs delivered with a grid", (r) => `${r.delivered}/${r.plan.count}`),
    compared(results, "/imagine sent per second (achieved)", (r) => fixed(r.dispatchRate)),
    compared(results, "interactions without a first answer", (r) => String(r.unanswered.count)),
    compared(results, "interaction → first response p50", (r) => ms(first(r).p50)),
    compared(
      results,
      "interaction → first response p99",
      (r) => ms(first(r).p99),
      targets.firstResponse ? { target: "≤ 25 ms", of: (r) => first(r).p99, at: 25 } : undefined,
    ),
    compared(results, "  the same timed on the fake's event loop p50/p99", (r) =>
      both(r.firstResponseOnLoop),
    ),
    compared(
      results,
      "provider completed → grid on Discord p50",
      (r) => ms(toGrid(r).p50),
      targets.grid ? { target: "≤ 250 ms", of: (r) => toGrid(r).p50, at: 250 } : undefined,
    ),
    compared(results, "provider completed → grid on Discord p99", (r) => ms(toGrid(r).p99)),
    compared(results, "  of which: completed → bot has result p50/p99", (r) => both(r.completedToLearned)),
    compared(results, "  of which: bot has result → grid p50/p99", (r) => both(r.learnedToGrid)),
    compared(results, "provider polls per job", (r) => fixed(r.pollsPerJob, 2)),
    compared(
      results,
      "Discord REST calls per job (of which edits)",
      (r) => `${fixed(r.restPerJob, 2)} (${fixed(r.editsPerJob, 2)})`,
    ),
    // Deterministic, unlike CPU: what to watch when changing the shared deployment's Redis work.
    compared(results, "Redis commands per job, scripts' own included (script calls)", (r) =>
      r.redisPerJob ? `${fixed(r.redisPerJob.processed, 1)} (${fixed(r.redisPerJob.scriptCalls, 1)})` : "—",
    ),
    compared(results, "bot CPU per job (all processes + workers)", (r) => ms(r.bot.cpuMs / r.plan.count)),
    // Image work swings the most from run to run; the rest is what a deployment adds.
    compared(results, "  of which: child processes (image worker, tsx) / the rest", (r) =>
      [r.bot.childCpuMs, r.bot.cpuMs - r.bot.childCpuMs].map((part) => ms(part / r.plan.count)).join(" / "),
    ),
    compared(results, `bot CPU use over the phase (cores of ${cores})`, (r) =>
      fixed(r.bot.cpuMs / r.bot.elapsedMs, 2),
    ),
    compared(results, "bot peak RSS, largest process (sum)", (r) =>
      r.bot.processes > 1
        ? `${fixed(r.bot.peakRssMb, 0)} MB (${fixed(r.bot.peakRssSumMb, 0)} MB)`
        : `${fixed(r.bot.peakRssMb, 0)} MB`,
    ),
    compared(
      results,
      "bot event-loop delay p99 / max (worst process)",
      (r) => `${ms(r.bot.eventLoopDelayP99Ms)} / ${ms(r.bot.eventLoopDelayMaxMs)}`,
    ),
    compared(results, "phase wall time", (r) => `${fixed(r.bot.elapsedMs / 1000)} s`),
    compared(results, "[bench process: fake Discord] CPU", (r) => `${fixed(r.parent.cpuMs / 1000)} s`),
    compared(
      results,
      "[provider process: emulator + CDN front] CPU",
      (r) => `${fixed(r.provider.cpuMs / 1000)} s`,
    ),
    // Its delay is in the figures timed on the fake's loop (and over the gateway, in the first
    // response too: the fake sends INTERACTION_CREATE and takes the callback POST on that loop).
    compared(
      results,
      "[bench process] event-loop delay p99 / max",
      (r) => `${ms(r.parent.eventLoopDelayP99Ms)} / ${ms(r.parent.eventLoopDelayMaxMs)}`,
    ),
    compared(results, "bot WARN/ERROR log lines", (r) => String(r.botProblems.count)),
  ];
}

/**
 * CPU per job of the shared deployment against one process (target ≤ 1.2×), over passes run one,
 * three, three, one: the table above is the first pass; the ratio is taken over all their jobs.
 */
export function cpuRatioRows(ones: BurstResult[], manys: BurstResult[]): ComparedRow[] {
  const perJob = (results: BurstResult[]) =>
    results.reduce((total, r) => total + r.bot.cpuMs, 0) /
    results.reduce((total, r) => total + r.plan.count, 0);
  const ratio = perJob(manys) / perJob(ones);
  const passes = manys.map((many, pass) => fixed(perJob([many]) / perJob([ones[pass] as BurstResult]), 2));
  return [
    {
      figure: "bot CPU per job, second pass (three first, then one)",
      values: [ones.slice(1), manys.slice(1)].map((results) => ms(perJob(results))),
    },
    {
      figure: "bot CPU per job, 3 processes ÷ one (both passes)",
      values: ["1.00", `${fixed(ratio, 2)} (passes ${passes.join(" · ")})`],
      target: "≤ 1.2×",
      verdicts: ["", atMost(ratio, 1.2)],
    },
  ];
}

export function inFlightRows(results: InFlightResult[]): ComparedRow[] {
  return [
    compared(results, "jobs delivered with a grid", (r) => `${r.delivered}/${r.count}`),
    compared(results, "wait window (all tasks running, none done)", (r) => `${fixed(r.windowSeconds)} s`),
    compared(
      results,
      "bot peak memory, largest process + its worker's own pages",
      (r) => `${fixed(r.peakFootprintMb, 0)} MB`,
      {
        target: "≤ 300 MB (one process)",
        of: (r) => r.peakFootprintMb,
        at: 300,
        appliesTo: (r) => r.deployment === "one",
      },
    ),
    compared(
      results,
      "  (RSS of process + worker summed: shared pages twice)",
      (r) => `${fixed(r.peakRssMb, 0)} MB`,
    ),
    compared(results, "bot peak RSS, all processes", (r) => `${fixed(r.peakRssSumMb, 0)} MB`),
    compared(results, "bot event-loop delay p99 while waiting", (r) => ms(r.waiting.eventLoopDelayP99Ms), {
      target: "≤ 50 ms",
      of: (r) => r.waiting.eventLoopDelayP99Ms,
      at: 50,
    }),
    compared(results, "bot CPU while waiting (cores)", (r) =>
      fixed(r.waiting.cpuMs / r.waiting.elapsedMs, 2),
    ),
    compared(
      results,
      "provider polls/s while waiting (expected count/3)",
      (r) => `${fixed(r.pollsPerSecond)} (${fixed(r.count / 3)})`,
    ),
    compared(results, "Discord message edits/s while waiting", (r) => fixed(r.editsPerSecond)),
    compared(results, "time between edits of one message p50", (r) => ms(r.editGapP50)),
    compared(results, "provider completed → grid p50 / p99", (r) => {
      const toGrid = summarize(r.completedToGrid);
      return `${ms(toGrid.p50)} / ${ms(toGrid.p99)}`;
    }),
    compared(results, "bot WARN/ERROR log lines", (r) => String(r.botProblems.count)),
  ];
}

/** What the burst figures are dominated by, read from the figures themselves. */
export function burstNotes(results: BurstResult[]): string[] {
  const unanswered = results.flatMap((result) =>
    result.unanswered.why.map(
      (why) => `${deploymentLabels[result.plan.world.deployment]}: no answer to ${why}`,
    ),
  );
  return [
    ...unanswered,
    ...results.map((result) => {
      const cpuPerJob = result.bot.cpuMs / result.plan.count;
      const coresNeeded = (cpuPerJob * result.plan.perSecond) / 1000;
      return (
        `${deploymentLabels[result.plan.world.deployment]}: ${ms(cpuPerJob)} CPU per job × ${result.plan.perSecond}/s` +
        ` needs ${fixed(coresNeeded)} cores of ${cores}` +
        (coresNeeded > cores ? " — grids queue for the whole burst (CPU-bound)." : ".")
      );
    }),
  ];
}

export function problemLines(results: Array<{ botProblems: { first: string[] } }>): string[] {
  return results.flatMap((result) => result.botProblems.first.map((line) => `bot log: ${line}`));
}
