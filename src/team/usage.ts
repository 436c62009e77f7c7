// Usage accounting per guild and per user, by UTC day and month: jobs started (what limits count),
// jobs finished, provider refusals, and credits — the provider's own figure when it reports one,
// otherwise an estimate from the job's speed. Records live under `usage:<guild>:…`.
import { z } from "zod";
import type { JobRecord } from "../jobs/record.ts";
import { CachedRepository, Repository, type Store } from "../store/index.ts";

const count = z.number().int().nonnegative().default(0);

export const usageTotalsSchema = z.object({
  /** Jobs admitted (counted when asked for, so parallel requests cannot overrun a limit). */
  started: count,
  completed: count,
  failed: count,
  /** Failures where the provider refused the prompt (moderation). */
  refused: count,
  credits: z.number().nonnegative().default(0),
  /** Completed jobs whose credits are an estimate: the provider reported none. */
  estimated: count,
});
export type UsageTotals = z.infer<typeof usageTotalsSchema>;

const guildUsageSchema = usageTotalsSchema.extend({
  /** The same totals per user, for the admins' top list. */
  users: z.record(z.string(), usageTotalsSchema).default({}),
});
export type GuildUsage = z.infer<typeof guildUsageSchema>;

const lastStartSchema = z.object({ at: z.number() });
const countedSchema = z.literal(true);

export type Period = "day" | "month";

/** Credits a job is assumed to cost when the provider does not say: by speed, fast = 1. */
export const estimatedCreditsBySpeed = { draft: 0.5, relax: 0.5, fast: 1, turbo: 2 } as const;

/** Finished jobs are remembered this long so a replayed finish (after a restart) is not counted twice. */
const countedTtlMs = 45 * 24 * 60 * 60 * 1000;

/** Jobs outside a guild (DMs) are accounted under this name. */
const noGuild = "dm";

