import type Database from "better-sqlite3";
import type { GroupCommit, GroupCommitOptions, GroupCommitStats } from "../storage/group-commit.js";
import type { ReadBatch } from "../storage/read-batch.js";
import { SqliteFile } from "../storage/sqlite-file.js";

/** What a refresh token stands for. The token itself is never stored, only its SHA-256. */
export interface RefreshRecord {
  user_id: string;
  client_id: string;
  connection: string;
  scope: string;
  audience?: string;
  /**
   * The token family: the id of the login that started the chain of rotations. Every token of a family
   * is revoked at once (reuse of a rotated token, `/oauth/revoke`, a blocked user). Records saved before
   * families existed have none; their family is then their own hash.
   */
  family?: string;
  /** Epoch ms: the family's absolute expiry (fixed at login, not extended by rotation). */
  expiresAt: number;
  /** Epoch ms: the idle expiry of this token (`tokens.refreshTokenIdleSeconds`), renewed by each rotation. */
  idleExpiresAt?: number;
  /** Epoch ms: when the person logged in (the id_token's `auth_time`, kept across rotations). */
  authTime?: number;
  /** The login session the family was issued in (the id_token's `sid`, kept across rotations). */
  sid?: string;
  /** The token was already redeemed (rotated); kept until the family expires so a reuse is detected. */
  used?: boolean;
}

/** What redeeming a token found: a fresh record (now marked used), or a reuse (the family is already revoked). */
export interface RedeemResult {
  record: RefreshRecord;
  /** The token had already been redeemed: the store has revoked its whole family. */
  reused: boolean;
}

/**
 * Refresh tokens by hash, in families. `use` marks a record used in one atomic step, so a refresh token
 * is redeemed once: of two concurrent refreshes, one gets new tokens; the other is a reuse, which
 * revokes (deletes) every token of the family.
 *
 * A revoked family leaves a marker (until the family would have expired), written before its tokens are
 * deleted; `save` checks for it after writing. So the token the winner of a race saves after the loser
 * revoked the family is removed again: whichever of the two steps comes last sees the other's write.
 */
export interface RefreshTokenStore {
  save(hash: string, record: RefreshRecord): Promise<void>;
  /** Redeems a token: marks it used and returns it; a token already used revokes its family (`reused: true`). */
  use(hash: string): Promise<RedeemResult | undefined>;
  /** The record of a token (used or not), without changing it. */
  find(hash: string): Promise<RefreshRecord | undefined>;
  /** Deletes every token of a family, now and saved later (kept as revoked until `expiresAt`, epoch ms). */
  revokeFamily(family: string, expiresAt: number): Promise<void>;
  /** Deletes every token of a user (blocked users). */
  revokeUser(userId: string): Promise<void>;
  /**
   * Deletes records (tokens, used or not, and revoked-family markers) whose family expired before
   * `now` (epoch ms); the number deleted. textlock calls it every `tokens.purgeIntervalSeconds`.
   * Optional for stores written before it existed.
   */
  purgeExpired?(now: number): Promise<number>;
  close(): Promise<void>;
}

/** The family of a record (older records without one form a family of their own). */
export const familyOf = (hash: string, record: RefreshRecord) => record.family ?? hash;

/** The key of a revoked family's marker (never a token hash: those are base64url, without `:`). */
export const revokedKey = (family: string) => `revoked:${family}`;

/** The families of a user's records, with the latest expiry of each. */
export function familiesOf(rows: Array<{ hash: string; record: RefreshRecord }>): Map<string, number> {
  const families = new Map<string, number>();
  for (const { hash, record } of rows) {
    const family = familyOf(hash, record);
    families.set(family, Math.max(families.get(family) ?? 0, record.expiresAt));
  }
  return families;
}

export class MemoryRefreshTokenStore implements RefreshTokenStore {
  private readonly records = new Map<string, RefreshRecord>();
  /** Revoked families, with when they would have expired. */
  private readonly revoked = new Map<string, number>();

  async save(hash: string, record: RefreshRecord): Promise<void> {
    const family = familyOf(hash, record);
    if (this.revoked.has(family)) return;
    this.records.set(hash, { ...record, family });
  }

  async use(hash: string): Promise<RedeemResult | undefined> {
    const record = this.records.get(hash);
    if (!record) return undefined;
    if (record.used) {
      await this.revokeFamily(familyOf(hash, record), record.expiresAt);
      return { record, reused: true };
    }
    this.records.set(hash, { ...record, used: true });
    return { record, reused: false };
  }

  async find(hash: string): Promise<RefreshRecord | undefined> {
    return this.records.get(hash);
  }

  async revokeFamily(family: string, expiresAt: number): Promise<void> {
    this.revoked.set(family, Math.max(this.revoked.get(family) ?? 0, expiresAt));
    for (const [hash, r] of this.records) if (r.family === family) this.records.delete(hash);
  }

