import pg from "pg";
import type { AuditStore } from "../audit/audit-store.js";
import { PostgresAuditStore } from "../audit/postgres-audit-store.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { Logger } from "../logger.js";
import type { LoginSession, SessionStore } from "../sessions/session-store.js";
import { GroupCommit, type GroupCommitOptions, type GroupCommitStats } from "../storage/group-commit.js";
import { postgresGroupCommitDriver } from "../storage/postgres-group-commit.js";
import {
  familiesOf,
  familyOf,
  type RefreshRecord,
  type RefreshTokenStore,
  revokedKey,
} from "../tokens/refresh-token-store.js";
import type { KeyBackend, SealedKey } from "../tokens/signing-keys.js";
import { applyLogin, applyPatch, newUserProfile } from "./profile.js";
import { userSearchOrder, userSearchWhere } from "./sql-query.js";
import type { ListUsersOptions, NewUserFields, User, UserPatch, UserSearchOptions, UserStore } from "./user-store.js";

/** Ordered schema migrations; each runs once, recorded in `textlock_migrations`. */
const MIGRATIONS: Array<[id: string, sql: string]> = [
  [
    "001_users",
    `CREATE TABLE IF NOT EXISTS textlock_users (
       user_id      TEXT PRIMARY KEY,
       connection   TEXT NOT NULL,
       phone_number TEXT NOT NULL,
       created_at   TIMESTAMPTZ NOT NULL,
       profile      JSONB NOT NULL,
       CONSTRAINT textlock_users_connection_phone UNIQUE (connection, phone_number)
     );
     CREATE INDEX IF NOT EXISTS textlock_users_created ON textlock_users (created_at, user_id);`,
  ],
  [
    "002_refresh_tokens",
    `CREATE TABLE IF NOT EXISTS textlock_refresh_tokens (
       hash       TEXT PRIMARY KEY,
       record     JSONB NOT NULL,
       expires_at TIMESTAMPTZ NOT NULL
     );
     CREATE INDEX IF NOT EXISTS textlock_refresh_tokens_expiry ON textlock_refresh_tokens (expires_at);`,
  ],
  [
    "003_signing_keys",
    `CREATE TABLE IF NOT EXISTS textlock_signing_keys (
       kid        TEXT PRIMARY KEY,
       alg        TEXT NOT NULL,
       sealed     TEXT NOT NULL,
       public_jwk JSONB NOT NULL,
       created_at TIMESTAMPTZ NOT NULL,
       seq        BIGSERIAL NOT NULL
     );`,
  ],
  [
    "004_refresh_token_families",
    `CREATE INDEX IF NOT EXISTS textlock_refresh_tokens_family ON textlock_refresh_tokens ((record->>'family'));
     CREATE INDEX IF NOT EXISTS textlock_refresh_tokens_user ON textlock_refresh_tokens ((record->>'user_id'));`,
  ],
  [
    "005_login_sessions",
    `CREATE TABLE IF NOT EXISTS textlock_login_sessions (
       sid     TEXT PRIMARY KEY,
       user_id TEXT NOT NULL,
       record  JSONB NOT NULL,
       ends_at TIMESTAMPTZ NOT NULL
     );
     CREATE INDEX IF NOT EXISTS textlock_login_sessions_user ON textlock_login_sessions (user_id);
     CREATE INDEX IF NOT EXISTS textlock_login_sessions_end ON textlock_login_sessions (ends_at);`,
  ],
];

export interface PostgresUserStoreOptions {
  url: string;
  /** A query (or getting a connection) not done within this time fails with 503. */
  timeoutMs?: number;
  /** Batching of concurrent writes into one transaction (see GroupCommit). */
  groupCommit?: GroupCommitOptions;
}

/**
 * Users in PostgreSQL, shared by every textlock process. `(connection, phone_number)` is unique and
 * `create` is `INSERT … ON CONFLICT DO NOTHING` followed by a re-read, so concurrent first logins in
 * several processes converge on one user; a user is committed before `create` resolves (no token for a
 * record a crash could lose). Unreachable or slow database: 503 `temporarily_unavailable`.
 *
 * Writes of concurrent requests (new users, logins, metadata, refresh tokens) are group-committed: they
 * share one transaction on one connection, and each resolves once that transaction has committed.
 */
