import "reflect-metadata";
import type { JSONWebKeySet } from "jose";
import type { Registry } from "prom-client";
import type { LogSearch, StreamStatus } from "./audit/audit-store.js";
import type { LogEntry } from "./audit/log-entry.js";
import { seqOf } from "./audit/log-entry.js";
import { BrowserFlow } from "./browser/browser-flow.js";
import type { TextlockConfig, TextlockConfigInput } from "./config/schema.js";
import { OTP_GRANT } from "./config/schema.js";
import { composeTextlock, type Provision, provide } from "./container/compose.js";
import { attachContainer } from "./container/internals.js";
import { DeliveryTracker } from "./delivery/delivery-tracker.js";
import {
  AUDIT,
  CLOCK,
  type Clock,
  CONFIG,
  DELIVERY_STORE,
  ENV,
  EVENTS,
  GRANTS,
  HOOKS,
  LOGGER,
  METRICS,
  OTP_STORE,
  PROTECTION,
  PROVIDERS,
  REFRESH_TOKEN_STORE,
  SESSION_STORE,
  SIGNING_KEYS,
  TOKENS,
  USER_STORE,
} from "./di-tokens.js";
import { Engine } from "./engine/engine.js";
import type {
  RequestFacts,
  ResendInput,
  ResendResult,
  StartInput,
  StartResult,
  VerifyInput,
  VerifyResult,
} from "./engine/types.js";
import { TextlockError } from "./errors/textlock-error.js";
import type { TextlockEvents } from "./events/events.js";
import type { Logger } from "./logger.js";
import type { OtpStore } from "./otp/otp-store.js";
import type { ProtectionAlert, RefusalReason } from "./protection/protection.js";
import type { ProviderDescriptor } from "./providers/provider-descriptor.js";
import type { RefreshTokenStore } from "./tokens/refresh-token-store.js";
import { createRevokeEndpoint, createTokenEndpoint, type GrantHandler } from "./tokens/token-endpoint.js";
import type { TokenResponse } from "./tokens/token-service.js";
import { createUserAdmin, type TextlockUsers } from "./users/user-admin.js";
import type { UserStore } from "./users/user-store.js";

/** Parts a host supplies instead of the ones built from config (tests, custom stores). */
export interface TextlockOverrides {
  logger?: Logger;
  otpStore?: OtpStore;
  userStore?: UserStore;
  refreshTokenStore?: RefreshTokenStore;
  /** `() => epoch ms`; tests move time with it. */
  clock?: Clock;
  /** Environment used for production-safety checks (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Any other part, by its DI token (`provide(TOKEN, value)`); registered before composition. */
  provide?: readonly Provision[];
}

/** Request facts of an in-process call; `issuer` defaults to `config.issuer`. */
export type InProcessRequest = RequestFacts & { issuer?: string };

/** A login with a code, without grant-type URLs: the passwordless OTP grant, typed. */
export interface LoginInput {
  client_id: string;
  /** Confidential clients only. */
  client_secret?: string;
  /** The connection (Auth0 `realm`); defaults to the client's only SMS connection. */
  connection?: string;
  phone_number: string;
  /** The code the person typed. */
  code: string;
  /** Space-separated; `openid` gets an id_token, `offline_access` a refresh token. */
  scope?: string;
  /** An API identifier, for an access token that API accepts. */
  audience?: string;
  nonce?: string;
}

/** `POST /oauth/revoke`: a refresh token to revoke (with its whole family). */
export interface RevokeInput {
  client_id: string;
  /** For confidential clients. */
  client_secret?: string;
  /** The refresh token. */
  token: string;
}

export interface RefreshInput {
  client_id: string;
  client_secret?: string;
  refresh_token: string;
}

