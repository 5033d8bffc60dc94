import parsePhoneNumber from "libphonenumber-js/max";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CLOCK, type Clock, CONFIG, EVENTS, LOGGER, RATE_LIMIT_BACKEND, type RateLimitBackend } from "../di-tokens.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";

/** Why a request was refused; each has a counter in {@link Protection.metrics}. */
export type RefusalReason =
  | "ip_limit"
  | "phone_limit"
  | "resend_cooldown"
  | "prefix_velocity"
  | "daily_budget"
  | "country"
  | "line_type"
  | "risk";

/** The send limits of {@link Protection.reserve}; each refusal says which one fired. */
export type LimitReason = "ip_limit" | "phone_limit" | "resend_cooldown" | "prefix_velocity" | "daily_budget";

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

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RATE_LIMIT_BACKEND) backend: RateLimitBackend,
    @inject(CLOCK) private readonly now: Clock,
    @inject(EVENTS) private readonly events: TextlockEvents,
  ) {
    const p = config.protection;
    const redisClient = backend.redis;
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
    const prefix = (phone: string) => phone.slice(0, Math.max(4, phone.length - 4));
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
        key: (f) => prefix(f.phone),
      },
      { reason: "daily_budget", limiter: make("budget", p.dailySmsBudget, 86_400), key: () => `day:${day()}` },
    ];
  }

  /** Refusal counts by reason (for metrics and alerts on SMS pumping). */
  metrics(): Record<RefusalReason, number> {
    const out = {} as Record<RefusalReason, number>;
    for (const r of [
      "ip_limit",
      "phone_limit",
      "resend_cooldown",
      "prefix_velocity",
      "daily_budget",
      "country",
      "line_type",
      "risk",
    ] as const)
      out[r] = this.refusals.get(r) ?? 0;
    return out;
  }

  /** The same counters in Prometheus text format. */
  prometheus(): string {
    const lines = [
      "# HELP textlock_refusals_total Requests refused by protection, by reason.",
      "# TYPE textlock_refusals_total counter",
    ];
    for (const [reason, n] of Object.entries(this.metrics()))
      lines.push(`textlock_refusals_total{reason="${reason}"} ${n}`);
    return `${lines.join("\n")}\n`;
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

  /** Consumes one send from every limit, or refuses with 429; a refused request consumes nothing. */
  async reserve(facts: StartFacts): Promise<Reservation> {
    if (!this.config.protection.enabled) return { refund: async () => {} };
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
        if (!(err instanceof RateLimiterRes)) {
          this.logger.warn({ err: { message: (err as Error)?.message } }, "rate limit store unavailable");
          throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
        }
        this.refuse(limit.reason);
        const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new TextlockError("ERR_RATE_LIMITED", {
          description: RATE_LIMIT_DESCRIPTIONS[limit.reason],
          headers: {
            "retry-after": String(retryAfter),
            "x-ratelimit-limit": String(limit.limiter.points),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(Math.ceil((this.now() + err.msBeforeNext) / 1000)),
          },
        });
      }
    }
    return { refund: giveBack };
  }

  /** Counts a refusal, logs it and emits `request.refused` (the pre-send risk step counts its own here too). */
  refuse(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    this.logger.info({ reason }, "request refused by protection");
    this.events.emit("request.refused", { reason, endpoint: "/passwordless/start" });
  }
}
