import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import {
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  LOGGER,
  METRICS,
  OTP_STORE,
  RATE_LIMIT_BACKEND,
  type RateLimitBackend,
} from "../di-tokens.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { FailureWindow, OtpStore, PendingCode, RedeemResult, RedisSteps } from "../otp/otp-store.js";
import { type RedisKeys, redisKeys } from "../otp/redis-keys.js";
import { phoneFacts } from "../phone/phone-facts.js";
import { type BudgetLine, type BudgetStore, MemoryBudgetStore, MICRO, toMicro } from "./budgets.js";
import { DEFAULT_PRICES } from "./default-prices.js";
import {
  BUCKETS,
  bucketMs,
  MemoryPumpingStore,
  type PumpingParams,
  type PumpingState,
  type PumpingStore,
  type PumpingSubject,
  ttlMs,
} from "./pumping.js";
import type { RedisEval } from "./redis-eval.js";
import { runSteps, type Step, type StepEvent, type StepsReply } from "./redis-steps.js";
import { VerifiedBatch } from "./verified-batch.js";

/** Why a request was refused; each has a counter in {@link Protection.metrics} and `textlock_refusals_total`. */
export const REFUSAL_REASONS = [
  "ip_limit",
  "phone_limit",
  "resend_cooldown",
  "prefix_velocity",
  "daily_budget",
  "pumping",
  "cost_budget",
  "country",
  "line_type",
  "risk",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Changes reported by pumping detection and money budgets; each has a counter in {@link Protection.alerts}. */
export type ProtectionAlert = "pumping_detected" | "pumping_cleared" | "budget_threshold";

/** The send limits of {@link Protection.reserve}; each refusal says which one fired. */
export type LimitReason =
  | "ip_limit"
  | "phone_limit"
  | "resend_cooldown"
  | "prefix_velocity"
  | "daily_budget"
  | "pumping"
  | "cost_budget";

/**
 * The `error_description` of a 429 per limit: stable (clients and support may match on them), naming
 * the limit but never its size or budget. The per-IP one is Auth0's own text. Documented in
 * docs/reference/errors.md and docs/guides/protection.md.
 */
export const RATE_LIMIT_DESCRIPTIONS: Readonly<Record<LimitReason, string>> = {
  ip_limit: "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
  phone_limit: "Too many codes were sent to this phone number. Try again later.",
  resend_cooldown: "A code was just sent to this phone number. Wait a moment before asking for another one.",
  prefix_velocity: "Too many codes were sent to phone numbers like this one. Try again later.",
  daily_budget: "Too many messages were sent today. Try again later.",
  // Generic on purpose: a pumper is not told that its number range was spotted, nor what it cost.
  pumping: "Codes cannot be sent to this phone number right now. Try again later.",
  cost_budget: "Too many messages were sent today. Try again later.",
};

interface Limit {
  reason: LimitReason;
  limiter: RateLimiterAbstract;
  key: (f: StartFacts) => string | undefined;
}

export interface StartFacts {
  ip?: string;
  phone: string;
  connection: string;
  /** The `client_id` the start came through (per-client money budgets). */
  client?: string;
}

/** What a start consumed, so a send that never left can be given back. */
export interface Reservation {
  /** The message left: counts it towards its prefix's and country's verified ratio (unless counted already). */
  sent(): Promise<void>;
  /** No message will be sent (a blocked or unknown number): the quota stays used, the pumping count is taken back. */
  unsent(): Promise<void>;
  /** The send failed: gives everything back. */
  refund(): Promise<void>;
}

/** What {@link Protection.admitStart} needs to admit a start and store its code. */
export interface StartAdmission {
  /** The engine's store key of the phone (`connection:phone`). */
  key: string;
  facts: StartFacts;
  /** The phone's failure ceiling, when the connection has brute-force protection. */
  ceiling?: number;
  /** Count the send against the limits (false for a test number, which is never sent). */
  limits: boolean;
  /** The code to store; absent: admit only (limits of a re-send of a live code already claimed). */
  code?: PendingCode;
  /**
   * A channel switch: claim the live code for this channel (see `OtpStore.claimChannel`) instead of
   * storing `code`, when there is a live code with a sealed copy never sent over it. In the same step.
   */
  claim?: string;
  /** Runs after the limits and before the code is stored (the pre-send risk step); may throw. */
  beforeIssue?: () => Promise<void>;
}

/** A live code claimed for a channel switch instead of storing a new one. */
export interface ClaimedCode {
  codeId: string;
  sealed: string;
  expiresAt: number;
}

export type Admitted = { locked: FailureWindow } | { reservation: Reservation; claimed?: ClaimedCode };

/** What {@link Protection.redeem} needs to redeem a submitted code. */
export interface CodeRedemption {
  key: string;
  phone: string;
  /** The keyed hash of the submitted code. */
  hash: string;
  /** The failure ceiling and window, when the connection has brute-force protection. */
  bruteForce?: { max: number; windowMs: number };
  /**
   * A code the vendor checks (Twilio Verify): replaces the hash comparison (charge, vendor check,
   * consume in the code store); the ceiling, failure window and pumping counts apply as for any code.
   */
  vendor?: () => Promise<RedeemResult>;
}

export type Redeemed = { locked: FailureWindow } | { result: RedeemResult };

const NOTHING_RESERVED: Reservation = { sent: async () => {}, unsent: async () => {}, refund: async () => {} };

/** Where a step's keys live on a cluster: the phone's slot or the slot of the shared counters. */
type Placed = Step & { slot: "phone" | "shared" };

/**
 * Limits on `/passwordless/start` against abuse and SMS pumping: per-IP and per-phone send limits,
 * a resend cooldown, a per-number-prefix velocity limit, a global daily SMS budget, and a phone policy
 * (country allow/deny lists, refusal of premium-rate and other non-mobile line types). Counters live
 * in Redis when the code store does (shared by every process, atomic), else in memory; never a
 * fallback from one to the other. A refusal is `429 too_many_requests` with `Retry-After` and
 * `x-ratelimit-*` headers and the limit's own description (phone policy: `400 bad.phone_number`).
 */
@injectable()
export class Protection {
  private readonly limits: Limit[];
  private readonly refusals = new Map<RefusalReason, number>();
  private readonly alertCounts = new Map<ProtectionAlert, number>();
  private readonly pumping: PumpingStore = new MemoryPumpingStore();
  private readonly budgets: BudgetStore = new MemoryBudgetStore();
  /** Set when limits count in Redis: every start and exchange is then one script per hash slot. */
  private readonly redis?: RedisSteps & { codesHere: boolean };
  /** With limits in Redis: verified codes' pumping counts that do not ride in an exchange's own script. */
  private readonly verifiedBatch?: VerifiedBatch;

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RATE_LIMIT_BACKEND) backend: RateLimitBackend,
    @inject(CLOCK) private readonly now: Clock,
    @inject(EVENTS) private readonly events: TextlockEvents,
    @inject(METRICS) private readonly counters: Metrics,
    @inject(OTP_STORE) private readonly codes: OtpStore,
  ) {
    const p = config.protection;
    if (backend.redis) {
      const steps = codes.redisSteps;
      this.redis =
        steps && steps.client === backend.redis
          ? { ...stepsOf(steps), codesHere: true }
          : { ...clientSteps(backend.redis as RedisEval, config), codesHere: false };
      const redis = this.redis;
      this.verifiedBatch = new VerifiedBatch({
        run: (batch, now) => redis.run(batch, now),
        onError: (err) =>
          this.logger.warn({ err: { message: (err as Error)?.message } }, "pumping counters unavailable"),
      });
    }
    const make = (name: string, points: number, duration: number): RateLimiterAbstract =>
      new RateLimiterMemory({ keyPrefix: name, points, duration });
    const day = () => new Date(this.now()).toISOString().slice(0, 10);
    this.limits = [
      { reason: "ip_limit", limiter: make("ip", p.perIp.points, p.perIp.seconds), key: (f) => f.ip },
      {
        reason: "resend_cooldown",
        limiter: make("cooldown", 1, p.resendCooldownSeconds),
        key: (f) => (p.resendCooldownSeconds > 0 ? `${f.connection}:${f.phone}` : undefined),
      },
      {
        reason: "phone_limit",
        limiter: make("phone", p.perPhone.points, p.perPhone.seconds),
        key: (f) => `${f.connection}:${f.phone}`,
      },
      {
        reason: "prefix_velocity",
        limiter: make("prefix", p.perPrefix.points, p.perPrefix.seconds),
        key: (f) => numberPrefix(f.phone),
      },
      { reason: "daily_budget", limiter: make("budget", p.dailySmsBudget, 86_400), key: () => `day:${day()}` },
    ];
  }

  /**
   * Admits a start and stores its code, in this order: the phone's failure ceiling (answered as
   * `locked`), pumping quarantine, every send limit, the money budgets, the `beforeIssue` step, the
   * code. A refusal is thrown (429 with the limit's description, 503 when the counters are
   * unreachable) and consumes nothing. On Redis all of it is one script, so one round trip (two when
   * `beforeIssue` is given, as the code is stored only after it; on a cluster, one script per slot:
   * the shared counters first, then the phone's, the shared ones given back if the phone's refuse).
   * With `claim` (a channel switch) the same step claims the live code for the channel instead of
   * storing `code` when it can (answered as `claimed`); without `code` nothing is stored (the limits of
   * a re-send of a code claimed before).
   */
  async admitStart(a: StartAdmission): Promise<Admitted> {
    return this.redis ? this.admitInRedis(a, this.redis) : this.admitInMemory(a);
  }

  /**
   * Redeems a submitted code (count, compare, consume) after the failure ceiling, and then clears
   * the phone's failure window and counts a verified code for pumping, or counts a failure (not for a
   * double submission of the right code). On Redis one script (two on a cluster with pumping on).
   */
  async redeem(r: CodeRedemption): Promise<Redeemed> {
    const now = this.now();
    // A vendor-checked code is several steps (charge, the vendor, consume), so not one script.
    const redis = this.redis?.codesHere && !r.vendor ? this.redis : undefined;
    if (!redis) {
      if (r.bruteForce) {
        const window = await this.codes.failureWindow(r.key, now);
        if (window.count >= r.bruteForce.max) return { locked: window };
      }
      const result = r.vendor ? await r.vendor() : await this.codes.redeem(r.key, r.hash, now);
      if (result.status === "verified") {
        await this.codes.clearFailures(r.key);
        if (this.redis && this.pumpingCounts()) {
          // Pumping counts in Redis (shared by every process), never in this process's memory.
          this.verifiedBatch!.add(this.pumpingStep("pver", r.phone), now);
        } else await this.recordVerified(r.phone);
      } else if (result.status !== "used" && r.bruteForce) {
        await this.codes.recordFailure(r.key, r.bruteForce.windowMs, now);
      }
      return { result };
    }
    const k = redis.keys;
    const phoneSteps: Step[] = [];
    if (r.bruteForce) phoneSteps.push({ name: "ceil", keys: [k.fail(r.key)], args: [r.bruteForce.max] });
    phoneSteps.push({
      name: "redeem",
      keys: [k.code(r.key), k.fail(r.key)],
      args: [r.hash, r.bruteForce ? 1 : 0, r.bruteForce?.windowMs ?? 0],
    });
    const pver = this.pumpingCounts() ? this.pumpingStep("pver", r.phone) : undefined;
    let reply: StepsReply;
    try {
      reply = await redis.run(redis.cluster || !pver ? phoneSteps : [...phoneSteps, pver], now);
    } catch (err) {
      throw this.unavailable(err, "redeem", "codes");
    }
    if (reply.status === "locked") return { locked: { count: r.bruteForce?.max ?? 0, resetAt: reply.resetAt } };
    if (reply.status !== "ok") throw new TextlockError("ERR_STORE_UNAVAILABLE");
    const result = redeemResult(reply.redeem);
    // Another slot: sent with other exchanges' counts, never failing one that already consumed its code.
    if (redis.cluster && pver && result.status === "verified") this.verifiedBatch!.add(pver, now);
    return { result };
  }

  /** Sends the verified codes' pumping counts still waiting for their batch (at shutdown). */
  async close(): Promise<void> {
    await this.verifiedBatch?.flush();
  }

  /** Refusal counts by reason (the Prometheus counter is `textlock_refusals_total`, core/metrics/metrics.ts). */
  metrics(): Record<RefusalReason, number> {
    const out = {} as Record<RefusalReason, number>;
    for (const r of REFUSAL_REASONS) out[r] = this.refusals.get(r) ?? 0;
    return out;
  }

  /** Pumping detections and clearances, and budget thresholds crossed, reported by this process. */
  alerts(): Record<ProtectionAlert, number> {
    return {
      pumping_detected: this.alertCounts.get("pumping_detected") ?? 0,
      pumping_cleared: this.alertCounts.get("pumping_cleared") ?? 0,
      budget_threshold: this.alertCounts.get("budget_threshold") ?? 0,
    };
  }

  /** Phone policy: country lists and line types (premium-rate, toll-free, VoIP… are refused by default). */
  checkPhone(phone: string): void {
    const { countries, refuseLineTypes } = this.config.protection;
    const { country, lineType } = phoneFacts(phone);
    if (
      (countries.allow.length && (!country || !countries.allow.includes(country))) ||
      (country && countries.deny.includes(country))
    ) {
      this.refuse("country");
      throw new TextlockError("ERR_PHONE_REFUSED", { description: "The phone number's country is not allowed" });
    }
    if (lineType && (refuseLineTypes as readonly string[]).includes(lineType)) {
      this.refuse("line_type");
      throw new TextlockError("ERR_PHONE_REFUSED", { description: "This type of phone number is not supported" });
    }
  }

  private async admitInMemory(a: StartAdmission): Promise<Admitted> {
    if (a.ceiling !== undefined) {
      const window = await this.codes.failureWindow(a.key, this.now());
      if (window.count >= a.ceiling) return { locked: window };
    }
    const reservation = a.limits ? await this.reserveInMemory(a.facts) : NOTHING_RESERVED;
    // A refusal of the risk step keeps the quota used (a flood cannot run up billed lookups).
    await a.beforeIssue?.();
    try {
      return { reservation, ...(await this.claimOrIssue(a)) };
    } catch (err) {
      await reservation.refund();
      throw err;
    }
  }

  /** Outside the steps script: claims the live code for a switch, else stores the new code. */
  private async claimOrIssue(a: StartAdmission): Promise<{ claimed?: ClaimedCode }> {
    if (a.claim) {
      const claim = await this.codes.claimChannel(a.key, a.claim, this.now());
      if (claim.status === "claimed") {
        return { claimed: { codeId: claim.codeId, sealed: claim.sealed, expiresAt: claim.expiresAt } };
      }
    }
    if (a.code) await this.codes.issue(a.key, a.code);
    return {};
  }

  /**
   * Before a send (memory counters): refuses a quarantined prefix or country, consumes one send from
   * every limit, then reserves the message's price from every money budget; a refused request
   * consumes nothing. The returned refund gives everything back (for a send that never left).
   */
  private async reserveInMemory(facts: StartFacts): Promise<Reservation> {
    if (!this.config.protection.enabled) return NOTHING_RESERVED;
    await this.checkPumping(facts.phone);
    const taken: Array<{ limiter: RateLimiterAbstract; key: string }> = [];
    const giveBack = async () => {
      await Promise.allSettled(taken.map(({ limiter, key }) => limiter.reward(key, 1)));
    };
    for (const limit of this.limits) {
      const key = limit.key(facts);
      if (!key) continue;
      try {
        await limit.limiter.consume(key, 1);
        taken.push({ limiter: limit.limiter, key });
      } catch (err) {
        await giveBack();
        if (!(err instanceof RateLimiterRes)) throw this.unavailable(err, limit.reason);
        // The sizes of the global budget and of the range-walk limit stay unsaid: they would tell a pumper
        // how much is left to take.
        const shown =
          limit.reason === "daily_budget" || limit.reason === "prefix_velocity" ? undefined : limit.limiter.points;
        throw this.refusal(limit.reason, err.msBeforeNext, shown);
      }
    }
    let refundBudget: () => Promise<void>;
    try {
      refundBudget = await this.reserveBudget(facts);
    } catch (err) {
      await giveBack();
      throw err;
    }
    return {
      sent: () => this.recordSent(facts.phone),
      unsent: async () => {},
      refund: async () => {
        await Promise.allSettled([giveBack(), refundBudget()]);
      },
    };
  }

  private async admitInRedis(a: StartAdmission, redis: RedisSteps & { codesHere: boolean }): Promise<Admitted> {
    const now = this.now();
    const k = redis.keys;
    const p = this.config.protection;
    const { facts } = a;
    const phoneKey = `${facts.connection}:${facts.phone}`;
    const steps: Placed[] = [];
    if (a.ceiling !== undefined) {
      if (redis.codesHere) steps.push({ slot: "phone", name: "ceil", keys: [k.fail(a.key)], args: [a.ceiling] });
      else {
        const window = await this.codes.failureWindow(a.key, now);
        if (window.count >= a.ceiling) return { locked: window };
      }
    }
    const limited = a.limits && p.enabled;
    let budget: BudgetPlan | undefined;
    if (limited) {
      const pumping = p.pumping.mode !== "off";
      if (pumping) {
        const subjects = this.pumpingSubjects(facts.phone);
        const params = this.pumpingParams();
        steps.push({
          slot: "shared",
          name: "pump",
          keys: subjects.map((s) => k.shared(`pump:${s.scope}:${s.value}`)),
          args: [...pumpingArgs(params), p.pumping.mode === "enforce" ? 1 : 0, ...subjects.map((s) => s.minSends)],
        });
      }
      const lim = (slot: Placed["slot"], reason: LimitReason, key: string, points: number, seconds: number) =>
        steps.push({
          slot,
          name: "lim",
          keys: [key],
          // The sizes of the global budget and of the range-walk limit stay unsaid: they would tell a
          // pumper how much is left to take.
          args: [
            reason,
            points,
            seconds * 1000,
            reason === "daily_budget" || reason === "prefix_velocity" ? "" : points,
          ],
        });
      if (facts.ip) lim("shared", "ip_limit", k.shared(`rl:ip:${facts.ip}`), p.perIp.points, p.perIp.seconds);
      if (p.resendCooldownSeconds > 0)
        lim("phone", "resend_cooldown", k.phoneLimit("cooldown", phoneKey), 1, p.resendCooldownSeconds);
      lim("phone", "phone_limit", k.phoneLimit("phone", phoneKey), p.perPhone.points, p.perPhone.seconds);
      lim(
        "shared",
        "prefix_velocity",
        k.shared(`rl:prefix:${numberPrefix(facts.phone)}`),
        p.perPrefix.points,
        p.perPrefix.seconds,
      );
      const day = new Date(now).toISOString().slice(0, 10);
      lim("shared", "daily_budget", k.shared(`rl:budget:day:${day}`), p.dailySmsBudget, 86_400);
      budget = this.budgetPlan(facts, day);
      if (budget) {
        steps.push({
          slot: "shared",
          name: "bud",
          keys: budget.keys,
          args: [
            budget.price,
            2 * 86_400_000,
            budget.alertAt.length,
            ...budget.alertAt,
            ...budget.lines.map((l) => l.limit),
          ],
        });
      }
      if (pumping) steps.push({ slot: "shared", ...this.pumpingStep("psent", facts.phone) });
    }
    const issue: Placed | undefined =
      redis.codesHere && a.code
        ? {
            slot: "phone",
            name: "issue",
            keys: [k.code(a.key)],
            args: [
              a.code.codeId,
              a.code.hash,
              a.code.expiresAt,
              a.code.maxAttempts,
              a.code.sealed ?? "",
              a.code.channel ?? a.claim ?? "",
              a.claim ? 1 : 0,
            ],
          }
        : undefined;
    let claimed: ClaimedCode | undefined;
    const claimedBy = (reply: StepsReply) => {
      if (reply.status !== "ok" || reply.redeem[0] !== "claimed") return;
      const [, codeId, sealed, expiresAt] = reply.redeem;
      claimed = { codeId: codeId!, sealed: sealed!, expiresAt: Number(expiresAt) };
    };
    const issueNow = issue && !a.beforeIssue;
    const groups: Placed[][] = redis.cluster
      ? [
          steps.filter((s) => s.slot === "shared"),
          [...steps.filter((s) => s.slot === "phone"), ...(issueNow ? [issue] : [])],
        ]
      : [[...steps, ...(issueNow ? [issue] : [])]];
    // What the committed groups took, to give back if a later group refuses or the send fails.
    // One list per group: on a cluster each group is its own slot, so each is given back by its own script.
    const giveBack: Step[][] = [];
    const refund = async () => {
      for (const steps of giveBack.splice(0)) {
        if (!steps.length) continue;
        await this.runIn(redis, steps, this.now()).catch((err: unknown) => {
          this.logger.warn({ err: { message: (err as Error)?.message } }, "send limits could not be given back");
        });
      }
    };
    for (const group of groups) {
      if (!group.length) continue;
      let reply: StepsReply;
      try {
        reply = await this.runIn(redis, group, now);
      } catch (err) {
        await refund();
        throw this.unavailable(err, "start", redis.codesHere ? "codes" : "rate_limits");
      }
      this.report(reply.events, facts, budget);
      if (reply.status === "locked") {
        await refund();
        return { locked: { count: a.ceiling ?? 0, resetAt: reply.resetAt } };
      }
      if (reply.status === "refused") {
        await refund();
        const reason = reply.reason as LimitReason;
        const ms =
          reason === "cost_budget" && budget
            ? Date.parse(`${budget.day}T00:00:00Z`) + 86_400_000 - now
            : reply.msBeforeNext;
        throw this.refusal(reason, ms, reply.shownPoints);
      }
      claimedBy(reply);
      giveBack.push(group.flatMap((s) => undo(s, now, budget)));
    }
    const unsent = async () => {
      const taken = giveBack.flat().filter((s) => s.name === "unsent");
      if (taken.length) await this.runIn(redis, taken, this.now()).catch(() => {});
    };
    if (a.beforeIssue) {
      try {
        await a.beforeIssue();
      } catch (err) {
        // A refusal of the risk step keeps the quota used; nothing is sent, so the pumping count is taken back.
        await unsent();
        throw err;
      }
    }
    if (issue && !issueNow) {
      try {
        claimedBy(await this.runIn(redis, [issue], now));
      } catch (err) {
        await refund();
        throw this.unavailable(err, "start", "codes");
      }
    }
    if (!redis.codesHere && a.code) {
      try {
        claimed = (await this.claimOrIssue(a)).claimed;
      } catch (err) {
        await refund();
        throw err;
      }
    }
    return { reservation: { sent: async () => {}, unsent, refund }, ...(claimed ? { claimed } : {}) };
  }

  /** Runs steps on the code store's Redis; on a cluster the steps given must share a slot. */
  private runIn(redis: RedisSteps, steps: Step[], now: number): Promise<StepsReply> {
    return redis.run(
      steps.map(({ name, keys, args }) => ({ name, keys, args })),
      now,
    );
  }

  /** Alerts and events for what a script reported: pumping cleared or detected, budget thresholds crossed. */
  private report(events: StepEvent[], facts: StartFacts, budget: BudgetPlan | undefined): void {
    if (!events.length) return;
    const subjects = this.pumpingSubjects(facts.phone);
    const { mode } = this.config.protection.pumping;
    for (const e of events) {
      if (e.kind === "cleared") this.reportCleared(subjects[e.index - 1]!, e.sent, e.verified);
      else if (e.kind === "detected")
        this.reportDetected(subjects[e.index - 1]!, mode as "enforce" | "monitor", e.until, e.sent, e.verified);
      else if (budget) {
        this.reportThreshold(budget.lines[e.line - 1]!, budget.alertAt[e.threshold - 1]!, e.spent, budget.day);
      }
    }
  }

  /** Pumping on and protection on: sends and verified codes are counted. */
  private pumpingCounts(): boolean {
    const { enabled, pumping } = this.config.protection;
    return enabled && pumping.mode !== "off";
  }

  /** A pumping counting step (`psent`, `pver`) for a phone's prefix and country. */
  private pumpingStep(name: "psent" | "pver", phone: string): Step {
    const subjects = this.pumpingSubjects(phone);
    const params = this.pumpingParams();
    const keys = subjects.map((s) => this.redis!.keys.shared(`pump:${s.scope}:${s.value}`));
    if (name === "pver") return { name, keys, args: [bucketMs(params), ttlMs(params)] };
    return { name, keys, args: [...pumpingArgs(params), ...subjects.map((s) => s.minSends)] };
  }

  /** The money budgets of a send, its price and alert thresholds; undefined when none applies. */
  private budgetPlan(facts: StartFacts, day: string): BudgetPlan | undefined {
    const country = phoneFacts(facts.phone).country;
    const lines = this.budgetLines(facts, country);
    const price = this.price(country);
    if (!lines.length || price === 0) return undefined;
    const keys = lines.map((l) =>
      this.redis!.keys.shared(`budget:${day}:${l.subject === undefined ? l.scope : `${l.scope}:${l.subject}`}`),
    );
    return { day, lines, price, keys, alertAt: this.config.protection.budgets.alertAt };
  }

  /** After a message left: counts it towards its prefix's and country's verified ratio (may flag them). */
  private async recordSent(phone: string): Promise<void> {
    await this.recordPumping("sent", phone);
  }

  /** After a code was verified: counts it towards its prefix's and country's verified ratio. */
  private async recordVerified(phone: string): Promise<void> {
    await this.recordPumping("verified", phone);
  }

  private pumpingSubjects(phone: string): PumpingSubject[] {
    const { minSends } = this.config.protection.pumping;
    const subjects: PumpingSubject[] = [{ scope: "prefix", value: numberPrefix(phone), minSends: minSends.prefix }];
    const country = phoneFacts(phone).country;
    if (country) subjects.push({ scope: "country", value: country, minSends: minSends.country });
    return subjects;
  }

  private pumpingParams(): PumpingParams {
    const p = this.config.protection.pumping;
    return {
      windowMs: p.windowSeconds * 1000,
      minVerifiedRatio: p.minVerifiedRatio,
      quarantineMs: p.quarantineSeconds * 1000,
    };
  }

  /** Refuses a start to a quarantined prefix or country (`enforce`), reporting quarantines that ended. */
  private async checkPumping(phone: string): Promise<void> {
    const { mode } = this.config.protection.pumping;
    if (mode === "off") return;
    const subjects = this.pumpingSubjects(phone);
    let states: PumpingState[];
    try {
      states = await this.pumping.check(subjects, this.now(), this.pumpingParams());
    } catch (err) {
      throw this.unavailable(err, "pumping");
    }
    let until = 0;
    states.forEach((state, i) => {
      if (state.state === "cleared") this.reportCleared(subjects[i]!, state.sent, state.verified);
      else if (state.state === "quarantined") until = Math.max(until, state.until);
    });
    if (until && mode === "enforce") throw this.refusal("pumping", until - this.now());
  }

  private async recordPumping(kind: "sent" | "verified", phone: string): Promise<void> {
    const { enabled, pumping } = this.config.protection;
    if (!enabled || pumping.mode === "off") return;
    const subjects = this.pumpingSubjects(phone);
    let states: PumpingState[];
    try {
      states = await this.pumping.record(kind, subjects, this.now(), this.pumpingParams());
    } catch (err) {
      // The message already left (or the code was already redeemed): report, do not fail the request.
      this.logger.warn({ err: { message: (err as Error)?.message } }, "pumping counters unavailable");
      return;
    }
    states.forEach((state, i) => {
      if (state.state === "detected")
        this.reportDetected(
          subjects[i]!,
          pumping.mode as "enforce" | "monitor",
          state.until,
          state.sent,
          state.verified,
        );
    });
  }

  private reportCleared(subject: PumpingSubject, sent: number, verified: number): void {
    const event = { ...subjectFields(subject), ...counts(sent, verified) };
    this.alert("pumping_cleared");
    this.logger.warn({ event: "pumping.cleared", ...event }, "pumping quarantine cleared");
    this.events.emit("pumping.cleared", event);
  }

  private reportDetected(
    subject: PumpingSubject,
    mode: "enforce" | "monitor",
    until: number,
    sent: number,
    verified: number,
  ): void {
    const event = { ...subjectFields(subject), ...counts(sent, verified), mode, until: new Date(until).toISOString() };
    this.alert("pumping_detected");
    this.logger.warn({ event: "pumping.detected", ...event }, "SMS pumping detected");
    this.events.emit("pumping.detected", event);
  }

  private reportThreshold(line: BudgetLine, threshold: number, spent: number, day: string): void {
    const event = {
      scope: line.scope,
      ...(line.scope === "country" ? { country: line.subject } : {}),
      ...(line.scope === "client" ? { client_id: line.subject } : {}),
      threshold,
      spent: spent / MICRO,
      limit: line.limit / MICRO,
      currency: this.config.protection.budgets.currency,
      day,
    };
    this.alert("budget_threshold");
    this.logger.warn({ event: "budget.threshold", ...event }, "money budget threshold reached");
    this.events.emit("budget.threshold", event);
  }

  /** The money budgets a send to `facts` is charged to, with their caps in micro-units. */
  private budgetLines(facts: StartFacts, country: string | undefined): BudgetLine[] {
    const b = this.config.protection.budgets;
    const lines: BudgetLine[] = [];
    if (b.daily !== undefined) lines.push({ scope: "total", limit: toMicro(b.daily) });
    const countryCap = country ? (b.perCountryDaily[country] ?? b.perCountryDaily["*"]) : b.perCountryDaily["*"];
    if (countryCap !== undefined)
      lines.push({ scope: "country", subject: country ?? "ZZ", limit: toMicro(countryCap) });
    const clientCap = facts.client ? (b.perClientDaily[facts.client] ?? b.perClientDaily["*"]) : undefined;
    if (clientCap !== undefined) lines.push({ scope: "client", subject: facts.client, limit: toMicro(clientCap) });
    return lines;
  }

  /** Price of one message to `country` in micro-units: the operator's table, the example table, the default. */
  private price(country: string | undefined): number {
    const b = this.config.protection.budgets;
    // The example table is in USD: never mix it into another currency (the schema then requires defaultPrice).
    const example = b.currency === DEFAULT_PRICES.currency ? DEFAULT_PRICES : undefined;
    const listed = country ? (b.prices[country] ?? example?.countries[country]) : undefined;
    return toMicro(listed ?? b.defaultPrice ?? DEFAULT_PRICES.default);
  }

  private async reserveBudget(facts: StartFacts): Promise<() => Promise<void>> {
    const country = phoneFacts(facts.phone).country;
    const lines = this.budgetLines(facts, country);
    const price = this.price(country);
    if (!lines.length || price === 0) return async () => {};
    const day = new Date(this.now()).toISOString().slice(0, 10);
    const { alertAt } = this.config.protection.budgets;
    let result: Awaited<ReturnType<BudgetStore["reserve"]>>;
    try {
      result = await this.budgets.reserve(day, lines, price, alertAt);
    } catch (err) {
      throw this.unavailable(err, "budgets");
    }
    if (!result.ok) throw this.refusal("cost_budget", Date.parse(`${day}T00:00:00Z`) + 86_400_000 - this.now());
    for (const { line, threshold, spent } of result.crossed) this.reportThreshold(line, threshold, spent, day);
    return async () => {
      try {
        await this.budgets.refund(day, lines, price);
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error)?.message } }, "budget refund failed");
      }
    };
  }

  /** A counter store that did not answer: counted, logged, and a 503 (fail closed). */
  private unavailable(err: unknown, operation: string, store: "rate_limits" | "codes" = "rate_limits"): TextlockError {
    this.counters.storeErrors.labels(store, operation).inc();
    this.logger.warn({ err: { message: (err as Error)?.message }, store, operation }, "counter store unavailable");
    return new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
  }

  /** The 429 of a send limit: its own description, `Retry-After`, and `x-ratelimit-*` headers. */
  private refusal(reason: LimitReason, msBeforeNext: number, points?: number): TextlockError {
    this.refuse(reason);
    const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new TextlockError("ERR_RATE_LIMITED", {
      description: RATE_LIMIT_DESCRIPTIONS[reason],
      headers: {
        "retry-after": String(retryAfter),
        ...(points === undefined ? {} : { "x-ratelimit-limit": String(points) }),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.ceil((this.now() + msBeforeNext) / 1000)),
      },
    });
  }

  private alert(kind: ProtectionAlert): void {
    this.alertCounts.set(kind, (this.alertCounts.get(kind) ?? 0) + 1);
  }

  /** Counts a refusal, logs it and emits `request.refused` (the pre-send risk step counts its own here too). */
  refuse(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    this.logger.info({ reason }, "request refused by protection");
    this.events.emit("request.refused", { reason, endpoint: "/passwordless/start" });
  }
}

