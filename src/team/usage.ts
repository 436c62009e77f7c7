// Usage accounting per guild and per user, by UTC day and month: jobs started (what limits count),
// jobs finished, provider refusals, and credits — the provider's own figure when it reports one,
// otherwise an estimate from the job's speed. Records live under `usage:<guild>:…`; with Redis the
// totals are hashes changed by atomic increments (several processes count at once, none loses one).
import type { Redis } from "ioredis";
import { z } from "zod";
import type { JobRecord } from "../jobs/record.ts";
import { CachedRepository, lockShared, Repository, type Store } from "../store/index.ts";
import { type RedisScript, redisScript } from "../store/redis-script.ts";
import { KeyedSerializer } from "../store/serial.ts";
import { sharedPrefix } from "../store/shared.ts";

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

/** Jobs started and finished, counted per guild and per person; limits read it. */
export interface UsageLedger {
  /**
   * Checks and counts `jobs` new starts as one step, so two requests at once cannot both slip under
   * a limit. `decide` sees the current state and returns a refusal, or undefined to count the starts;
   * without it (the guild sets no limit) the starts are counted at once, with nothing to wait for.
   */
  reserve<Refusal>(
    scope: UsageScope,
    jobs: number,
    at: number,
    decide?: (state: StartState) => Refusal | undefined,
  ): Promise<Refusal | undefined>;
  /** Adds a finished job once (a finish replayed after a restart is ignored); true when counted now. */
  recordFinished(job: JobRecord, fallbackAt: number): Promise<boolean>;
  userTotals(scope: UsageScope, period: Period, at: number): Promise<UsageTotals>;
  guildTotals(guildId: string | undefined, period: Period, at: number): Promise<GuildUsage>;
  lastStartedAt(scope: UsageScope): Promise<number | undefined>;
  /** Resolves once every change so far is in the store. */
  flushed(): Promise<void>;
}

/** The embedded store's ledger (one process) or the shared one (Redis). */
export function createUsageLedger(store: Store, onWriteError?: (error: unknown) => void): UsageLedger {
  return store.redis ? new RedisUsageLedger(store) : new StoreUsageLedger(store, onWriteError);
}

class StoreUsageLedger implements UsageLedger {
  // Totals are read on every request (limits) and written by every job: kept in memory, written behind.
  private readonly guilds: CachedRepository<typeof guildUsageSchema>;
  private readonly users: CachedRepository<typeof usageTotalsSchema>;
  private readonly lastStarts: CachedRepository<typeof lastStartSchema>;
  private readonly counted: Repository<typeof countedSchema>;
  /** Every change goes through this chain: totals are read-modify-write records shared by all jobs. */
  private pending: Promise<unknown> = Promise.resolve();
  private readonly finishing = new KeyedSerializer();

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

  reserve<Refusal>(
    scope: UsageScope,
    jobs: number,
    at: number,
    decide?: (state: StartState) => Refusal | undefined,
  ): Promise<Refusal | undefined> {
    return this.exclusive(async () => {
      const refusal = decide?.(await this.startState(scope, at));
      if (refusal !== undefined) return refusal;
      await this.apply(scope, { started: jobs }, at);
      this.lastStarts.set(personOf(scope), { at });
      return undefined;
    });
  }

  recordFinished(job: JobRecord, fallbackAt: number): Promise<boolean> {
    // The once-only mark is a store read and write per job: serialized per job, outside the chain
    // admission waits on, so a burst of finishing jobs never delays answering a new /imagine.
    return this.finishing.run(job.id, async () => {
      if (await this.counted.get(job.id)) return false;
      const at = job.finishedAt ?? fallbackAt;
      await this.exclusive(() =>
        this.apply({ guildId: job.guildId, userId: job.requesterId }, finishedDelta(job), at),
      );
      await this.counted.set(job.id, true, countedTtlMs);
      return true;
    });
  }

  async userTotals(scope: UsageScope, period: Period, at: number): Promise<UsageTotals> {
    await this.pending;
    return (await this.users.get(userKeyOf(scope, period, at))) ?? emptyTotals();
  }

  async guildTotals(guildId: string | undefined, period: Period, at: number): Promise<GuildUsage> {
    await this.pending;
    return (await this.guilds.get(guildKeyOf(guildId, period, at))) ?? guildUsageSchema.parse({});
  }

