import type Database from "better-sqlite3";
import { TextlockError } from "../errors/textlock-error.js";
import { evalScript, type RedisEval } from "../protection/redis-eval.js";
import type { GroupCommit, GroupCommitStats } from "../storage/group-commit.js";
import type { ReadBatch } from "../storage/read-batch.js";
import { SqliteFile } from "../storage/sqlite-file.js";

/**
 * A browser's login session (Auth0's SSO session): who logged in, how and when. Kept server-side under
 * its public id (`sid`, also the id_token's `sid` claim); the browser's cookie carries the id and a
 * secret whose SHA-256 is stored here, so a copy of the store never yields a usable cookie.
 */
export interface LoginSession {
  sid: string;
  secretHash: string;
  userId: string;
  connection: string;
  /** When the person typed the code, epoch ms (the id_token's `auth_time`). */
  authTime: number;
  /** Absolute end (`login.sessionSeconds` after the login), epoch ms. */
  expiresAt: number;
  /** Idle end, pushed forward by each use up to `expiresAt`, epoch ms. */
  idleExpiresAt: number;
  /** Custom claims the post-login hook set at the login, given again to tokens the session answers. */
  claims: { idToken: Record<string, unknown>; accessToken: Record<string, unknown> };
  /** Clients the session has answered (for back-channel logout and the Management API). */
  clients: string[];
}

/**
 * Where login sessions live. They follow the durable store (memory, SQLite, or PostgreSQL, which every
 * process shares), so a session outlives a restart like the refresh tokens do; Redis is an option.
 */
export interface SessionStore {
  /** Saves (or replaces) a session; it disappears by itself at `min(idleExpiresAt, expiresAt)`. */
  save(session: LoginSession): Promise<void>;
  get(sid: string): Promise<LoginSession | undefined>;
  /** Ends one session; true when it existed. */
  delete(sid: string): Promise<boolean>;
  /** Ends every session of a user (blocked or deleted user, "log out everywhere"); the number ended. */
  deleteByUser(userId: string): Promise<number>;
  /** Deletes sessions that ended before `now` (epoch ms); stores that expire entries themselves omit it. */
  purgeExpired?(now: number): Promise<number>;
  close?(): Promise<void>;
}

const endOf = (s: LoginSession) => Math.min(s.idleExpiresAt, s.expiresAt);

/** In-process sessions, bounded in number (the oldest go first when full). */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, LoginSession>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxSessions = 100_000,
  ) {}

  async save(session: LoginSession): Promise<void> {
    this.sessions.delete(session.sid);
    if (this.sessions.size >= this.maxSessions) this.sweep();
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(session.sid, structuredClone(session));
  }

  async get(sid: string): Promise<LoginSession | undefined> {
    const session = this.sessions.get(sid);
    if (!session) return undefined;
    if (endOf(session) <= this.now()) {
      this.sessions.delete(sid);
      return undefined;
    }
    return structuredClone(session);
  }

  async delete(sid: string): Promise<boolean> {
    return this.sessions.delete(sid);
  }

  async deleteByUser(userId: string): Promise<number> {
    let ended = 0;
    for (const [sid, s] of this.sessions) if (s.userId === userId && this.sessions.delete(sid)) ended++;
    return ended;
  }

  async purgeExpired(now: number): Promise<number> {
    let purged = 0;
    for (const [sid, s] of this.sessions) if (endOf(s) <= now && this.sessions.delete(sid)) purged++;
    return purged;
  }

  private sweep(): void {
    void this.purgeExpired(this.now());
  }
}