  async revokeUser(userId: string): Promise<void> {
    const rows = [...this.records].filter(([, r]) => r.user_id === userId).map(([hash, record]) => ({ hash, record }));
    for (const [family, expiresAt] of familiesOf(rows)) await this.revokeFamily(family, expiresAt);
  }

  async purgeExpired(now: number): Promise<number> {
    let purged = 0;
    for (const [hash, r] of this.records) if (r.expiresAt < now && this.records.delete(hash)) purged++;
    for (const [family, expiresAt] of this.revoked) if (expiresAt < now && this.revoked.delete(family)) purged++;
    return purged;
  }

  async close(): Promise<void> {}
}

/**
 * Refresh tokens in SQLite, durable across restarts: by default in the users' file, sharing its
 * connection and group commit (`SqliteUserStore.refreshTokenStore()`), or in a file of their own. Saves
 * and redemptions of concurrent requests are group-committed (one transaction, one fsync) with the
 * other writes to that file; each resolves once on disk.
 */
export class SqliteRefreshTokenStore implements RefreshTokenStore {
  private readonly db: Database.Database;
  private readonly writes: GroupCommit<Database.Database>;
  private readonly reads: ReadBatch;
  private readonly release: () => Promise<void>;
  private readonly insert;
  private readonly markUsed;
  private readonly select;
  private readonly deleteFamily;
  private readonly selectUser;
  private readonly revokedMarker;
  private readonly remove;
  private readonly purge;

  /** `file`: a path, or a {@link SqliteFile} shared with other stores (its group commit options apply). */
  constructor(file: string | SqliteFile, groupCommit: GroupCommitOptions = {}) {
    const held = SqliteFile.hold(file, groupCommit);
    this.release = held.release;
    this.db = held.file.db;
    this.writes = held.file.writes;
    this.reads = held.file.reads;
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL);
       CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (json_extract(record, '$.family'));
       CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (json_extract(record, '$.user_id'));`,
    );
    this.insert = this.db.prepare("INSERT OR REPLACE INTO refresh_tokens (hash, record, expires_at) VALUES (?, ?, ?)");
    this.markUsed = this.db.prepare<[string], { record: string }>(
      "UPDATE refresh_tokens SET record = json_set(record, '$.used', json('true')) WHERE hash = ? AND coalesce(json_extract(record, '$.used'), 0) = 0 RETURNING record",
    );
    this.select = this.db.prepare<[string], { record: string }>("SELECT record FROM refresh_tokens WHERE hash = ?");
    this.deleteFamily = this.db.prepare<[string, string, string]>(
      "DELETE FROM refresh_tokens WHERE (json_extract(record, '$.family') = ? OR hash = ?) AND hash <> ?",
    );
    this.selectUser = this.db.prepare<[string], { hash: string; record: string }>(
      "SELECT hash, record FROM refresh_tokens WHERE json_extract(record, '$.user_id') = ?",
    );
    this.revokedMarker = this.db.prepare<[string], { hash: string }>("SELECT hash FROM refresh_tokens WHERE hash = ?");
    this.remove = this.db.prepare<[string]>("DELETE FROM refresh_tokens WHERE hash = ?");
    this.purge = this.db.prepare<[number]>("DELETE FROM refresh_tokens WHERE expires_at < ?");
  }

  async save(hash: string, record: RefreshRecord): Promise<void> {
    const family = familyOf(hash, record);
    await this.writes.run(() => this.insert.run(hash, JSON.stringify({ ...record, family }), record.expiresAt));
    // Checked after the token is committed, as the store contract requires (see RefreshTokenStore).
    if (await this.reads.run(() => this.revokedMarker.get(revokedKey(family)))) this.remove.run(hash);
  }

  async use(hash: string): Promise<RedeemResult | undefined> {
    const fresh = await this.writes.run(() => this.markUsed.get(hash));
    if (fresh) return { record: { ...(JSON.parse(fresh.record) as RefreshRecord), used: false }, reused: false };
    const record = await this.find(hash);
    if (!record) return undefined;
    await this.revokeFamily(familyOf(hash, record), record.expiresAt);
    return { record, reused: true };
  }

  async find(hash: string): Promise<RefreshRecord | undefined> {
    const row = await this.reads.run(() => this.select.get(hash));
    return row ? (JSON.parse(row.record) as RefreshRecord) : undefined;
  }

  async revokeFamily(family: string, expiresAt: number): Promise<void> {
    const marker = revokedKey(family);
    // One group-committed op: the marker and the family's deletion in one transaction, durable before
    // this resolves, without blocking the loop for the fsync.
    await this.writes.run(() => {
      this.insert.run(marker, JSON.stringify({ family, revoked: true }), expiresAt);
      this.deleteFamily.run(family, family, marker);
    });
  }

  async revokeUser(userId: string): Promise<void> {
    const rows = this.selectUser
      .all(userId)
      .map((r) => ({ hash: r.hash, record: JSON.parse(r.record) as RefreshRecord }));
    for (const [family, expiresAt] of familiesOf(rows)) await this.revokeFamily(family, expiresAt);
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
