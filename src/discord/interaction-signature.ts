// Discord signs every interaction it POSTs to the interactions endpoint: Ed25519 over the
// timestamp header followed by the raw body, with the application's public key. A request is
// trusted only when the signature holds, the timestamp is fresh and the same (timestamp,
// signature) was not offered before, so a captured request cannot be played again.
import { createPublicKey, type KeyObject, verify } from "node:crypto";

export const signatureHeader = "x-signature-ed25519";
export const timestampHeader = "x-signature-timestamp";

/** DER of an Ed25519 SubjectPublicKeyInfo up to the key: the raw 32 bytes Discord shows follow it. */
const ed25519SpkiPrefix = Buffer.from("302a300506032b6570032100", "hex");

/** The application's public key as Discord's developer portal shows it: 64 hex characters. */
export function ed25519PublicKey(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error("an Ed25519 public key is 64 hex characters");
  return createPublicKey({
    key: Buffer.concat([ed25519SpkiPrefix, Buffer.from(hex, "hex")]),
    format: "der",
    type: "spki",
  });
}

/** Remembers what was offered, for a while: how replays are told apart from first deliveries. */
export interface ReplayGuard {
  /** True the first time `key` is offered within `ttlMs`; false for every repeat in that time. */
  firstTime(key: string, ttlMs: number): Promise<boolean>;
}

/** One process's memory of recent keys (a shared one is needed when several processes serve). */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async firstTime(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    // Keys go in with one ttl, so the oldest expire first: sweep from the front.
    for (const [old, expiry] of this.#expiries) {
      if (expiry > now) break;
      this.#expiries.delete(old);
    }
    if (this.#expiries.has(key)) return false;
    this.#expiries.set(key, now + ttlMs);
    return true;
  }
}

/** `unavailable`: the request is genuine, but whether it is a replay could not be told (Redis away). */
export type SignatureVerdict = { ok: true } | { ok: false; reason: string; unavailable?: true };

export interface SignatureCheckOptions {
  /** The application's public key, hex (DISCORD_PUBLIC_KEY). */
  publicKey: string;
  replays: ReplayGuard;
  /** Oldest timestamp accepted. Default 5 minutes. */
  maxAgeMs?: number;
  /** How far ahead of this machine's clock a timestamp may be. Default 30 s. */
  maxAheadMs?: number;
  now?: () => number;
}

export interface SignedRequest {
  signature: string | undefined;
  timestamp: string | undefined;
  body: Buffer;
}

export type SignatureCheck = (request: SignedRequest) => Promise<SignatureVerdict>;

/** Checks headers, freshness and signature, then refuses repeats; nothing of the body is read before. */
export function createSignatureCheck(options: SignatureCheckOptions): SignatureCheck {
  const key = ed25519PublicKey(options.publicKey);
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  const maxAheadMs = options.maxAheadMs ?? 30_000;
  const now = options.now ?? Date.now;
  return async ({ signature, timestamp, body }) => {
    if (!signature || !timestamp) return { ok: false, reason: "missing signature headers" };
    if (!/^[0-9a-f]{128}$/i.test(signature)) return { ok: false, reason: "malformed signature" };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed timestamp" };
    const age = now() - Number(timestamp) * 1000;
    if (age > maxAgeMs) return { ok: false, reason: "stale timestamp" };
    if (age < -maxAheadMs) return { ok: false, reason: "timestamp in the future" };
    const signed = Buffer.concat([Buffer.from(timestamp, "utf8"), body]);
    if (!verify(null, signed, key, Buffer.from(signature, "hex")))
      return { ok: false, reason: "bad signature" };
    // Only genuine requests are remembered, so forgeries cannot fill the memory.
    let first: boolean;
    try {
      first = await options.replays.firstTime(
        `${timestamp}:${signature.toLowerCase()}`,
        maxAgeMs + maxAheadMs,
      );
    } catch (error) {
      return {
        ok: false,
        reason: `replay memory unavailable: ${(error as Error).message}`,
        unavailable: true,
      };
    }
    return first ? { ok: true } : { ok: false, reason: "replayed request" };
  };
}
