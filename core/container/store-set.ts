import { join } from "node:path";
import type { AuditStore } from "../audit/audit-store.js";
import { MemoryAuditStore } from "../audit/memory-audit-store.js";
import { SqliteAuditStore } from "../audit/sqlite-audit-store.js";
import { MemoryOneTimeStore, type OneTimeStore, RedisOneTimeStore } from "../browser/one-time-store.js";
import type { TextlockConfig } from "../config/schema.js";
import type { DeliveryStore } from "../delivery/delivery-store.js";
import { MemoryDeliveryStore } from "../delivery/memory-delivery-store.js";
import { RedisDeliveryStore } from "../delivery/redis-delivery-store.js";
import type { Clock, RateLimitBackend } from "../di-tokens.js";
import type { Logger } from "../logger.js";
import { MemoryOtpStore } from "../otp/memory-otp-store.js";
import type { OtpStore } from "../otp/otp-store.js";
import { MemorySessionStore, type SessionStore } from "../sessions/session-store.js";
import { importLegacyTable } from "../storage/sqlite-file.js";
import { MemoryRefreshTokenStore, type RefreshTokenStore } from "../tokens/refresh-token-store.js";
import type { KeyBackend } from "../tokens/signing-keys.js";
import { MemoryUserStore } from "../users/memory-user-store.js";
import { SqliteUserStore } from "../users/sqlite-user-store.js";
import type { UserStore } from "../users/user-store.js";

/** Every store of one instance. */
export interface StoreSet {
  codes: OtpStore;
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  oneTime: OneTimeStore;
  /** Delivery state of codes and due escalations: beside the codes (memory, or the same Redis). */
  deliveries: DeliveryStore;
  /** Login sessions (SSO). */
  sessions: SessionStore;
  /** Where rate limits count. */
  rateLimitBackend: RateLimitBackend;
  /** The audit log and stream outbox: in the durable store's database (memory with memory users). */
  audit: AuditStore;
  /** Where signing keys are shared (the PostgreSQL user database); absent: `<dataDir>/keys.json`. */
  signingKeys?: KeyBackend;
}

/**
 * Chooses and opens every store, in this one place, from `config.store` (short-lived state: codes,
 * one-time codes and tickets, rate limits) and `config.users` (durable state: users, refresh
 * tokens and login sessions). Short-lived state follows the code store and durable state follows the user store, so a
 * shared setup (Redis + PostgreSQL) never keeps a part in one process's memory. Stores in `given`
 * (host overrides) are used as they are.
 */
export async function openStoreSet(
  config: TextlockConfig,
  logger: Logger,
  clock: Clock,
  given: Partial<StoreSet>,
): Promise<StoreSet> {
  const codes = given.codes ?? (await openCodeStore(config, logger));
  const redis = config.store.type === "redis" ? ((codes as { rawClient?: unknown }).rawClient ?? null) : null;
  let durable: Awaited<ReturnType<typeof openDurableStores>> | undefined;
  try {
    durable =
      given.users && given.refreshTokens && given.sessions && given.audit
        ? undefined
        : await openDurableStores(config, logger, clock, given);
  } catch (err) {
    // Nothing is left open by a start that failed (a Redis client would keep the process alive).
    if (!given.codes) await codes.close().catch(() => {});
    throw err;
  }
  return {
    codes,
    users: given.users ?? durable!.users,
    refreshTokens: given.refreshTokens ?? durable!.refreshTokens,
    audit: given.audit ?? durable!.audit,
    oneTime:
      given.oneTime ??
      (redis && config.store.type === "redis"
        ? new RedisOneTimeStore(redis as ConstructorParameters<typeof RedisOneTimeStore>[0], config.store.namespace)
        : new MemoryOneTimeStore(clock)),
    deliveries:
      given.deliveries ??
      (redis && config.store.type === "redis"
        ? new RedisDeliveryStore(
            redis as ConstructorParameters<typeof RedisDeliveryStore>[0],
            config.store.namespace,
            config.store.cluster !== undefined,
          )
        : new MemoryDeliveryStore(clock)),
    sessions: given.sessions ?? durable!.sessions,
    rateLimitBackend: given.rateLimitBackend ?? (redis ? { redis } : {}),
    ...(durable?.signingKeys ? { signingKeys: durable.signingKeys } : {}),
  };
}

async function openCodeStore(config: TextlockConfig, logger: Logger): Promise<OtpStore> {
  switch (config.store.type) {
    case "memory":
      return new MemoryOtpStore();
    case "redis": {
      const { RedisOtpStore } = await import("../otp/redis-otp-store.js");
      return RedisOtpStore.connect(config.store, logger);
    }
  }
}

async function openDurableStores(
  config: TextlockConfig,
  logger: Logger,
  clock: Clock,
  given: Partial<StoreSet>,
): Promise<Pick<StoreSet, "users" | "refreshTokens" | "sessions" | "signingKeys" | "audit">> {
  switch (config.users.type) {
    case "memory":
      return {
        users: new MemoryUserStore(),
        refreshTokens: new MemoryRefreshTokenStore(),
        sessions: new MemorySessionStore(clock),
        audit: new MemoryAuditStore(),
      };
    case "sqlite": {
      // Users, refresh tokens and sessions in one file, one connection and one group commit: a login's
      // writes share their transaction and fsync with every other write of the moment.
      const file = config.users.file ?? join(config.dataDir, "users.db");
      const users = new SqliteUserStore(file);
      const refreshTokens = users.refreshTokenStore();
      const sessions = users.sessionStore(clock);
      // Earlier versions kept refresh tokens and sessions in files of their own.
      for (const [legacy, table] of [
        ["refresh-tokens.db", "refresh_tokens"],
        ["sessions.db", "login_sessions"],
      ] as const) {
        const rows = importLegacyTable(users.database, join(config.dataDir, legacy), table);
        if (rows) logger.info({ rows, from: legacy, into: file }, "imported rows of an earlier file layout");
      }
      // A store the host replaced lets go of the file (it closes when none of the three uses it).
      if (given.users) await users.close();
      if (given.refreshTokens) await refreshTokens.close();
      if (given.sessions) await sessions.close();
      let audit: SqliteAuditStore;
      try {
        audit = new SqliteAuditStore(config.audit.file ?? join(config.dataDir, "audit.db"));
      } catch (err) {
        if (!given.users) await users.close();
        if (!given.refreshTokens) await refreshTokens.close();
        if (!given.sessions) await sessions.close();
        throw err;
      }
      return { users, refreshTokens, sessions, audit };
    }
    case "postgres": {
      const { PostgresUserStore } = await import("../users/postgres-user-store.js");
      const users = await PostgresUserStore.connect({ url: config.users.url }, logger);
      try {
        return {
          users,
          refreshTokens: users.refreshTokenStore(),
          sessions: users.sessionStore(clock),
          signingKeys: users.signingKeyBackend(),
          audit: await users.auditStore(),
        };
      } catch (err) {
        await users.close();
        throw err;
      }
    }
  }
}
