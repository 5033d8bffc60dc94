import type { Step, StepsReply } from "../protection/redis-steps.js";
import type { RedisKeys } from "./redis-keys.js";

/**
 * Storage for pending codes and per-phone failure counters.
 *
 * Every method is one atomic step **across all processes sharing the store**. Verification is
 * "count, then compare, then consume" inside one step, {@link OtpStore.redeem}: the attempt is charged
 * before the hashes are compared, and a match consumes the code in the same step, so exactly one of N
 * concurrent correct submissions wins and the others find the code already used (they are not charged
 * and do not count as failures). Implementations must keep these guarantees under concurrency: the
 * memory store runs each step as a synchronous critical section, the Redis store as one Lua script.
 *
 * Keys are opaque strings built by the engine (connection + phone); stores never parse them.
 * When the backing service is unreachable, methods throw `TextlockError("ERR_STORE_UNAVAILABLE")`
 * within a bounded time rather than hang or fall back.
 */
export interface OtpStore {
  /** Stores a new code for `key`, replacing any earlier one (only the last code is valid). */
  issue(key: string, code: PendingCode): Promise<void>;

  /**
   * Redeems the current code with the keyed hash of a submitted code, in one atomic step:
   * - `missing`: no code (never issued, expired and swept), or a code already used and `hash` is not
   *   the hash it was used with;
   * - `expired`: a code exists but its time is up (it is removed);
   * - `used`: the code was already redeemed with this same `hash` (a double submission); nothing is
   *   charged. A used code is kept as a tombstone until it expires or a new code replaces it;
   * - `exhausted`: this attempt is past `maxAttempts`; the dead code is kept until it expires or is
   *   replaced, so every later attempt is `exhausted` too (it can never be redeemed);
   * - `wrong`: the attempt was charged and `hash` does not match;
   * - `verified`: the attempt was charged, `hash` matches and the code is now used: exactly one caller
   *   gets this for a code.
   * Hashes are compared in constant time (`timingSafeEqual` in memory; in Redis, Lua's `==` on
   * interned strings, a pointer comparison).
   */
  redeem(key: string, hash: string, now: number): Promise<RedeemResult>;

  /**
   * For codes the vendor checks (Twilio Verify), step one of two: charges an attempt against the
   * current code, with the same outcomes as {@link redeem} short of the comparison (`missing`,
   * `expired`, `used` for a used code, `exhausted` past `maxAttempts`), or `charged` with its id.
   */
  charge(key: string, now: number): Promise<ChargeResult>;

  /**
   * Step two, after the vendor approved the code: marks the code `codeId` used. True for exactly one
   * caller; false when it is already used, gone or replaced.
   */
  consume(key: string, codeId: string): Promise<boolean>;

  /**
   * Claims `channel` for the live code of `key`, in one atomic step, so the same code can be sent
   * again over it (a channel switch or an escalation) without a new code or a new guessing budget:
   * - `claimed`: the code is live (not expired, used or out of attempts), was issued with a sealed copy
   *   and was never sent over `channel`; `channel` is now recorded as sent, so of N concurrent claims of
   *   one channel exactly one wins;
   * - `already_sent`: the live code was already sent (or claimed) over `channel`;
   * - `none`: there is no live code that can be sent again.
   */
  claimChannel(key: string, channel: string, now: number): Promise<ChannelClaim>;

  /** Undoes {@link claimChannel} for the code `codeId` (the send over `channel` failed). */
  releaseChannel(key: string, codeId: string, channel: string): Promise<void>;

  /** Removes the code if it is still the one with `codeId` (a failed send must leave no valid code). */
  discard(key: string, codeId: string): Promise<void>;

  /** Adds one to the phone's consecutive-failure counter (window starts at the first failure); returns the new count. */
  recordFailure(key: string, windowMs: number, now: number): Promise<number>;

  /** The phone's current consecutive-failure count (0 when the window has passed). */
  failureCount(key: string, now: number): Promise<number>;

  /**
   * The phone's current failure window: its count and the epoch ms at which the window ends and the
   * count drops to 0 (`{count: 0, resetAt: now}` when there is none). Used for the lock's Retry-After.
   */
  failureWindow(key: string, now: number): Promise<FailureWindow>;

  /** Clears the phone's failure counter (after a successful login). */
  clearFailures(key: string): Promise<void>;

  /** Releases connections and timers. */
  close(): Promise<void>;

  /**
   * Resolves when the store answers, rejects when it does not (the standalone server's
   * `/health/ready`). Absent on a store in this process's memory, which always answers.
   */
  ping?(): Promise<void>;

  /** Present on the Redis store: lets a start or an exchange run codes and limits in one script. */
  readonly redisSteps?: RedisSteps;
}

/** A phone's consecutive-failure window. */
export interface FailureWindow {
  count: number;
  /** Epoch ms at which the window ends. */
  resetAt: number;
}

/** A code as stored: never the code itself, only its keyed hash. */
export interface PendingCode {
  /** Random id of this code, so a stale consume or discard cannot remove a newer code. */
  codeId: string;
  /** HMAC-SHA-256 of (connection, client id, phone, code), base64url. */
  hash: string;
  /** Epoch ms after which the code is invalid. */
  expiresAt: number;
  /** Wrong attempts allowed before the code dies. */
  maxAttempts: number;
  /**
   * The code sealed by the engine (opaque to stores; never the code in the clear), kept so the same
   * code can be sent again over another channel. Without it the code cannot be re-sent.
   */
  sealed?: string;
  /** The channel the code is first sent over (recorded as claimed, see {@link OtpStore.claimChannel}). */
  channel?: string;
}

/** Outcome of {@link OtpStore.charge}. */
export type ChargeResult =
  | { status: "missing" }
  | { status: "expired" }
  | { status: "used" }
  | { status: "exhausted" }
  | { status: "charged"; codeId: string; attempts: number; maxAttempts: number };

/** The answer of {@link OtpStore.claimChannel}. */
export type ChannelClaim =
  | { status: "claimed"; codeId: string; sealed: string; expiresAt: number }
  | { status: "already_sent"; codeId: string }
  | { status: "none" };

export type RedeemResult =
  | { status: "missing" }
  | { status: "expired" }
  | { status: "used" }
  | { status: "exhausted" }
  | { status: "wrong"; attempts: number; maxAttempts: number }
  | { status: "verified"; codeId: string };

/**
 * What a Redis code store offers the protection layer so that a start or a code exchange, limits
 * included, is one Redis call: its key names, whether it is a cluster (one script per hash slot), and
 * a runner for the steps script (core/protection/redis-steps.ts) with the store's command timeout (a failure is
 * `ERR_STORE_UNAVAILABLE`).
 */
export interface RedisSteps {
  /** The node-redis client (single node or cluster) the store uses. */
  readonly client: unknown;
  readonly keys: RedisKeys;
  readonly cluster: boolean;
  run(steps: Step[], now: number): Promise<StepsReply>;
}