export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export function utcMonth(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** When the UTC day containing `at` ends: daily limits reset then. */
export function nextUtcMidnight(at: number): number {
  const date = new Date(at);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

function periodKey(period: Period, at: number): string {
  return period === "day" ? utcDay(at) : utcMonth(at);
}

export function emptyTotals(): UsageTotals {
  return usageTotalsSchema.parse({});
}

/** What a finished job adds to the totals; a task-less job (a separated upscale) costs nothing. */
export function finishedDelta(job: JobRecord): Partial<UsageTotals> {
  if (job.state === "failed") {
    return job.error?.kind === "refused" ? { failed: 1, refused: 1 } : { failed: 1 };
  }
  if (job.credits !== undefined) return { completed: 1, credits: job.credits };
  if (!job.taskId) return { completed: 1 };
  return { completed: 1, credits: estimatedCreditsBySpeed[job.speed ?? "fast"], estimated: 1 };
}

function add(totals: UsageTotals, delta: Partial<UsageTotals>): UsageTotals {
  return {
    started: totals.started + (delta.started ?? 0),
    completed: totals.completed + (delta.completed ?? 0),
    failed: totals.failed + (delta.failed ?? 0),
    refused: totals.refused + (delta.refused ?? 0),
    credits: Math.round((totals.credits + (delta.credits ?? 0)) * 1000) / 1000,
    estimated: totals.estimated + (delta.estimated ?? 0),
  };
}

export interface UsageScope {
  guildId: string | undefined;
  userId: string;
}

/** What a limit check sees: today's totals and the user's last start. */
export interface StartState {
  user: UsageTotals;
  guild: UsageTotals;
  lastStartedAt: number | undefined;
}

export class UsageLedger {
  // Totals are read on every request (limits) and written by every job: kept in memory, written behind.
  private readonly guilds: CachedRepository<typeof guildUsageSchema>;
  private readonly users: CachedRepository<typeof usageTotalsSchema>;
  private readonly lastStarts: CachedRepository<typeof lastStartSchema>;
  private readonly counted: Repository<typeof countedSchema>;
  /** Every change goes through this chain: totals are read-modify-write records shared by all jobs. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(store: Store, onWriteError?: (error: unknown) => void) {
    this.guilds = new CachedRepository(new Repository(store.keyv, "usage", guildUsageSchema), {
      onWriteError,
    });
    this.users = new CachedRepository(new Repository(store.keyv, "usage", usageTotalsSchema), {
      onWriteError,
    });
    this.lastStarts = new CachedRepository(new Repository(store.keyv, "usage-last", lastStartSchema), {
      onWriteError,
    });
    this.counted = new Repository(store.keyv, "usage-counted", countedSchema);
  }

  /** Resolves once every change so far is in the store. */
  async flushed(): Promise<void> {
    await this.pending;
    await Promise.all([this.guilds.flushed(), this.users.flushed(), this.lastStarts.flushed()]);
  }

  /**
   * Checks and counts `jobs` new starts as one step, so two requests at once cannot both slip under
   * a limit. `decide` sees the current state and returns a refusal, or undefined to count the starts.
   */
  reserve<Refusal>(
    scope: UsageScope,
    jobs: number,
    at: number,
    decide: (state: StartState) => Refusal | undefined,
  ): Promise<Refusal | undefined> {
    return this.exclusive(async () => {
      const state = await this.startState(scope, at);
      const refusal = decide(state);
      if (refusal !== undefined) return refusal;
      await this.apply(scope, { started: jobs }, at);
      this.lastStarts.set(this.userId(scope), { at });
      return undefined;
    });
  }

  /** Adds a finished job once (a finish replayed after a restart is ignored); true when counted now. */
  recordFinished(job: JobRecord, fallbackAt: number): Promise<boolean> {
    return this.exclusive(async () => {
      if (await this.counted.get(job.id)) return false;
      const at = job.finishedAt ?? fallbackAt;
      await this.apply({ guildId: job.guildId, userId: job.requesterId }, finishedDelta(job), at);
      await this.counted.set(job.id, true, countedTtlMs);
      return true;
    });
  }

  async userTotals(scope: UsageScope, period: Period, at: number): Promise<UsageTotals> {
    await this.pending;
    return (await this.users.get(this.userKey(scope, period, at))) ?? emptyTotals();
  }

  async guildTotals(guildId: string | undefined, period: Period, at: number): Promise<GuildUsage> {
    await this.pending;
    return (await this.guilds.get(this.guildKey(guildId, period, at))) ?? guildUsageSchema.parse({});
  }

  async lastStartedAt(scope: UsageScope): Promise<number | undefined> {
    await this.pending;
    return (await this.lastStarts.get(this.userId(scope)))?.at;
  }

  private async startState(scope: UsageScope, at: number): Promise<StartState> {
    const user = (await this.users.get(this.userKey(scope, "day", at))) ?? emptyTotals();
    const guild = (await this.guilds.get(this.guildKey(scope.guildId, "day", at))) ?? emptyTotals();
    const lastStartedAt = (await this.lastStarts.get(this.userId(scope)))?.at;
    return { user, guild, lastStartedAt };
  }

  private async apply(scope: UsageScope, delta: Partial<UsageTotals>, at: number): Promise<void> {
    for (const period of ["day", "month"] as const) {
      const userKey = this.userKey(scope, period, at);
      this.users.set(userKey, add((await this.users.get(userKey)) ?? emptyTotals(), delta));
      const guildKey = this.guildKey(scope.guildId, period, at);
      const guild = (await this.guilds.get(guildKey)) ?? guildUsageSchema.parse({});
      const user = guild.users[scope.userId] ?? emptyTotals();
      this.guilds.set(guildKey, {
        ...add(guild, delta),
        users: { ...guild.users, [scope.userId]: add(user, delta) },
      });
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.pending.then(work);
    this.pending = next.catch(() => undefined);
    return next;
  }

  private guildKey(guildId: string | undefined, period: Period, at: number): string {
    return `${guildId ?? noGuild}:${periodKey(period, at)}`;
  }

  private userKey(scope: UsageScope, period: Period, at: number): string {
    return `${scope.guildId ?? noGuild}:${scope.userId}:${periodKey(period, at)}`;
  }

  private userId(scope: UsageScope): string {
    return `${scope.guildId ?? noGuild}:${scope.userId}`;
  }
}

/** The users with the most jobs in a guild's totals, most first (credits break ties). */
export function topUsers(usage: GuildUsage, limit: number): Array<{ userId: string; totals: UsageTotals }> {
  return Object.entries(usage.users)
    .map(([userId, totals]) => ({ userId, totals }))
    .sort((a, b) => b.totals.started - a.totals.started || b.totals.credits - a.totals.credits)
    .slice(0, limit);
}
