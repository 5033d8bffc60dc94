import type { Registry } from "prom-client";
import type { InjectionToken } from "tsyringe";
import type { AuditLog } from "./audit/audit-log.js";
import type { AuditStore } from "./audit/audit-store.js";
import type { OneTimeStore } from "./browser/one-time-store.js";
import type { TextlockConfig } from "./config/schema.js";
import type { DeliveryStore } from "./delivery/delivery-store.js";
import type { TextlockEvents } from "./events/events.js";
import type { HookRunner } from "./hooks/hook-runner.js";
import type { Logger } from "./logger.js";
import type { MessageRenderer } from "./messages/render-message.js";
import type { Metrics } from "./metrics/metrics.js";
import type { OtpStore } from "./otp/otp-store.js";
import type { BotCheck } from "./protection/bot-check.js";
import type { Protection } from "./protection/protection.js";
import type { ProviderDescriptor } from "./providers/provider-descriptor.js";
import type { ProviderRegistry } from "./providers/provider-registry.js";
import type { PreSendRisk } from "./risk/pre-send-risk.js";
import type { RiskChecker, RiskPlugins } from "./risk/risk-checker.js";
import type { SessionStore } from "./sessions/session-store.js";
import type { RefreshTokenStore } from "./tokens/refresh-token-store.js";
import type { SigningKeys } from "./tokens/signing-keys.js";
import type { GrantHandler } from "./tokens/token-endpoint.js";
import type { TokenService } from "./tokens/token-service.js";
import type { UserStore } from "./users/user-store.js";

/**
 * Dependency-injection tokens of the composition root (core/container/compose.ts). Every part is
 * registered once under one of these; every constructor parameter is `@inject(TOKEN)` (no emitted
 * metadata is relied on). A host overrides a part by providing its token before composition.
 */
export const CONFIG: InjectionToken<TextlockConfig> = Symbol.for("textlock.config");
/** The server secret that keys code hashes (Buffer). */
export const SECRET: InjectionToken<Buffer> = Symbol.for("textlock.secret");
export const LOGGER: InjectionToken<Logger> = Symbol.for("textlock.logger");
export const EVENTS: InjectionToken<TextlockEvents> = Symbol.for("textlock.events");
/** `() => number` epoch ms; tests swap it to move time. */
export const CLOCK: InjectionToken<Clock> = Symbol.for("textlock.clock");
/** Environment for production-safety checks (default `process.env`). */
export const ENV: InjectionToken<NodeJS.ProcessEnv> = Symbol.for("textlock.env");

// The store set (core/container/store-set.ts chooses every one of them in one place).
export const OTP_STORE: InjectionToken<OtpStore> = Symbol.for("textlock.otp-store");
export const USER_STORE: InjectionToken<UserStore> = Symbol.for("textlock.user-store");
export const REFRESH_TOKEN_STORE: InjectionToken<RefreshTokenStore> = Symbol.for("textlock.refresh-token-store");
/** Authorization codes and login tickets of the browser flow. */
export const ONE_TIME_STORE: InjectionToken<OneTimeStore> = Symbol.for("textlock.one-time-store");
/** Delivery state of codes (receipts) and due escalations, kept with the code store. */
export const DELIVERY_STORE: InjectionToken<DeliveryStore> = Symbol.for("textlock.delivery-store");
/** Login sessions (SSO): Redis when codes are in Redis, else memory. */
export const SESSION_STORE: InjectionToken<SessionStore> = Symbol.for("textlock.session-store");
/** Where rate limits count: the Redis client the code store uses, or memory (`{}`). */
export const RATE_LIMIT_BACKEND: InjectionToken<RateLimitBackend> = Symbol.for("textlock.rate-limit-backend");

/** The audit log and log-stream outbox: follows the user store (memory, SQLite file, PostgreSQL). */
export const AUDIT_STORE: InjectionToken<AuditStore> = Symbol.for("textlock.audit-store");
/**
 * Whether this process delivers log streams (`{ enabled: true }` by default). The command line turns
 * it off for every command but `serve`: their records are still queued for the streams, but a
 * short-lived process never takes a stream's lease.
 */
export const AUDIT_DELIVERY: InjectionToken<{ enabled: boolean }> = Symbol.for("textlock.audit-delivery");
/** Records events in the audit log and delivers log streams. */
export const AUDIT: InjectionToken<AuditLog> = Symbol.for("textlock.audit");

export const MESSAGE_RENDERER: InjectionToken<MessageRenderer> = Symbol.for("textlock.message-renderer");
export const HOOKS: InjectionToken<HookRunner> = Symbol.for("textlock.hooks");
/** Provider descriptors by id: the built-ins and the config's plugins. */
export const PROVIDER_DESCRIPTORS: InjectionToken<ReadonlyMap<string, ProviderDescriptor>> = Symbol.for(
  "textlock.provider-descriptors",
);
export const PROVIDERS: InjectionToken<ProviderRegistry> = Symbol.for("textlock.providers");
export const PROTECTION: InjectionToken<Protection> = Symbol.for("textlock.protection");
/** CAPTCHA policy and server-side verification on `/passwordless/start`. */
export const BOT_CHECK: InjectionToken<BotCheck> = Symbol.for("textlock.bot-check");
/** Makers of the built-in vendor risk checkers (the root entry provides them; the core knows no vendor). */
export const RISK_PLUGINS: InjectionToken<RiskPlugins> = Symbol.for("textlock.risk-plugins");
/** The configured vendor risk checkers, each with its timeout and cache. */
export const RISK_CHECKERS: InjectionToken<readonly RiskChecker[]> = Symbol.for("textlock.risk-checkers");
/** The pre-send risk step of `/passwordless/start` (hook, then checkers). */
export const RISK: InjectionToken<PreSendRisk> = Symbol.for("textlock.risk");
export const SIGNING_KEYS: InjectionToken<SigningKeys> = Symbol.for("textlock.signing-keys");
/** Signing keys, JWKS, token issuing and `/userinfo`. */
export const TOKENS: InjectionToken<TokenService> = Symbol.for("textlock.tokens");
/** Grants `POST /oauth/token` dispatches to, by `grant_type` (the browser flow adds `authorization_code`). */
export const GRANTS: InjectionToken<Map<string, GrantHandler>> = Symbol.for("textlock.grants");

/**
 * The instance's own prom-client registry (a new one per instance; never prom-client's global
 * registry, so several instances in one process do not collide). A host may provide its own.
 */
export const METRICS_REGISTRY: InjectionToken<Registry> = Symbol.for("textlock.metrics-registry");
/** The instance's counters and histograms (core/metrics/metrics.ts). */
export const METRICS: InjectionToken<Metrics> = Symbol.for("textlock.metrics");

export type Clock = () => number;

/** An object, not a bare client, because the DI container cannot hold an absent value. */
export interface RateLimitBackend {
  redis?: unknown;
}
