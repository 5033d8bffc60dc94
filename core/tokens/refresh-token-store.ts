import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** What a refresh token stands for. The token itself is never stored, only its SHA-256. */
export interface RefreshRecord {
  user_id: string;
  client_id: string;
  connection: string;
  scope: string;
  audience?: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Refresh tokens by hash. `take` removes and returns a record in one atomic step, so a refresh token
 * can be redeemed once: of two concurrent refreshes, one gets new tokens and the other is refused.
 */
export interface RefreshTokenStore {
  save(hash: string, record: RefreshRecord): Promise<void>;
  take(hash: string): Promise<RefreshRecord | undefined>;
  close(): Promise<void>;
}

export class MemoryRefreshTokenStore implements RefreshTokenStore {
  private readonly records = new Map<string, RefreshRecord>();

  async save(hash: string, record: RefreshRecord): Promise<void> {
    this.records.set(hash, record);
  }

  async take(hash: string): Promise<RefreshRecord | undefined> {
    const record = this.records.get(hash);
    this.records.delete(hash);
    return record;
  }

  async close(): Promise<void> {}
}

/** Refresh tokens in a SQLite file beside the users, durable across restarts. */
export class SqliteRefreshTokenStore implements RefreshTokenStore {
  private readonly db: Database.Database;
  private readonly insert;
  private readonly remove;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL)",
    );
    this.insert = this.db.prepare("INSERT OR REPLACE INTO refresh_tokens (hash, record, expires_at) VALUES (?, ?, ?)");
    this.remove = this.db.prepare<[string], { record: string }>(
      "DELETE FROM refresh_tokens WHERE hash = ? RETURNING record",
    );
  }

  async save(hash: string, record: RefreshRecord): Promise<void> {
    this.insert.run(hash, JSON.stringify(record), record.expiresAt);
  }

  async take(hash: string): Promise<RefreshRecord | undefined> {
    const row = this.remove.get(hash);
    return row ? (JSON.parse(row.record) as RefreshRecord) : undefined;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
