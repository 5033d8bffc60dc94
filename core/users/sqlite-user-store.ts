import type Database from "better-sqlite3";
import { TextlockError } from "../errors/textlock-error.js";
import { SqliteSessionStore } from "../sessions/session-store.js";
import type { GroupCommit, GroupCommitOptions, GroupCommitStats } from "../storage/group-commit.js";
import { SqliteFile } from "../storage/sqlite-file.js";
import type { WalSync } from "../storage/wal-sync.js";
import { SqliteRefreshTokenStore } from "../tokens/refresh-token-store.js";
import { applyLogin, applyPatch, newUserProfile } from "./profile.js";
import { namedParams, userSearchOrder, userSearchWhere } from "./sql-query.js";
import type { ListUsersOptions, NewUserFields, User, UserPatch, UserSearchOptions, UserStore } from "./user-store.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  user_id      TEXT PRIMARY KEY,
  connection   TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  profile      TEXT NOT NULL,
  UNIQUE (connection, phone_number)
);
CREATE INDEX IF NOT EXISTS users_created ON users (created_at, user_id);
`;

/**
 * The embedded durable user store on one SQLite file. WAL with `synchronous=FULL`: a user is on disk
 * when `create` resolves, so a token is never issued for a record a crash could lose. The unique
 * (connection, phone_number) index with `INSERT … ON CONFLICT DO NOTHING` makes concurrent first logins
 * (also from several processes on the same file) converge on one user.
 *
 * Writes of concurrent requests are group-committed ({@link GroupCommit}): they share one transaction and
 * one fsync of the WAL, taken off the event loop ({@link WalSync}), and each resolves once that
 * transaction is on disk.
 */
export class SqliteUserStore implements UserStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly writes: GroupCommit<Database.Database>;
  private readonly file: SqliteFile;
  private readonly release: () => Promise<void>;

  /** `file`: a path, or a {@link SqliteFile} shared with other stores (its group commit options apply). */
  constructor(file: string | SqliteFile, groupCommit: GroupCommitOptions = {}) {
    const held = SqliteFile.hold(file, groupCommit);
    this.file = held.file;
    this.release = held.release;
    this.db = this.file.db;
    this.writes = this.file.writes;
    this.db.exec(SCHEMA);
    this.statements = {
      byPhone: this.db.prepare<[string, string], { profile: string }>(
        "SELECT profile FROM users WHERE connection = ? AND phone_number = ?",
      ),
      byId: this.db.prepare<[string], { profile: string }>("SELECT profile FROM users WHERE user_id = ?"),
      insert: this.db.prepare(
        `INSERT INTO users (user_id, connection, phone_number, created_at, profile) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (connection, phone_number) DO NOTHING`,
      ),
      save: this.db.prepare("UPDATE users SET profile = ?, phone_number = ? WHERE user_id = ?"),
      // A login changes the profile only; naming phone_number would rewrite its unique index entry too.
      saveProfile: this.db.prepare("UPDATE users SET profile = ? WHERE user_id = ?"),
      remove: this.db.prepare("DELETE FROM users WHERE user_id = ?"),
      ping: this.db.prepare("SELECT 1 FROM users LIMIT 1"),
      list: this.db.prepare<[string | null, string | null, number, number], { profile: string }>(
        `SELECT profile FROM users WHERE (? IS NULL OR connection = ?) ORDER BY created_at, user_id LIMIT ? OFFSET ?`,
      ),
    };
  }

  /** The connection (shared with the refresh tokens and sessions kept in this file). */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * The refresh tokens in this file, sharing its connection and group commit (as the PostgreSQL
   * store's `refreshTokenStore()` shares its pool).
   */
  refreshTokenStore(): SqliteRefreshTokenStore {
    return new SqliteRefreshTokenStore(this.file);
  }

  /** The login sessions in this file, sharing its connection and group commit. */
  sessionStore(now?: () => number): SqliteSessionStore {
    return new SqliteSessionStore(this.file, now);
  }

  // The lookups of every start and login: batched with the other reads of the turn ({@link ReadBatch}).
  findByPhone(connection: string, phone: string): Promise<User | undefined> {
    return this.file.reads.run(() => parse(this.statements.byPhone.get(connection, phone)));
  }

  findById(userId: string): Promise<User | undefined> {
    return this.file.reads.run(() => parse(this.statements.byId.get(userId)));
  }

  async create(connection: string, phone: string, fields?: NewUserFields): Promise<{ user: User; created: boolean }> {
    const candidate = newUserProfile(connection, phone, fields);
    return this.writes.run(() => {
      const result = this.statements.insert.run(
        candidate.user_id,
        connection,
        phone,
        candidate.created_at,
        JSON.stringify(candidate),
      );
      if (result.changes === 1) return { user: candidate, created: true };
      return { user: parse(this.statements.byPhone.get(connection, phone))!, created: false };
    });
  }

  async recordLogin(userId: string, facts: { ip?: string; at: Date }): Promise<User> {
    return this.change(userId, (u) => applyLogin(u, facts));
  }

  async update(userId: string, patch: UserPatch): Promise<User> {
    return this.change(userId, (u) => applyPatch(u, patch));
  }

  async list(options: ListUsersOptions = {}): Promise<User[]> {
    const { limit = 50, offset = 0, connection = null } = options;
    return this.statements.list.all(connection, connection, Math.min(limit, 1000), offset).map((row) => parse(row)!);
  }

  async search(options: UserSearchOptions): Promise<{ users: User[]; total: number }> {
    const where = userSearchWhere("sqlite", options);
    const order = userSearchOrder("sqlite", options.sort);
    const read = this.db.transaction(() => {
      const params = namedParams(where);
      const rows = this.db
        .prepare<[Record<string, unknown>], { profile: string }>(
          `SELECT profile FROM users WHERE ${where.sql} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
        )
        .all({ ...params, limit: options.limit, offset: options.offset });
      const { n } = this.db
        .prepare<[Record<string, unknown>], { n: number }>(`SELECT count(*) AS n FROM users WHERE ${where.sql}`)
        .get(params)!;
      return { users: rows.map((r) => parse(r)!), total: n };
    });
    return read();
  }

  /** A read on the file's connection (it fails once the connection is closed or the file is gone bad). */
  async ping(): Promise<void> {
    this.statements.ping.get();
  }

  async delete(userId: string): Promise<boolean> {
    return this.writes.run(() => this.statements.remove.run(userId).changes > 0);
  }

  /** Group-commit counters: transactions committed, writes, the largest batch. */
  get writeStats(): GroupCommitStats {
    return { ...this.writes.stats };
  }

  async close(): Promise<void> {
    await this.release();
  }

  /**
   * Read-modify-write inside the batch's IMMEDIATE transaction (which holds SQLite's write lock), so
   * concurrent writers, also in other processes, never lose an update.
   */
  private change(userId: string, update: (u: User) => User): Promise<User> {
    return this.writes.run(() => {
      const user = parse(this.statements.byId.get(userId));
      if (!user) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
      const next = update(user);
      try {
        if (next.phone_number === user.phone_number) this.statements.saveProfile.run(JSON.stringify(next), userId);
        else this.statements.save.run(JSON.stringify(next), next.phone_number, userId);
      } catch (err) {
        if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE")
          throw new TextlockError("ERR_MGMT_PHONE_CONFLICT");
        throw err;
      }
      return next;
    });
  }
}

function parse(row: { profile: string } | undefined): User | undefined {
  return row ? (JSON.parse(row.profile) as User) : undefined;
}
