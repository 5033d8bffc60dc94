import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CLOCK, type Clock, CONFIG, EVENTS, LOGGER, RATE_LIMIT_BACKEND, type RateLimitBackend } from "../di-tokens.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";
import { phoneFacts } from "../phone/phone-facts.js";
import { type CaptchaProvider, verifyCaptcha } from "./captcha-verifier.js";

export type CaptchaPolicy = "off" | "always" | "adaptive";

/** What the hosted page needs to render the vendor's widget. */
export interface CaptchaWidget {
  provider: CaptchaProvider;
  siteKey: string;
  /** reCAPTCHA v3's expected action. */
  action: string;
}

/** The facts of one start that the bot check looks at. */
export interface BotCheckFacts {
  ip?: string;
  phone: string;
  /** The `captcha` field as sent (any JSON type). */
  captcha?: unknown;
}

/** An effectively unlimited point budget: the adaptive limiters only count, they never refuse. */
const UNLIMITED = 2 ** 40;

/**
 * Bot checks on `/passwordless/start`: per client (else `protection.captcha.policy`) `off`, `always`,
 * or `adaptive`. Adaptive counts every start by IP, number prefix and phone country in a sliding
 * window (two fixed buckets, the previous one weighted by how much of it still overlaps the window)
 * kept in the rate-limit backend, so every process on one Redis sees the same counts; a start past a
 * threshold must carry a solved CAPTCHA. The token is verified server-side with the vendor. A vendor
 * outage refuses the start (503) unless `failOpen` is set.
 */
@injectable()
export class BotCheck {
  private readonly counter: RateLimiterAbstract;

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RATE_LIMIT_BACKEND) backend: RateLimitBackend,
    @inject(CLOCK) private readonly now: Clock,
    @inject(EVENTS) private readonly events: TextlockEvents,
  ) {
    const window = config.protection.captcha.adaptive.windowSeconds;
    this.counter = backend.redis
      ? new RateLimiterRedis({
          storeClient: backend.redis,
          useRedisPackage: true,
          keyPrefix: `${config.store.type === "redis" ? config.store.namespace : "textlock"}:rl:captcha`,
          points: UNLIMITED,
          duration: window * 2,
        })
      : new RateLimiterMemory({ keyPrefix: "captcha", points: UNLIMITED, duration: window * 2 });
  }

  /** The client's policy: its own `captcha`, else the global one. */
  policy(client: ClientConfig): CaptchaPolicy {
    return client.captcha ?? this.config.protection.captcha.policy;
  }

  /** The widget to render for a client whose policy is not `off` (the page shows it when the check is due). */
  widget(client: ClientConfig): CaptchaWidget | undefined {
    const { provider, siteKey, action } = this.config.protection.captcha;
    if (this.policy(client) === "off" || !provider || !siteKey) return undefined;
    return { provider, siteKey, action };
  }

  /** Refuses a start that needs a CAPTCHA and lacks a valid one; runs before any code exists. */
  async check(client: ClientConfig, facts: BotCheckFacts): Promise<void> {
    const policy = this.policy(client);
    if (policy === "off") return;
    if (policy === "adaptive" && !(await this.pastThreshold(facts))) return;
    const token = facts.captcha;
    if (token === undefined || token === null || token === "") this.refuse("ERR_CAPTCHA_REQUIRED", "missing");
    if (typeof token !== "string" || token.length > 4096) this.refuse("ERR_CAPTCHA_INVALID", "malformed");
    const verdict = await verifyCaptcha(this.config.protection.captcha, token, facts.ip);
    if (verdict.status === "valid") return;
    if (verdict.status === "invalid") this.refuse("ERR_CAPTCHA_INVALID", verdict.reason);
    this.logger.warn({ reason: verdict.reason }, "captcha verifier unavailable");
    if (this.config.protection.captcha.failOpen) return;
    this.refuse("ERR_CAPTCHA_UNAVAILABLE", verdict.reason);
  }

  /** Counts this start and says whether any of its counts (this start included) passed its threshold. */
  private async pastThreshold(facts: BotCheckFacts): Promise<boolean> {
    const { perIp, perPrefix, perCountry, windowSeconds } = this.config.protection.captcha.adaptive;
    const country = phoneFacts(facts.phone).country;
    const counts: Array<[string | undefined, number]> = [
      [facts.ip && `ip:${facts.ip}`, perIp],
      [`prefix:${facts.phone.slice(0, Math.max(4, facts.phone.length - 4))}`, perPrefix],
      [country && `country:${country}`, perCountry],
    ];
    const windowMs = windowSeconds * 1000;
    const now = this.now();
    const bucket = Math.floor(now / windowMs);
    // Weight of the previous bucket: the share of it still inside the sliding window.
    const overlap = 1 - (now - bucket * windowMs) / windowMs;
    try {
      const results = await Promise.all(
        counts.map(async ([key, threshold]) => {
          if (!key || threshold <= 0) return false;
          const [current, previous] = await Promise.all([
            this.counter.consume(`${key}:${bucket}`, 1),
            this.counter.get(`${key}:${bucket - 1}`),
          ]);
          return current.consumedPoints + (previous?.consumedPoints ?? 0) * overlap > threshold;
        }),
      );
      return results.some(Boolean);
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error)?.message } }, "rate limit store unavailable");
      throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
    }
  }

  private refuse(
    code: "ERR_CAPTCHA_REQUIRED" | "ERR_CAPTCHA_INVALID" | "ERR_CAPTCHA_UNAVAILABLE",
    reason?: string,
  ): never {
    this.logger.info({ code, reason }, "start refused by the bot check");
    this.events.emit("request.refused", { reason: "captcha", endpoint: "/passwordless/start" });
    throw new TextlockError(code);
  }
}