/** The number without its last 4 digits: pumping walks ranges of numbers that share it. */
export const numberPrefix = (phone: string) => phone.slice(0, Math.max(4, phone.length - 4));

const subjectFields = (s: PumpingSubject) =>
  s.scope === "prefix" ? { scope: s.scope, prefix: s.value } : { scope: s.scope, country: s.value };

const counts = (sent: number, verified: number) => ({
  ratio: sent ? Math.round((verified / sent) * 1000) / 1000 : 0,
  sent,
  verified,
});

/** A start's money budgets in Redis: its lines, their keys, the price and the alert thresholds. */
interface BudgetPlan {
  day: string;
  lines: BudgetLine[];
  keys: string[];
  price: number;
  alertAt: readonly number[];
}

const pumpingArgs = (p: PumpingParams) => [bucketMs(p), BUCKETS, p.minVerifiedRatio, p.quarantineMs, ttlMs(p)];

/** The steps that give back what a committed step took (limits, budgets, a counted send). */
function undo(step: Step, now: number, budget: BudgetPlan | undefined): Step[] {
  if (step.name === "lim") return [{ name: "unlim", keys: step.keys, args: [] }];
  if (step.name === "bud" && budget) return [{ name: "unbud", keys: step.keys, args: [budget.price] }];
  if (step.name === "psent") {
    return [{ name: "unsent", keys: step.keys, args: [Math.floor(now / Number(step.args[0]))] }];
  }
  return [];
}

/** A code store's steps runner as it is (its timeout, its key names). */
const stepsOf = (steps: RedisSteps): RedisSteps => ({
  client: steps.client,
  keys: steps.keys,
  cluster: steps.cluster,
  run: (s, now) => steps.run(s, now),
});

/** Steps on a Redis client given without a Redis code store (a host's override): limits only. */
function clientSteps(client: RedisEval, config: TextlockConfig): RedisSteps {
  const namespace = config.store.type === "redis" ? config.store.namespace : "textlock";
  const keys: RedisKeys = redisKeys(namespace);
  return { client, keys, cluster: false, run: (steps, now) => runSteps(client, now, steps) };
}

function redeemResult([status, a, b]: string[]): RedeemResult {
  if (status === "verified") return { status, codeId: a! };
  if (status === "wrong") return { status, attempts: Number(a), maxAttempts: Number(b) };
  if (status === "missing" || status === "expired" || status === "exhausted" || status === "used") return { status };
  throw new TextlockError("ERR_STORE_UNAVAILABLE", { description: "unexpected reply from the code store" });
}