export class PostgresUserStore implements UserStore {
  private readonly writes: GroupCommit<pg.PoolClient>;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    groupCommit: GroupCommitOptions = {},
  ) {
    this.writes = new GroupCommit(postgresGroupCommitDriver(pool), groupCommit);
  }

  static async connect(options: PostgresUserStoreOptions, logger: Logger): Promise<PostgresUserStore> {
    const timeout = options.timeoutMs ?? 2_000;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      statement_timeout: timeout,
    });
    pool.on("error", (err) => logger.warn({ err: { message: err.message } }, "postgres connection error"));
    const store = new PostgresUserStore(pool, logger, options.groupCommit);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  /** Runs pending migrations under an advisory lock, so processes starting together do not race. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(727274)");
      await client.query(
        "CREATE TABLE IF NOT EXISTS textlock_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
      );
      const done = new Set(
        (await client.query<{ id: string }>("SELECT id FROM textlock_migrations")).rows.map((r) => r.id),
      );
      for (const [id, sql] of MIGRATIONS) {
        if (done.has(id)) continue;
        await client.query("BEGIN");
        await client.query(sql);
        await client.query("INSERT INTO textlock_migrations (id) VALUES ($1)", [id]);
        await client.query("COMMIT");
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(727274)").catch(() => {});
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** A write in the next group commit; errors other than textlock's own become 503. */
  private async write<T>(op: (client: pg.PoolClient) => Promise<T>, lockKey: string): Promise<T> {
    try {
      return await this.writes.run(op, lockKey);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): TextlockError {
    if (isTextlockError(err)) return err;
    this.logger.warn({ err: { message: (err as Error).message } }, "user store unavailable");
    return new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
  }

  async findByPhone(connection: string, phone: string): Promise<User | undefined> {
    const { rows } = await this.query<{ profile: User }>(
      "SELECT profile FROM textlock_users WHERE connection = $1 AND phone_number = $2",
      [connection, phone],
    );
    return rows[0]?.profile;
  }

  async findById(userId: string): Promise<User | undefined> {
    const { rows } = await this.query<{ profile: User }>("SELECT profile FROM textlock_users WHERE user_id = $1", [
      userId,
    ]);
    return rows[0]?.profile;
  }

  async create(connection: string, phone: string, fields?: NewUserFields): Promise<{ user: User; created: boolean }> {
    const candidate = newUserProfile(connection, phone, fields);
    const inserted = await this.write(
      (client) =>
        client.query<{ profile: User }>(
          `INSERT INTO textlock_users (user_id, connection, phone_number, created_at, profile) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (connection, phone_number) DO NOTHING RETURNING profile`,
          [candidate.user_id, connection, phone, candidate.created_at, candidate],
        ),
      `user-phone:${connection}:${phone}`,
    );
    if (inserted.rows[0]) return { user: inserted.rows[0].profile, created: true };
    const existing = await this.findByPhone(connection, phone);
    if (!existing) throw new TextlockError("ERR_STORE_UNAVAILABLE", { description: "user vanished during creation" });
    return { user: existing, created: false };
  }

  async recordLogin(userId: string, facts: { ip?: string; at: Date }): Promise<User> {
    return this.change(userId, (u) => applyLogin(u, facts));
  }

  async update(userId: string, patch: UserPatch): Promise<User> {
    return this.change(userId, (u) => applyPatch(u, patch));
  }

  async list(options: ListUsersOptions = {}): Promise<User[]> {
    const { limit = 50, offset = 0, connection = null } = options;
    const { rows } = await this.query<{ profile: User }>(
      "SELECT profile FROM textlock_users WHERE ($1::text IS NULL OR connection = $1) ORDER BY created_at, user_id LIMIT $2 OFFSET $3",
      [connection, Math.min(limit, 1000), offset],
    );
    return rows.map((r) => r.profile);
  }

  async search(options: UserSearchOptions): Promise<{ users: User[]; total: number }> {
    const where = userSearchWhere("postgres", options);
    const order = userSearchOrder("postgres", options.sort);
    const n = where.params.length;
    const [page, count] = await Promise.all([
      this.query<{ profile: User }>(
        `SELECT profile FROM textlock_users WHERE ${where.sql} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...where.params, options.limit, options.offset],
      ),
      this.query<{ n: string }>(`SELECT count(*) AS n FROM textlock_users WHERE ${where.sql}`, where.params),
    ]);
    return { users: page.rows.map((r) => r.profile), total: Number(count.rows[0]?.n ?? 0) };
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1", []);
  }

  async delete(userId: string): Promise<boolean> {
    const { rowCount } = await this.query("DELETE FROM textlock_users WHERE user_id = $1", [userId]);
    return (rowCount ?? 0) > 0;
  }

  /** Group-commit counters: transactions committed, writes, the largest batch. */
  get writeStats(): GroupCommitStats {
    return { ...this.writes.stats };
  }

  async close(): Promise<void> {
    await this.writes.close().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  /**
   * Refresh tokens in the same database (and pool), so a token issued by one process is redeemed by
   * any other. `use` is one `UPDATE … WHERE not used RETURNING`: of concurrent redemptions exactly one
   * gets the row (the other waits for the row lock, then no longer matches) and the other is a reuse,
   * which deletes the family. Closing it is a no-op; the user store owns the pool.
   */
  refreshTokenStore(): RefreshTokenStore {
    const find = async (hash: string) => {
      const { rows } = await this.query<{ record: RefreshRecord }>(
        "SELECT record FROM textlock_refresh_tokens WHERE hash = $1",
        [hash],
      );
      return rows[0]?.record;
    };
    // The marker is committed before the family's tokens are deleted (see RefreshTokenStore).
    const revokeFamily = async (family: string, expiresAt: number) => {
      const marker = revokedKey(family);
      await this.query(
        "INSERT INTO textlock_refresh_tokens (hash, record, expires_at) VALUES ($1, $2, to_timestamp($3 / 1000.0)) ON CONFLICT (hash) DO NOTHING",
        [marker, { family, revoked: true }, expiresAt],
      );
      await this.query(
        "DELETE FROM textlock_refresh_tokens WHERE (record->>'family' = $1 OR hash = $1) AND hash <> $2",
        [family, marker],
      );
    };
    return {
      save: async (hash, record) => {
        const family = familyOf(hash, record);
        await this.write(
          (client) =>
            client.query(
              "INSERT INTO textlock_refresh_tokens (hash, record, expires_at) VALUES ($1, $2, to_timestamp($3 / 1000.0)) ON CONFLICT (hash) DO UPDATE SET record = $2, expires_at = to_timestamp($3 / 1000.0)",
              [hash, { ...record, family }, record.expiresAt],
            ),
          `refresh:${hash}`,
        );
        // Checked after the token is committed (see RefreshTokenStore), so never inside the batch.
        await this.query(
          "DELETE FROM textlock_refresh_tokens WHERE hash = $1 AND EXISTS (SELECT 1 FROM textlock_refresh_tokens WHERE hash = $2)",
          [hash, revokedKey(family)],
        );
      },
      use: async (hash) => {
        const { rows } = await this.write(
          (client) =>
            client.query<{ record: RefreshRecord }>(
              `UPDATE textlock_refresh_tokens SET record = record || '{"used":true}'::jsonb
              WHERE hash = $1 AND coalesce((record->>'used')::boolean, false) = false RETURNING record`,
              [hash],
            ),
          `refresh:${hash}`,
        );
        if (rows[0]) return { record: { ...rows[0].record, used: false }, reused: false };
        const record = await find(hash);
        if (!record) return undefined;
        await revokeFamily(familyOf(hash, record), record.expiresAt);
        return { record, reused: true };
      },
      find,
      revokeFamily,
      revokeUser: async (userId) => {
        const { rows } = await this.query<{ hash: string; record: RefreshRecord }>(
          "SELECT hash, record FROM textlock_refresh_tokens WHERE record->>'user_id' = $1",
          [userId],
        );
        for (const [family, expiresAt] of familiesOf(rows)) await revokeFamily(family, expiresAt);
      },
      purgeExpired: async (now) => {
        const { rowCount } = await this.query(
          "DELETE FROM textlock_refresh_tokens WHERE expires_at < to_timestamp($1 / 1000.0)",
          [now],
        );
        return rowCount ?? 0;
      },
      close: async () => {},
    };
  }

  /**
   * Login sessions in the same database (and pool), so a session started on one process is seen by all.
   * Saves are group-committed with the other writes of concurrent logins.
   */
  sessionStore(now: () => number = Date.now): SessionStore {
    const endOf = (s: LoginSession) => Math.min(s.idleExpiresAt, s.expiresAt);
    return {
      save: async (session) => {
        await this.write(
          (client) =>
            client.query(
              `INSERT INTO textlock_login_sessions (sid, user_id, record, ends_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
               ON CONFLICT (sid) DO UPDATE SET record = $3, ends_at = to_timestamp($4 / 1000.0)`,
              [session.sid, session.userId, session, endOf(session)],
            ),
          `session:${session.sid}`,
        );
      },
      get: async (sid) => {
        const { rows } = await this.query<{ record: LoginSession }>(
          "SELECT record FROM textlock_login_sessions WHERE sid = $1 AND ends_at > to_timestamp($2 / 1000.0)",
          [sid, now()],
        );
        return rows[0]?.record;
      },
      delete: async (sid) =>
        ((await this.query("DELETE FROM textlock_login_sessions WHERE sid = $1", [sid])).rowCount ?? 0) > 0,
      deleteByUser: async (userId) =>
        (await this.query("DELETE FROM textlock_login_sessions WHERE user_id = $1", [userId])).rowCount ?? 0,
      purgeExpired: async (now) =>
        (await this.query("DELETE FROM textlock_login_sessions WHERE ends_at <= to_timestamp($1 / 1000.0)", [now]))
          .rowCount ?? 0,
    };
  }

  /** The audit log and log-stream outbox in the same database (and pool); closing it is a no-op. */
  auditStore(): Promise<AuditStore> {
    return PostgresAuditStore.open(this.pool, this.logger);
  }

  /**
   * Signing keys in the same database, so every process signs with, and publishes, one key set.
   * Private keys arrive sealed with the server secret; newest first (by insertion order).
   */
  signingKeyBackend(): KeyBackend {
    const list = async (q: Pick<pg.Pool, "query"> = this.pool): Promise<SealedKey[]> => {
      const { rows } = await q.query<{
        kid: string;
        alg: SealedKey["alg"];
        sealed: string;
        public_jwk: SealedKey["publicJwk"];
        created_at: Date;
      }>("SELECT kid, alg, sealed, public_jwk, created_at FROM textlock_signing_keys ORDER BY seq DESC");
      return rows.map((r) => ({
        kid: r.kid,
        alg: r.alg,
        sealed: r.sealed,
        publicJwk: r.public_jwk,
        createdAt: new Date(r.created_at).toISOString(),
      }));
    };
    const insert = (q: Pick<pg.Pool, "query">, k: SealedKey) =>
      q.query(
        "INSERT INTO textlock_signing_keys (kid, alg, sealed, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)",
        [k.kid, k.alg, k.sealed, k.publicJwk, k.createdAt],
      );
    const locked = async <T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
      const client = await this.pool.connect().catch((err) => {
        throw this.unavailable(err);
      });
      try {
        await client.query("BEGIN");
        await client.query("LOCK TABLE textlock_signing_keys IN EXCLUSIVE MODE");
        const result = await run(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw this.unavailable(err);
      } finally {
        client.release();
      }
    };
    return {
      list: async () => {
        try {
          return await list();
        } catch (err) {
          throw this.unavailable(err);
        }
      },
      createIfEmpty: (key) =>
        locked(async (client) => {
          const existing = await list(client);
          if (existing.length) return existing;
          await insert(client, key);
          return [key];
        }),
      add: (key, keep) =>
        locked(async (client) => {
          await insert(client, key);
          await client.query(
            "DELETE FROM textlock_signing_keys WHERE kid NOT IN (SELECT kid FROM textlock_signing_keys ORDER BY seq DESC LIMIT $1)",
            [keep],
          );
        }),
      remove: async (kid) =>
        (await this.query("DELETE FROM textlock_signing_keys WHERE kid = $1", [kid])).rowCount! > 0,
    };
  }

  /**
   * Read-modify-write under a row lock (held until the batch commits), so concurrent logins, also in
   * other processes, never lose an update.
   */
  private change(userId: string, update: (u: User) => User): Promise<User> {
    return this.write(async (client) => {
      const { rows } = await client.query<{ profile: User }>(
        "SELECT profile FROM textlock_users WHERE user_id = $1 FOR UPDATE",
        [userId],
      );
      if (!rows[0]) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
      const next = update(rows[0].profile);
      try {
        await client.query("UPDATE textlock_users SET profile = $2, phone_number = $3 WHERE user_id = $1", [
          userId,
          next,
          next.phone_number,
        ]);
      } catch (err) {
        if ((err as { code?: string }).code === "23505") throw new TextlockError("ERR_MGMT_PHONE_CONFLICT");
        throw err;
      }
      return next;
    }, `user:${userId}`);
  }
}
