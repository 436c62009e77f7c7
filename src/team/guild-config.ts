// Per-guild team settings that admins change with /atelier: where the bot may be used, who may
// press buttons on others' jobs, limits, banned words, and the cool-down for repeat offenders.
// Everything is off by default, so a guild nobody configured behaves as before.
import { z } from "zod";
import { type RecordCache, recordCache, type Store } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";

export const buttonPolicies = ["anyone", "owner", "roles"] as const;
export type ButtonPolicy = (typeof buttonPolicies)[number];

const positiveWhole = z.number().int().positive();

/**
 * A banned pattern as admins wrote it, `/source/flags`, kept apart from plain words. Matched by RE2
 * (src/team/banned-terms.ts), never by a backtracking engine, so no stored pattern can stall admission.
 */
export const bannedPatternSchema = z.object({ source: z.string(), flags: z.string() });
export type BannedPattern = z.infer<typeof bannedPatternSchema>;

export const guildConfigSchema = z.object({
  /** Channels where jobs may be started; empty means every channel. */
  allowedChannelIds: z.array(z.string()).default([]),
  /** Who may press buttons on someone else's job; the owner always may. */
  buttonPolicy: z.enum(buttonPolicies).default("anyone"),
  buttonRoleIds: z.array(z.string()).default([]),
  /** Jobs one user may start per UTC day. */
  userDailyJobs: positiveWhole.optional(),
  /** Jobs the whole guild may start per UTC day. */
  guildDailyJobs: positiveWhole.optional(),
  /** Least time between two starts by one user. */
  cooldownSeconds: positiveWhole.optional(),
  bannedWords: z.array(z.string()).default([]),
  bannedPatterns: z.array(bannedPatternSchema).default([]),
  /** This many provider refusals within 24 hours block the user for `offenderBlockMinutes`. */
  offenderRefusals: positiveWhole.optional(),
  offenderBlockMinutes: positiveWhole.optional(),
  /** The configured providers members may use here, in order (the first is the server's default); empty: all. */
  providers: z.array(z.string()).default([]),
});
export type GuildConfig = z.infer<typeof guildConfigSchema>;

export function defaultGuildConfig(): GuildConfig {
  return guildConfigSchema.parse({});
}

/** The offender rule applies only when both numbers are set. */
export function offenderRule(config: GuildConfig): { refusals: number; blockMinutes: number } | undefined {
  if (config.offenderRefusals === undefined || config.offenderBlockMinutes === undefined) return undefined;
  return { refusals: config.offenderRefusals, blockMinutes: config.offenderBlockMinutes };
}

/** Guild configs under `guild:<guildId>`; changes are serialized so two admins never lose each other's edit. */
export class GuildConfigStore {
  // Read on every command and click: kept in memory by a lone process, read through Redis when shared.
  private readonly configs: RecordCache<typeof guildConfigSchema>;
  private readonly changes = new KeyedSerializer();

  constructor(store: Store) {
    this.configs = recordCache(store, "guild", guildConfigSchema);
  }

  /** The guild's settings, or the defaults (no guild, e.g. a DM, is never restricted). */
  async get(guildId: string | undefined): Promise<GuildConfig> {
    if (guildId === undefined) return defaultGuildConfig();
    await this.changes.idle(guildId);
    return (await this.configs.get(guildId)) ?? defaultGuildConfig();
  }

  update(guildId: string, change: (config: GuildConfig) => GuildConfig): Promise<GuildConfig> {
    return this.changes.run(guildId, async () => {
      const updated = await this.configs.update(guildId, (current) =>
        guildConfigSchema.parse(change(current ?? defaultGuildConfig())),
      );
      // An admin's change is confirmed only once it is in the store.
      await this.configs.flushed();
      return updated ?? defaultGuildConfig();
    });
  }
}