/** The in-process API: everything HTTP does, callable without HTTP. */
export interface TextlockApi {
  /** `POST /passwordless/start`: sends a code. */
  start(input: StartInput, request?: RequestFacts): Promise<StartResult>;
  /** Checks a code and returns tokens (the passwordless OTP grant). */
  login(input: LoginInput, request?: InProcessRequest): Promise<TokenResponse>;
  /** Redeems a refresh token for new tokens (it is rotated: the old one stops working). */
  refresh(input: RefreshInput, request?: InProcessRequest): Promise<TokenResponse>;
  /**
   * `POST /oauth/revoke` (RFC 7009): revokes a refresh token and every token of its family. An unknown
   * or already revoked token is not an error; a token of another client is refused (`invalid_request`).
   */
  revoke(input: RevokeInput): Promise<void>;
  /** `GET /userinfo` for an access token. */
  userinfo(accessToken: string, request?: InProcessRequest): Promise<Record<string, unknown>>;
  /** Checks a code and returns the logged-in user, without issuing tokens. */
  verify(input: VerifyInput, request?: RequestFacts): Promise<VerifyResult>;
  /**
   * Sends the live code of a phone again over another channel (the same code; attempts shared; each
   * channel once per code; the same send limits and budgets as `start`). See docs/guides/channels.md.
   */
  resendLiveCode(input: ResendInput, request?: RequestFacts): Promise<ResendResult>;
  /**
   * `POST /oauth/token` as the wire sends it: dispatches on `grant_type` (passwordless OTP URL,
   * `refresh_token`, and grants registered with {@link Textlock.registerGrant}).
   */
  token(params: Record<string, unknown>, request: RequestFacts & { issuer: string }): Promise<TokenResponse>;
}

export type { TextlockUsers, UserSearchInput, UserSearchPage } from "./users/user-admin.js";

/** The signing keys. */
export interface TextlockKeys {
  /** Makes a new signing key; earlier ones stay in the JWKS (up to `tokens.keepKeys`). */
  rotate(): Promise<{ kid: string }>;
  /**
   * Removes a key from the JWKS: tokens it signed stop verifying (in every process within
   * `tokens.keyReloadSeconds`). The key that signs new tokens cannot be retired: rotate first.
   */
  retire(kid: string): Promise<void>;
  /** The public keys, as served at `/.well-known/jwks.json`. */
  jwks(): JSONWebKeySet;
}

/** Counters for monitoring (docs/guides/metrics.md). */
export interface TextlockMetrics {
  /** Requests refused by the abuse protection, by reason. */
  refusals(): Record<RefusalReason, number>;
  /** Pumping detections and clearances, and money-budget thresholds crossed, reported by this process. */
  alerts(): Record<ProtectionAlert, number>;
  /**
   * Every metric of the instance in the Prometheus text format (what `GET /metrics` serves): codes
   * sent, verification outcomes, refusals, provider latency and errors, store errors, hook and HTTP
   * durations.
   */
  prometheus(): Promise<string>;
  /** The `Content-Type` of {@link prometheus}'s text. */
  readonly contentType: string;
  /**
   * The instance's own prom-client registry, to merge with the host's (`Registry.merge([...])`) or to
   * add metrics to. Each instance has its own; prom-client's global registry is never used.
   */
  readonly registry: Registry;
}

/** The audit log (docs/guides/audit-log.md). */
export interface TextlockAudit {
  /** Records by filter, newest first unless `order: 1`, with the total number of matches. */
  search(search?: LogSearch): Promise<{ logs: LogEntry[]; total: number }>;
  /** Records after a log_id (exclusive; none: from the oldest), oldest first: Auth0's `from`/`take`. */
  after(fromLogId: string | undefined, take: number): Promise<LogEntry[]>;
  /** Waits until every record of events emitted so far is committed. */
  flush(): Promise<void>;
  /** Each log stream's outbox (by default every configured one): pending events, dead letters, last error. */
  streams(names?: readonly string[]): Promise<StreamStatus[]>;
  /** Deletes records older than `audit.retentionDays` now (also done hourly). */
  purge(): Promise<number>;
}

/** What {@link TextlockHealth.check} found: each store, and whether all of them answered. */
export interface HealthReport {
  status: "ok" | "unavailable";
  /** `codes`: the code store (Redis, or memory); `users`: the user store (SQLite, PostgreSQL, memory). */
  checks: { codes: "ok" | "unavailable"; users: "ok" | "unavailable" };
}

/** Readiness of the instance's stores (the standalone server's `/health/ready`). */
export interface TextlockHealth {
  /**
   * Asks each store that is not in this process's memory to answer (Redis: a script on the shared
   * counters' slot; SQLite and PostgreSQL: a query), each within 2 s. Never rejects.
   */
  check(): Promise<HealthReport>;
}