  async lastStartedAt(scope: UsageScope): Promise<number | undefined> {
    await this.pending;
    return (await this.lastStarts.get(personOf(scope)))?.at;
  }

  private async startState(scope: UsageScope, at: number): Promise<StartState> {
    const user = (await this.users.get(userKeyOf(scope, "day", at))) ?? emptyTotals();
    const guild = (await this.guilds.get(guildKeyOf(scope.guildId, "day", at))) ?? emptyTotals();
    const lastStartedAt = (await this.lastStarts.get(personOf(scope)))?.at;
    return { user, guild, lastStartedAt };
  }

  private async apply(scope: UsageScope, delta: Partial<UsageTotals>, at: number): Promise<void> {
    for (const period of ["day", "month"] as const) {
      const userKey = userKeyOf(scope, period, at);
      this.users.set(userKey, add((await this.users.get(userKey)) ?? emptyTotals(), delta));
      const guildKey = guildKeyOf(scope.guildId, period, at);
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
}

function guildKeyOf(guildId: string | undefined, period: Period, at: number): string {
  return `${guildId ?? noGuild}:${periodKey(period, at)}`;
}

function userKeyOf(scope: UsageScope, period: Period, at: number): string {
  return `${scope.guildId ?? noGuild}:${scope.userId}:${periodKey(period, at)}`;
}

function personOf(scope: UsageScope): string {
  return `${scope.guildId ?? noGuild}:${scope.userId}`;
}

/**
 * Adds one delta to a person's and their guild's day and month totals, in one atomic step; with a
 * TTL (ARGV[1] > 0) only the first time KEYS[1] is set, so a finish replayed by any process counts
 * once. With ARGV[3] (a start's time), KEYS[6] remembers it as the person's last start (cool-down).
 */
const countScript = {
  name: "atelierCountUsage",
  numberOfKeys: 6,
  lua: `
if ARGV[1] ~= "0" then
  if not redis.call("SET", KEYS[1], "1", "NX", "PX", ARGV[1]) then return 0 end
end
if ARGV[3] ~= "" then redis.call("SET", KEYS[6], ARGV[3]) end
for i = 4, #ARGV, 2 do
  local field, amount = ARGV[i], ARGV[i + 1]
  for k = 2, 5 do redis.call("HINCRBYFLOAT", KEYS[k], field, amount) end
  for k = 4, 5 do redis.call("HINCRBYFLOAT", KEYS[k], "u:" .. ARGV[2] .. ":" .. field, amount) end
end
return 1`,
};

const totalsFields = ["started", "completed", "failed", "refused", "credits", "estimated"] as const;

/** Totals from a Redis hash (HINCRBYFLOAT writes "1", "2.5"…); credits keep three decimals like `add`. */
function totalsOf(hash: Record<string, string>, prefix = ""): UsageTotals {
  const totals = emptyTotals();
  for (const field of totalsFields) {
    const value = Number.parseFloat(hash[`${prefix}${field}`] ?? "0");
    totals[field] = field === "credits" ? Math.round(value * 1000) / 1000 : Math.round(value);
  }
  return totals;
}

/**
 * The shared ledger: totals are Redis hashes changed only by atomic increments, so processes
 * counting at once never lose a count. Checking a limit and counting the starts is one step per
 * guild: a short Redis lock (lockShared) around read, decide, count.
 */
class RedisUsageLedger implements UsageLedger {
  private readonly redis: Redis;
  private readonly guildTurns = new KeyedSerializer();
  private readonly pending = new Set<Promise<unknown>>();

  private readonly countUsage: RedisScript;

  constructor(private readonly store: Store) {
    this.redis = store.redis as Redis;
    this.countUsage = redisScript(this.redis, countScript);
  }

  async flushed(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  reserve<Refusal>(
    scope: UsageScope,
    jobs: number,
    at: number,
    decide?: (state: StartState) => Refusal | undefined,
  ): Promise<Refusal | undefined> {
    const guild = scope.guildId ?? noGuild;
    // Nothing to check: count at once. Every process's /imagine in a guild would otherwise take
    // turns on one Redis lock (measured: ~100 ms waits at 20/s over three processes).
    if (!decide) return this.track(this.countStarts(scope, jobs, at));
    return this.track(
      this.guildTurns.run(guild, () =>
        lockShared(this.store, `usage:${guild}`, async () => {
          const [user, guildTotals, lastStartedAt] = await Promise.all([
            this.totalsAt(this.key("usage", userKeyOf(scope, "day", at))),
            // The guild's own totals only, not every member's (HGETALL would read them all).
            this.totalsAt(this.key("usage-guild", guildKeyOf(scope.guildId, "day", at))),
            this.lastStartedAt(scope),
          ]);
          const refusal = decide({ user, guild: guildTotals, lastStartedAt });
          if (refusal !== undefined) return refusal;
          return this.countStarts(scope, jobs, at);
        }),
      ),
    );
  }

  private async countStarts(scope: UsageScope, jobs: number, at: number): Promise<undefined> {
    await this.count(scope, { started: jobs }, at, { startedAt: at });
    return undefined;
  }

  recordFinished(job: JobRecord, fallbackAt: number): Promise<boolean> {
    const scope = { guildId: job.guildId, userId: job.requesterId };
    return this.track(this.count(scope, finishedDelta(job), job.finishedAt ?? fallbackAt, { jobId: job.id }));
  }

  userTotals(scope: UsageScope, period: Period, at: number): Promise<UsageTotals> {
    return this.totalsAt(this.key("usage", userKeyOf(scope, period, at)));
  }

  private async totalsAt(key: string): Promise<UsageTotals> {
    const values = await this.redis.hmget(key, ...totalsFields);
    const hash: Record<string, string> = {};
    for (const [index, field] of totalsFields.entries()) {
      const value = values[index];
      if (value !== null && value !== undefined) hash[field] = value;
    }
    return totalsOf(hash);
  }

  async guildTotals(guildId: string | undefined, period: Period, at: number): Promise<GuildUsage> {
    const hash = await this.redis.hgetall(this.key("usage-guild", guildKeyOf(guildId, period, at)));
    const users: Record<string, UsageTotals> = {};
    for (const field of Object.keys(hash)) {
      if (!field.startsWith("u:")) continue;
      const userId = field.slice(2, field.lastIndexOf(":"));
      users[userId] ??= totalsOf(hash, `u:${userId}:`);
    }
    return { ...totalsOf(hash), users };
  }

  async lastStartedAt(scope: UsageScope): Promise<number | undefined> {
    const at = await this.redis.get(this.key("usage-last", personOf(scope)));
    return at === null ? undefined : Number(at);
  }

  /**
   * One atomic increment of every total the delta touches; with `jobId`, only once per job; with
   * `startedAt`, also the person's last start.
   */
  private async count(
    scope: UsageScope,
    delta: Partial<UsageTotals>,
    at: number,
    { jobId, startedAt }: { jobId?: string; startedAt?: number },
  ): Promise<boolean> {
    const amounts = Object.entries(delta).flatMap(([field, amount]) => [field, String(amount)]);
    const counted = await this.countUsage(
      this.key("usage-counted", jobId ?? "-"),
      this.key("usage", userKeyOf(scope, "day", at)),
      this.key("usage", userKeyOf(scope, "month", at)),
      this.key("usage-guild", guildKeyOf(scope.guildId, "day", at)),
      this.key("usage-guild", guildKeyOf(scope.guildId, "month", at)),
      this.key("usage-last", personOf(scope)),
      jobId === undefined ? "0" : String(countedTtlMs),
      scope.userId,
      startedAt === undefined ? "" : String(startedAt),
      ...amounts,
    );
    return counted === 1;
  }

  private key(kind: string, id: string): string {
    return `${sharedPrefix}${kind}:${id}`;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
    return work;
  }
}

/** The users with the most jobs in a guild's totals, most first (credits break ties). */
export function topUsers(usage: GuildUsage, limit: number): Array<{ userId: string; totals: UsageTotals }> {
  return Object.entries(usage.users)
    .map(([userId, totals]) => ({ userId, totals }))
    .sort((a, b) => b.totals.started - a.totals.started || b.totals.credits - a.totals.credits)
    .slice(0, limit);
}
