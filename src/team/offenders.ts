// Repeat offenders: a user whose prompts the provider refused N times within 24 hours is blocked
// for M minutes (when the guild turned the rule on). Refusals are remembered either way, so turning
// the rule on counts the last day's refusals too.
import { z } from "zod";
import { type RecordCache, recordCache, type Store } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";

const windowMs = 24 * 60 * 60 * 1000;

const offenderSchema = z.object({
  /** When recent refusals happened (last 24 hours only). */
  refusedAt: z.array(z.number()).default([]),
  blockedUntil: z.number().optional(),
});
type OffenderRecord = z.infer<typeof offenderSchema>;

export interface OffenderRule {
  refusals: number;
  blockMinutes: number;
}

/** The record after one more refusal at `at`: recent refusals, and a block once they reach the rule's count. */
export function afterRefusal(
  record: OffenderRecord,
  at: number,
  rule: OffenderRule | undefined,
): OffenderRecord {
  const refusedAt = [...record.refusedAt.filter((time) => at - time < windowMs), at];
  if (!rule || refusedAt.length < rule.refusals) return { ...record, refusedAt };
  // The block uses up the refusals that caused it: the next block needs N new ones.
  return { refusedAt: [], blockedUntil: at + rule.blockMinutes * 60_000 };
}

export class OffenderWatch {
  // Asked on every request: kept in memory and written behind by a lone process, read through Redis when shared.
  private readonly records: RecordCache<typeof offenderSchema>;
  private readonly changes = new KeyedSerializer();

  constructor(store: Store) {
    this.records = recordCache(store, "offender", offenderSchema);
  }

  /** Notes a provider refusal; returns when the user is now blocked until, if the rule blocked them. */
  recordRefusal(
    guildId: string | undefined,
    userId: string,
    at: number,
    rule: OffenderRule | undefined,
  ): Promise<number | undefined> {
    const key = this.key(guildId, userId);
    return this.changes.run(key, async () => {
      let blocked: number | undefined;
      // Shared: written when this resolves; alone: written behind.
      await this.records.update(key, (current) => {
        const before = current ?? offenderSchema.parse({});
        const after = afterRefusal(before, at, rule);
        blocked = after.blockedUntil !== before.blockedUntil ? after.blockedUntil : undefined;
        return after;
      });
      return blocked;
    });
  }

  /** Resolves once every refusal noted so far is in the store. */
  async flushed(): Promise<void> {
    await this.records.flushed();
  }

  /** When the user's block ends, if they are blocked at `now`. */
  async blockedUntil(guildId: string | undefined, userId: string, now: number): Promise<number | undefined> {
    const key = this.key(guildId, userId);
    await this.changes.idle(key);
    const until = (await this.records.get(key))?.blockedUntil;
    return until !== undefined && until > now ? until : undefined;
  }

  private key(guildId: string | undefined, userId: string): string {
    return `${guildId ?? "dm"}:${userId}`;
  }
}