export interface Textlock {
  readonly config: TextlockConfig;
  readonly api: TextlockApi;
  /** Typed events (`code.sent`, `user.created`, `request.refused`…); payloads never hold codes or secrets. */
  readonly events: TextlockEvents;
  readonly logger: Logger;
  readonly users: TextlockUsers;
  readonly keys: TextlockKeys;
  readonly metrics: TextlockMetrics;
  readonly audit: TextlockAudit;
  readonly health: TextlockHealth;
  /** Adds a grant type to `api.token` and `POST /oauth/token`. */
  registerGrant(grantType: string, handler: GrantHandler): void;
  /** Stops timers and closes stores and providers. */
  close(): Promise<void>;
}

/**
 * Creates an instance with the given built-in providers (the package's root entry passes its own).
 * Validates the whole configuration first and throws one `TextlockConfigError` listing every problem.
 * Each instance has its own child container, so several instances never share state.
 */
export async function createTextlockWith(
  builtinProviders: readonly ProviderDescriptor[],
  input: TextlockConfigInput = {},
  overrides: TextlockOverrides = {},
): Promise<Textlock> {
  const provisions: Provision[] = [
    ...(overrides.provide ?? []),
    ...(overrides.logger ? [provide(LOGGER, overrides.logger)] : []),
    ...(overrides.otpStore ? [provide(OTP_STORE, overrides.otpStore)] : []),
    ...(overrides.userStore ? [provide(USER_STORE, overrides.userStore)] : []),
    ...(overrides.refreshTokenStore ? [provide(REFRESH_TOKEN_STORE, overrides.refreshTokenStore)] : []),
    ...(overrides.clock ? [provide(CLOCK, overrides.clock)] : []),
    ...(overrides.env ? [provide(ENV, overrides.env)] : []),
  ];
  const c = await composeTextlock(input, builtinProviders, provisions);
  const config = c.resolve(CONFIG);
  const engine = c.resolve(Engine);
  const tokens = c.resolve(TOKENS);
  const users = c.resolve(USER_STORE);
  const grants = c.resolve(GRANTS);
  const metrics = c.resolve(METRICS);
  const audit = c.resolve(AUDIT);
  const token = createTokenEndpoint(config, engine, tokens, grants);
  const revoke = createRevokeEndpoint(config, tokens);
  const issuerOf = (request?: InProcessRequest) =>
    request?.issuer ?? config.issuer ?? `http://${config.server.host}:${config.server.port}/`;
  const browser = c.resolve(BrowserFlow);
  // Escalation re-sends through the engine's channel switch: the same live code, the same limits.
  c.resolve(DeliveryTracker).start({
    resend: ({ connection, phone, channel }) =>
      engine.resendLiveCode({ connection: connection.name, phone_number: phone, channel }),
  });

  const purge = schedulePurge(
    config,
    [c.resolve(REFRESH_TOKEN_STORE), c.resolve(SESSION_STORE)],
    c.resolve(CLOCK),
    c.resolve(LOGGER),
  );
  let closed = false;
  const textlock: Textlock = {
    config,
    api: {
      start: (input, request) => engine.start(input, request),
      verify: (input, request) => engine.verify(input, request),
      resendLiveCode: (input, request) => engine.resendLiveCode(input, request),
      token,
      login: (input, request) =>
        token(
          {
            grant_type: OTP_GRANT,
            client_id: input.client_id,
            client_secret: input.client_secret,
            realm: input.connection ?? onlyConnectionOf(config, input.client_id),
            username: input.phone_number,
            otp: input.code,
            scope: input.scope,
            audience: input.audience,
            nonce: input.nonce,
          },
          { ...request, issuer: issuerOf(request) },
        ),
      refresh: (input, request) =>
        token({ grant_type: "refresh_token", ...input }, { ...request, issuer: issuerOf(request) }),
      revoke: (input) => revoke({ ...input }),
      userinfo: (accessToken, request) => tokens.userinfo(accessToken, issuerOf(request)),
    },
    events: c.resolve(EVENTS),
    logger: c.resolve(LOGGER),
    // See UserErasers: when a user's refresh tokens and login sessions go.
    users: createUserAdmin(users, c.resolve(EVENTS), {
      refreshTokens: (userId) => tokens.revokeUser(userId),
      sessions: (userId) => browser.sessions.endAllForUser(userId),
    }),
    keys: {
      rotate: () => tokens.rotateKeys(),
      retire: (kid) => tokens.retireKey(kid),
      jwks: () => tokens.jwks(),
    },
    metrics: {
      refusals: () => c.resolve(PROTECTION).metrics(),
      alerts: () => c.resolve(PROTECTION).alerts(),
      prometheus: () => metrics.text(),
      contentType: metrics.registry.contentType,
      registry: metrics.registry,
    },
    health: {
      check: async () => {
        const [codes, users] = await Promise.all([answers(c.resolve(OTP_STORE)), answers(c.resolve(USER_STORE))]);
        return { status: codes === "ok" && users === "ok" ? "ok" : "unavailable", checks: { codes, users } };
      },
    },
    audit: {
      search: (search = {}) => audit.search(search),
      after: async (fromLogId, take) => {
        const seq = fromLogId === undefined ? 0 : seqOf(fromLogId);
        if (seq === undefined) throw new TextlockError("ERR_INVALID_REQUEST", { description: "invalid log_id" });
        return audit.after(seq, take);
      },
      flush: () => audit.flush(),
      streams: (names) => audit.streamStatus(names),
      purge: () => audit.purge(),
    },
    registerGrant(grantType, handler) {
      grants.set(grantType, handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      c.resolve(DeliveryTracker).close();
      clearInterval(purge);
      // First: it writes what is queued while the stores are still open (and owns the audit store).
      await audit.close();
      // Then the pumping counts of verified codes still waiting for their batch, while Redis is open.
      const protection = c.resolve(PROTECTION) as Partial<{ close(): Promise<void> }>;
      if (typeof protection.close === "function") await protection.close();
      const parts: Array<{ close(): Promise<void> }> = [
        c.resolve(DELIVERY_STORE),
        c.resolve(OTP_STORE),
        c.resolve(USER_STORE),
        c.resolve(REFRESH_TOKEN_STORE),
        c.resolve(HOOKS),
        c.resolve(PROVIDERS),
      ];
      const sessions = c.resolve(SESSION_STORE);
      if (sessions.close) parts.push({ close: () => sessions.close!() });
      const keys = c.resolve(SIGNING_KEYS) as Partial<{ close(): Promise<void> }>;
      if (typeof keys.close === "function") parts.push(keys as { close(): Promise<void> });
      await Promise.allSettled(parts.map((part) => part.close()));
      await c.dispose();
    },
  };
  return attachContainer(textlock, c);
}

/**
 * Deletes expired refresh-token records and ended login sessions every `tokens.purgeIntervalSeconds`
 * (a store failure is logged, not thrown).
 */
function schedulePurge(
  config: TextlockConfig,
  stores: Array<{ purgeExpired?(now: number): Promise<number> }>,
  now: () => number,
  logger: Logger,
): NodeJS.Timeout | undefined {
  const seconds = config.tokens.purgeIntervalSeconds;
  if (!seconds) return undefined;
  const timer = setInterval(() => {
    for (const store of stores)
      store.purgeExpired?.(now()).catch((err: unknown) => logger.warn({ err }, "purge of expired records failed"));
  }, seconds * 1000);
  timer.unref();
  return timer;
}

/** The client's connection when it has exactly one (so in-process callers may omit it). */
function onlyConnectionOf(config: TextlockConfig, clientId: string): string | undefined {
  const enabled = config.connections.filter((c) => c.enabled_clients.includes(clientId));
  return enabled.length === 1 ? enabled[0]!.name : undefined;
}

/** How long a store has to answer a health check. */
const HEALTH_TIMEOUT_MS = 2_000;

/** Whether a store answers its `ping` within {@link HEALTH_TIMEOUT_MS} (a store without one always does). */
async function answers(store: { ping?(): Promise<void> }): Promise<"ok" | "unavailable"> {
  if (typeof store.ping !== "function") return "ok";
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), HEALTH_TIMEOUT_MS);
      }),
    ]);
    return "ok";
  } catch {
    return "unavailable";
  } finally {
    clearTimeout(timer);
  }
}
