import parsePhoneNumber from "libphonenumber-js/max";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import {
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  LOGGER,
  METRICS,
  RATE_LIMIT_BACKEND,
  type RateLimitBackend,
} from "../di-tokens.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import { type BudgetLine, type BudgetStore, MemoryBudgetStore, MICRO, RedisBudgetStore, toMicro } from "./budgets.js";
import { DEFAULT_PRICES } from "./default-prices.js";
import {
  MemoryPumpingStore,
  type PumpingParams,
  type PumpingState,
  type PumpingStore,
  type PumpingSubject,
  RedisPumpingStore,
} from "./pumping.js";
import type { RedisEval } from "./redis-eval.js";

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
  refund(): Promise<void>;
}

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
  private readonly pumping: PumpingStore;
  private readonly budgets: BudgetStore;

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RATE_LIMIT_BACKEND) backend: RateLimitBackend,
    @inject(CLOCK) private readonly now: Clock,
    @inject(EVENTS) private readonly events: TextlockEvents,
    @inject(METRICS) private readonly counters: Metrics,
  ) {
    const p = config.protection;
    const redisClient = backend.redis;
    const namespace = config.store.type === "redis" ? config.store.namespace : "textlock";
    this.pumping = redisClient ? new RedisPumpingStore(redisClient as RedisEval, namespace) : new MemoryPumpingStore();
    this.budgets = redisClient ? new RedisBudgetStore(redisClient as RedisEval, namespace) : new MemoryBudgetStore();
    const make = (name: string, points: number, duration: number): RateLimiterAbstract =>
      redisClient
        ? new RateLimiterRedis({
            storeClient: redisClient,
            useRedisPackage: true,
            keyPrefix: `${config.store.type === "redis" ? config.store.namespace : "textlock"}:rl:${name}`,
            points,
            duration,
          })
        : new RateLimiterMemory({ keyPrefix: name, points, duration });
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
    const parsed = parsePhoneNumber(phone);
    const country = parsed?.country;
    if (
      (countries.allow.length && (!country || !countries.allow.includes(country))) ||
      (country && countries.deny.includes(country))
    ) {
      this.refuse("country");
      throw new TextlockError("ERR_PHONE_REFUSED", { description: "The phone number's country is not allowed" });
    }
    const type = parsed?.isValid() ? parsed.getType() : undefined;
    if (type && (refuseLineTypes as readonly string[]).includes(type)) {
      this.refuse("line_type");
      throw new TextlockError("ERR_PHONE_REFUSED", { description: "This type of phone number is not supported" });
    }
  }

  /**
   * Before a send: refuses a quarantined prefix or country, consumes one send from every limit, then
   * reserves the message's price from every money budget; a refused request consumes nothing. The
   * returned refund gives everything back (for a send that never left).
   */
  async reserve(facts: StartFacts): Promise<Reservation> {
    if (!this.config.protection.enabled) return { refund: async () => {} };
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
      refund: async () => {
        await Promise.allSettled([giveBack(), refundBudget()]);
      },
    };
  }

  /** After a message left: counts it towards its prefix's and country's verified ratio (may flag them). */
  async recordSent(phone: string): Promise<void> {
    await this.recordPumping("sent", phone);
  }

  /** After a code was verified: counts it towards its prefix's and country's verified ratio. */
  async recordVerified(phone: string): Promise<void> {
    await this.recordPumping("verified", phone);
  }

  private pumpingSubjects(phone: string): PumpingSubject[] {
    const { minSends } = this.config.protection.pumping;
    const subjects: PumpingSubject[] = [{ scope: "prefix", value: numberPrefix(phone), minSends: minSends.prefix }];
    const country = parsePhoneNumber(phone)?.country;
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
      const subject = subjects[i]!;
      if (state.state === "cleared") {
        const event = { ...subjectFields(subject), ...counts(state.sent, state.verified) };
        this.alert("pumping_cleared");
        this.logger.warn({ event: "pumping.cleared", ...event }, "pumping quarantine cleared");
        this.events.emit("pumping.cleared", event);
      } else if (state.state === "quarantined") until = Math.max(until, state.until);
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
      if (state.state !== "detected") return;
      const event = {
        ...subjectFields(subjects[i]!),
        ...counts(state.sent, state.verified),
        mode: pumping.mode as "enforce" | "monitor",
        until: new Date(state.until).toISOString(),
      };
      this.alert("pumping_detected");
      this.logger.warn({ event: "pumping.detected", ...event }, "SMS pumping detected");
      this.events.emit("pumping.detected", event);
    });
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
    const country = parsePhoneNumber(facts.phone)?.country;
    const lines = this.budgetLines(facts, country);
    const price = this.price(country);
    if (!lines.length || price === 0) return async () => {};
    const day = new Date(this.now()).toISOString().slice(0, 10);
    const { currency, alertAt } = this.config.protection.budgets;
    let result: Awaited<ReturnType<BudgetStore["reserve"]>>;
    try {
      result = await this.budgets.reserve(day, lines, price, alertAt);
    } catch (err) {
      throw this.unavailable(err, "budgets");
    }
    if (!result.ok) throw this.refusal("cost_budget", Date.parse(`${day}T00:00:00Z`) + 86_400_000 - this.now());
    for (const { line, threshold, spent } of result.crossed) {
      const event = {
        scope: line.scope,
        ...(line.scope === "country" ? { country: line.subject } : {}),
        ...(line.scope === "client" ? { client_id: line.subject } : {}),
        threshold,
        spent: spent / MICRO,
        limit: line.limit / MICRO,
        currency,
        day,
      };
      this.alert("budget_threshold");
      this.logger.warn({ event: "budget.threshold", ...event }, "money budget threshold reached");
      this.events.emit("budget.threshold", event);
    }
    return async () => {
      try {
        await this.budgets.refund(day, lines, price);
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error)?.message } }, "budget refund failed");
      }
    };
  }

  /** A counter store that did not answer: counted, logged, and a 503 (fail closed). */
  private unavailable(err: unknown, operation: string): TextlockError {
    this.counters.storeErrors.labels("rate_limits", operation).inc();
    this.logger.warn({ err: { message: (err as Error)?.message }, operation }, "rate limit store unavailable");
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
