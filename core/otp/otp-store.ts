/**
 * Storage for pending codes and per-phone failure counters.
 *
 * Every method is one atomic step **across all processes sharing the store**. Verification is
 * "count, then compare, then consume": {@link OtpStore.attempt} charges an attempt before the caller
 * compares hashes, and {@link OtpStore.consume} lets exactly one caller win a code. Implementations
 * must keep these guarantees under concurrency: the memory store runs each step as a synchronous
 * critical section, the Redis store as one Lua script.
 *
 * Keys are opaque strings built by the engine (connection + phone); stores never parse them.
 * When the backing service is unreachable, methods throw `TextlockError("ERR_STORE_UNAVAILABLE")`
 * within a bounded time rather than hang or fall back.
 */
export interface OtpStore {
  /** Stores a new code for `key`, replacing any earlier one (only the last code is valid). */
  issue(key: string, code: PendingCode): Promise<void>;

  /**
   * Charges one attempt against the current code and returns what the caller needs to compare.
   * - `missing`: no code (never issued, consumed, superseded by nothing, or expired and swept);
   * - `expired`: a code exists but its time is up (it is removed);
   * - `exhausted`: this attempt is past `maxAttempts`; the dead code is kept until it expires or is
   *   replaced, so every later attempt is `exhausted` too (it can never be consumed);
   * - `ok`: the attempt was counted; compare `hash` and, on a match, call {@link consume}.
   */
  attempt(key: string, now: number): Promise<AttemptResult>;

  /** Removes the code if it is still the one with `codeId`; true for exactly one caller. */
  consume(key: string, codeId: string): Promise<boolean>;

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
  /** HMAC-SHA-256 of (connection, phone, code), base64url. */
  hash: string;
  /** Epoch ms after which the code is invalid. */
  expiresAt: number;
  /** Wrong attempts allowed before the code dies. */
  maxAttempts: number;
}

export type AttemptResult =
  | { status: "missing" }
  | { status: "expired" }
  | { status: "exhausted" }
  | { status: "ok"; codeId: string; hash: string; attempts: number; maxAttempts: number };
