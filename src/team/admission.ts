// Admission: the one check /imagine and every button go through before any job is prepared.
// Each rule is a small pure function over the guild's config; `Admission` gathers what they need
// from the store and counts the admitted jobs in the same step, so limits cannot be overrun.
import { findBannedTerm } from "./banned-terms.ts";
import type { GuildConfig, GuildConfigStore } from "./guild-config.ts";
import type { OffenderWatch } from "./offenders.ts";
import { nextUtcMidnight, type StartState, type UsageLedger } from "./usage.ts";

export interface AdmissionRequest {
  userId: string;
  guildId: string | undefined;
  /** The channel, and its parent when it is a thread: either may be an allowed one. */
  channelIds: readonly string[];
  /** The member's roles, for the `roles` button policy. */
  roleIds: readonly string[];
  /** What the new jobs will ask the provider for, checked against banned words. */
  promptText: string;
  /** How many jobs this starts (permutations × repeats for /imagine, 1 for a button). */
  jobCount: number;
  /** For buttons: who asked for the job the button belongs to. */
  jobOwnerId?: string;
  /** The server's settings as this ask read them already (one read per ask); else read here. */
  guildConfig?: GuildConfig;
}

/** Why a request was refused, with what the explanation needs. */
export type Refusal =
  | { rule: "channel"; allowedChannelIds: readonly string[] }
  | { rule: "buttons"; policy: "owner" | "roles"; roleIds: readonly string[] }
  | { rule: "offender"; until: number }
  | { rule: "banned"; term: string }
  | { rule: "cooldown"; until: number; seconds: number }
  | { rule: "userDaily" | "guildDaily"; limit: number; used: number; requested: number; resetsAt: number };

export function channelRefusal(config: GuildConfig, channelIds: readonly string[]): Refusal | undefined {
  const allowed = config.allowedChannelIds;
  if (allowed.length === 0 || channelIds.some((id) => allowed.includes(id))) return undefined;
  return { rule: "channel", allowedChannelIds: allowed };
}

/** The job's owner may always press its buttons; others depend on the guild's policy. */
export function buttonRefusal(
  config: GuildConfig,
  userId: string,
  jobOwnerId: string | undefined,
  roleIds: readonly string[],
): Refusal | undefined {
  if (jobOwnerId === undefined || jobOwnerId === userId) return undefined;
  switch (config.buttonPolicy) {
    case "anyone":
      return undefined;
    case "owner":
      return { rule: "buttons", policy: "owner", roleIds: [] };
    case "roles":
      if (roleIds.some((id) => config.buttonRoleIds.includes(id))) return undefined;
      return { rule: "buttons", policy: "roles", roleIds: config.buttonRoleIds };
  }
}

export function bannedRefusal(config: GuildConfig, promptText: string): Refusal | undefined {
  const term = findBannedTerm(promptText, config.bannedWords, config.bannedPatterns);
  return term === undefined ? undefined : { rule: "banned", term };
}

export function cooldownRefusal(
  config: GuildConfig,
  lastStartedAt: number | undefined,
  now: number,
): Refusal | undefined {
  const seconds = config.cooldownSeconds;
  if (seconds === undefined || lastStartedAt === undefined) return undefined;
  const until = lastStartedAt + seconds * 1000;
  return until > now ? { rule: "cooldown", until, seconds } : undefined;
}

/** Daily caps count every job a request would start, so 4 permutations need 4 left. */
export function dailyRefusal(
  config: GuildConfig,
  state: StartState,
  requested: number,
  now: number,
): Refusal | undefined {
  const resetsAt = nextUtcMidnight(now);
  const userLimit = config.userDailyJobs;
  if (userLimit !== undefined && state.user.started + requested > userLimit)
    return { rule: "userDaily", limit: userLimit, used: state.user.started, requested, resetsAt };
  const guildLimit = config.guildDailyJobs;
  if (guildLimit !== undefined && state.guild.started + requested > guildLimit)
    return { rule: "guildDaily", limit: guildLimit, used: state.guild.started, requested, resetsAt };
  return undefined;
}

/** The checks that need no counters, in the order a user would want to hear about them. */
export function staticRefusal(config: GuildConfig, request: AdmissionRequest): Refusal | undefined {
  return (
    channelRefusal(config, request.channelIds) ??
    buttonRefusal(config, request.userId, request.jobOwnerId, request.roleIds) ??
    bannedRefusal(config, request.promptText)
  );
}

export type AdmissionVerdict = { ok: true } | { ok: false; refusal: Refusal };

export interface AdmissionDependencies {
  configs: GuildConfigStore;
  usage: UsageLedger;
  offenders: OffenderWatch;
  now?: () => number;
}

export class Admission {
  private readonly now: () => number;

  constructor(private readonly dependencies: AdmissionDependencies) {
    this.now = dependencies.now ?? Date.now;
  }

  /** The rules that need no counting (channel, buttons, banned words): asked before a remix form opens. */
  async precheck(request: AdmissionRequest): Promise<AdmissionVerdict> {
    const config = await this.dependencies.configs.get(request.guildId);
    const fixed = staticRefusal(config, request);
    return fixed ? { ok: false, refusal: fixed } : { ok: true };
  }

  /** Admits the request and counts its jobs as started, or says which rule refuses it. */
  async admit(request: AdmissionRequest): Promise<AdmissionVerdict> {
    const { configs, usage, offenders } = this.dependencies;
    const now = this.now();
    // Together: with Redis each read is a round trip, and the answer to the ask waits for them.
    const [config, blockedUntil] = await Promise.all([
      request.guildConfig ?? configs.get(request.guildId),
      offenders.blockedUntil(request.guildId, request.userId, now),
    ]);
    const fixed = staticRefusal(config, request);
    if (fixed) return { ok: false, refusal: fixed };
    if (blockedUntil !== undefined) return { ok: false, refusal: { rule: "offender", until: blockedUntil } };
    const limited =
      config.cooldownSeconds !== undefined ||
      config.userDailyJobs !== undefined ||
      config.guildDailyJobs !== undefined;
    const counted = await usage.reserve(
      { guildId: request.guildId, userId: request.userId },
      request.jobCount,
      now,
      limited
        ? (state) =>
            cooldownRefusal(config, state.lastStartedAt, now) ??
            dailyRefusal(config, state, request.jobCount, now)
        : undefined,
    );
    return counted ? { ok: false, refusal: counted } : { ok: true };
  }
}