// Every script touches one key, so the store works unchanged on Redis Cluster. The user index (a set of
// the user's sids, living as long as the user's longest session) is written before the session, so
// `deleteByUser` never misses one; a member whose session is gone costs one no-op DEL.
const SET_PX = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`;
const INDEX_ADD = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;
const TAKE = `local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v`;

/** Sessions in Redis (when the code store is Redis), so a session started on one process works on all. */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly client: RedisEval,
    private readonly namespace: string,
    private readonly now: () => number = Date.now,
  ) {}

  private sessionKey(sid: string) {
    return `${this.namespace}:session:${sid}`;
  }

  private userKey(userId: string) {
    return `${this.namespace}:user-sessions:${userId}`;
  }

  private async call(script: string, key: string, args: string[] = []): Promise<unknown> {
    try {
      return await evalScript(this.client, script, { keys: [key], arguments: args });
    } catch (err) {
      throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
    }
  }

  async save(session: LoginSession): Promise<void> {
    const now = this.now();
    await this.call(INDEX_ADD, this.userKey(session.userId), [
      session.sid,
      String(Math.max(1, session.expiresAt - now)),
    ]);
    await this.call(SET_PX, this.sessionKey(session.sid), [
      JSON.stringify(session),
      String(Math.max(1, endOf(session) - now)),
    ]);
  }

  async get(sid: string): Promise<LoginSession | undefined> {
    const raw = await this.call(`return redis.call('GET', KEYS[1])`, this.sessionKey(sid));
    if (typeof raw !== "string") return undefined;
    const session = JSON.parse(raw) as LoginSession;
    return endOf(session) > this.now() ? session : undefined;
  }

  async delete(sid: string): Promise<boolean> {
    const raw = await this.call(TAKE, this.sessionKey(sid));
    if (typeof raw !== "string") return false;
    const { userId } = JSON.parse(raw) as LoginSession;
    await this.call(`return redis.call('SREM', KEYS[1], ARGV[1])`, this.userKey(userId), [sid]);
    return true;
  }

  async deleteByUser(userId: string): Promise<number> {
    const sids = (await this.call(`return redis.call('SMEMBERS', KEYS[1])`, this.userKey(userId))) as string[];
    let ended = 0;
    for (const sid of sids ?? [])
      ended += Number(await this.call(`return redis.call('DEL', KEYS[1])`, this.sessionKey(sid)));
    await this.call(`return redis.call('DEL', KEYS[1])`, this.userKey(userId));
    return ended;
  }
}

/**
 * Sessions in SQLite (the embedded default): by default in the users' file, sharing its connection and
 * group commit (`SqliteUserStore.sessionStore()`), or in a file of their own. They survive a restart.
 * Saves of concurrent logins are group-committed with the file's other writes (one transaction, one
 * fsync), each resolving once on disk.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly writes: GroupCommit<Database.Database>;
  private readonly reads: ReadBatch;
  private readonly release: () => Promise<void>;
  private readonly upsert;
  private readonly select;
  private readonly remove;
  private readonly removeUser;
  private readonly purge;

  /** `file`: a path, or a {@link SqliteFile} shared with other stores. */
  constructor(
    file: string | SqliteFile,
    private readonly now: () => number = Date.now,
  ) {
    const held = SqliteFile.hold(file);
    this.release = held.release;
    this.db = held.file.db;
    this.writes = held.file.writes;
    this.reads = held.file.reads;
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS login_sessions (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, record TEXT NOT NULL, ends_at INTEGER NOT NULL);
       CREATE INDEX IF NOT EXISTS login_sessions_user ON login_sessions (user_id);
       CREATE INDEX IF NOT EXISTS login_sessions_end ON login_sessions (ends_at);`,
    );
    this.upsert = this.db.prepare<[string, string, string, number]>(
      "INSERT INTO login_sessions (sid, user_id, record, ends_at) VALUES (?, ?, ?, ?) ON CONFLICT (sid) DO UPDATE SET record = excluded.record, ends_at = excluded.ends_at",
    );
    this.select = this.db.prepare<[string, number], { record: string }>(
      "SELECT record FROM login_sessions WHERE sid = ? AND ends_at > ?",
    );
    this.remove = this.db.prepare<[string]>("DELETE FROM login_sessions WHERE sid = ?");
    this.removeUser = this.db.prepare<[string]>("DELETE FROM login_sessions WHERE user_id = ?");
    this.purge = this.db.prepare<[number]>("DELETE FROM login_sessions WHERE ends_at <= ?");
  }

  async save(session: LoginSession): Promise<void> {
    await this.writes.run(() => this.upsert.run(session.sid, session.userId, JSON.stringify(session), endOf(session)));
  }

  async get(sid: string): Promise<LoginSession | undefined> {
    const row = await this.reads.run(() => this.select.get(sid, this.now()));
    return row ? (JSON.parse(row.record) as LoginSession) : undefined;
  }

  // Deletes go through the group commit too: durable before they resolve, without blocking the loop.
  async delete(sid: string): Promise<boolean> {
    return this.writes.run(() => this.remove.run(sid).changes > 0);
  }

  async deleteByUser(userId: string): Promise<number> {
    return this.writes.run(() => this.removeUser.run(userId).changes);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.writes.run(() => this.purge.run(now).changes);
  }

  /** Group-commit counters of the file (every store in it): transactions committed, writes, the largest batch. */
  get writeStats(): GroupCommitStats {
    return { ...this.writes.stats };
  }

  async close(): Promise<void> {
    await this.release();
  }
}
