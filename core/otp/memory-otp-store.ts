import { hashesMatch } from "./hash-code.js";
import type { ChannelClaim, ChargeResult, FailureWindow, OtpStore, PendingCode, RedeemResult } from "./otp-store.js";

interface Entry {
  codeId: string;
  hash: string;
  expiresAt: number;
  attempts: number;
  maxAttempts: number;
  /** Redeemed: kept as a tombstone so a double submission is told apart from a guess. */
  used: boolean;
  sealed: string | undefined;
  /**
   * Channels the code was sent (or claimed) over, space-separated ("" for none): a string rather than a
   * Set keeps a pending code under 300 bytes (an empty Set alone costs ~100).
   */
  channels: string;
}

export interface MemoryOtpStoreOptions {
  /** How often expired entries are swept, in ms (default 60 s). The timer never keeps the process alive. */
  sweepIntervalMs?: number;
}

/**
 * The embedded, single-process OtpStore. Each method body runs without an `await` between its read
 * and its write, so every step is a critical section on Node's one thread: N concurrent wrong codes
 * are charged at most `maxAttempts`, and exactly one of N concurrent correct codes is consumed.
 */
export class MemoryOtpStore implements OtpStore {
  private readonly codes = new Map<string, Entry>();
  private readonly failures = new Map<string, FailureWindow>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryOtpStoreOptions = {}) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  /** Number of codes held, expired or not (for tests and benchmarks). */
  get size(): number {
    return this.codes.size;
  }

  async issue(key: string, code: PendingCode): Promise<void> {
    this.codes.set(key, {
      codeId: code.codeId,
      hash: code.hash,
      expiresAt: code.expiresAt,
      attempts: 0,
      maxAttempts: code.maxAttempts,
      used: false,
      sealed: code.sealed,
      channels: code.channel ?? "",
    });
  }

  async claimChannel(key: string, channel: string, now: number): Promise<ChannelClaim> {
    const entry = this.codes.get(key);
    if (!entry || entry.expiresAt <= now || entry.used || entry.attempts >= entry.maxAttempts || !entry.sealed)
      return { status: "none" };
    if (hasChannel(entry.channels, channel)) return { status: "already_sent", codeId: entry.codeId };
    entry.channels = entry.channels ? `${entry.channels} ${channel}` : channel;
    return { status: "claimed", codeId: entry.codeId, sealed: entry.sealed, expiresAt: entry.expiresAt };
  }

  async releaseChannel(key: string, codeId: string, channel: string): Promise<void> {
    const entry = this.codes.get(key);
    if (entry?.codeId === codeId)
      entry.channels = entry.channels
        .split(" ")
        .filter((c) => c && c !== channel)
        .join(" ");
  }

  async redeem(key: string, hash: string, now: number): Promise<RedeemResult> {
    const entry = this.codes.get(key);
    if (!entry) return { status: "missing" };
    if (entry.expiresAt <= now) {
      this.codes.delete(key);
      return { status: "expired" };
    }
    if (entry.used) return hashesMatch(hash, entry.hash) ? { status: "used" } : { status: "missing" };
    entry.attempts += 1;
    // A killed code stays (until it expires or a new code replaces it) so every later attempt also
    // hears "maximum number of attempts".
    if (entry.attempts > entry.maxAttempts) return { status: "exhausted" };
    if (!hashesMatch(hash, entry.hash))
      return { status: "wrong", attempts: entry.attempts, maxAttempts: entry.maxAttempts };
    entry.used = true;
    return { status: "verified", codeId: entry.codeId };
  }

  async charge(key: string, now: number): Promise<ChargeResult> {
    const entry = this.codes.get(key);
    if (!entry) return { status: "missing" };
    if (entry.expiresAt <= now) {
      this.codes.delete(key);
      return { status: "expired" };
    }
    if (entry.used) return { status: "used" };
    entry.attempts += 1;
    if (entry.attempts > entry.maxAttempts) return { status: "exhausted" };
    return { status: "charged", codeId: entry.codeId, attempts: entry.attempts, maxAttempts: entry.maxAttempts };
  }

  async consume(key: string, codeId: string): Promise<boolean> {
    const entry = this.codes.get(key);
    if (!entry || entry.codeId !== codeId || entry.used) return false;
    entry.used = true;
    return true;
  }

  async discard(key: string, codeId: string): Promise<void> {
    if (this.codes.get(key)?.codeId === codeId) this.codes.delete(key);
  }

  async recordFailure(key: string, windowMs: number, now: number): Promise<number> {
    const current = this.failures.get(key);
    if (!current || current.resetAt <= now) {
      this.failures.set(key, { count: 1, resetAt: now + windowMs });
      return 1;
    }
    current.count += 1;
    return current.count;
  }

  async failureCount(key: string, now: number): Promise<number> {
    const current = this.failures.get(key);
    return current && current.resetAt > now ? current.count : 0;
  }

  async failureWindow(key: string, now: number): Promise<FailureWindow> {
    const current = this.failures.get(key);
    return current && current.resetAt > now
      ? { count: current.count, resetAt: current.resetAt }
      : { count: 0, resetAt: now };
  }

  async clearFailures(key: string): Promise<void> {
    this.failures.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(key);
    for (const [key, window] of this.failures) if (window.resetAt <= now) this.failures.delete(key);
  }
}

const hasChannel = (channels: string, channel: string): boolean => channels.split(" ").includes(channel);
