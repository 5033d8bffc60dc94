import type Database from "better-sqlite3";
import { openSqlite } from "../storage/open-sqlite.js";
import { WalSync } from "../storage/wal-sync.js";
import type { AuditStore, LogSearch, OutboxBatch, StreamStatus } from "./audit-store.js";
import { type LogEntry, logIdOf, type NewLogEntry } from "./log-entry.js";
import { whereOf } from "./log-filter-sql.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  date       TEXT NOT NULL,
  type       TEXT NOT NULL,
  user_id    TEXT,
  client_id  TEXT,
  connection TEXT,
  ip         TEXT,
  entry      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_date ON audit_log (date);
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_log_type ON audit_log (type, seq);
CREATE TABLE IF NOT EXISTS log_stream_outbox (
  stream   TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  dead     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (stream, seq)
);
CREATE TABLE IF NOT EXISTS log_stream_state (
  stream          TEXT PRIMARY KEY,
  owner           TEXT,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  delivered       INTEGER NOT NULL DEFAULT 0,
  dead_letters    INTEGER NOT NULL DEFAULT 0
);
`;

/** How long committed audit records may wait for their fsync. */
const AUDIT_SYNC_MS = 200;

interface Row {
  seq: number;
  entry: string;
}

const toEntry = (row: Row): LogEntry => ({ log_id: logIdOf(row.seq), ...(JSON.parse(row.entry) as NewLogEntry) });

/**
 * The audit log and stream outbox in one SQLite file (`<dataDir>/audit.db` by default; WAL,
 * `synchronous=FULL`). Records and their outbox rows are written in one transaction; callers batch
 * records (group commit); an fsync, off the event loop ({@link WalSync}), follows within 200 ms. Several processes on one file share it:
 * stream leases are taken in an IMMEDIATE transaction.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly db: Database.Database;
  private readonly q;
  private readonly wal: WalSync;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(SCHEMA);
    this.wal = new WalSync(this.db);
    this.q = {
      insert: this.db.prepare<[string, string, string | null, string | null, string | null, string | null, string]>(
        "INSERT INTO audit_log (date, type, user_id, client_id, connection, ip, entry) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      queue: this.db.prepare<[string, number]>("INSERT OR IGNORE INTO log_stream_outbox (stream, seq) VALUES (?, ?)"),
      after: this.db.prepare<[number, number], Row>(
        "SELECT seq, entry FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
      ),
      ensureState: this.db.prepare<[string]>("INSERT OR IGNORE INTO log_stream_state (stream) VALUES (?)"),
      lease: this.db.prepare<[string, number, string, string, number, number]>(
        `UPDATE log_stream_state SET owner = ?, lease_until = ?
          WHERE stream = ? AND (owner IS NULL OR owner = ? OR lease_until <= ?) AND next_attempt_at <= ?`,
      ),
      pending: this.db.prepare<[string, number], Row & { attempts: number }>(
        `SELECT o.seq AS seq, o.attempts AS attempts, a.entry AS entry FROM log_stream_outbox o
           JOIN audit_log a ON a.seq = o.seq WHERE o.stream = ? AND o.dead = 0 ORDER BY o.seq LIMIT ?`,
      ),
      state: this.db.prepare<
        [string],
        { next_attempt_at: number; last_error: string | null; delivered: number; dead_letters: number }
      >("SELECT next_attempt_at, last_error, delivered, dead_letters FROM log_stream_state WHERE stream = ?"),
      countPending: this.db.prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM log_stream_outbox WHERE stream = ? AND dead = 0",
      ),
    };
  }

  async append(records: ReadonlyArray<{ entry: NewLogEntry; streams: readonly string[] }>): Promise<LogEntry[]> {
    const stored = await this.wal.commitAfterPause(() =>
      records.map(({ entry, streams }) => {
        const { lastInsertRowid } = this.q.insert.run(
          entry.date,
          entry.type,
          entry.user_id ?? null,
          entry.client_id ?? null,
          entry.connection ?? null,
          entry.ip ?? null,
          JSON.stringify(entry),
        );
        const seq = Number(lastInsertRowid);
        for (const stream of streams) this.q.queue.run(stream, seq);
        return { log_id: logIdOf(seq), ...entry };
      }),
    );
    // Records are written after the answer they describe, so nobody waits on their fsync: one fdatasync
    // (off the event loop) covers every batch of the next 200 ms. A crashed process loses nothing
    // committed; a power cut, at most that window.
    this.wal.flushSoon(AUDIT_SYNC_MS);
    return stored;
  }

  async search({ filter = {}, order = -1, offset = 0, limit = 50 }: LogSearch) {
    const where = whereOf(filter, () => "?");
    const total = (
      this.db.prepare(`SELECT count(*) AS n FROM audit_log ${where.sql}`).get(...where.params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(
        `SELECT seq, entry FROM audit_log ${where.sql} ORDER BY seq ${order === 1 ? "ASC" : "DESC"} LIMIT ? OFFSET ?`,
      )
      .all(...where.params, limit, offset) as Row[];
    return { logs: rows.map(toEntry), total };
  }

  async after(fromSeq: number, take: number): Promise<LogEntry[]> {
    return this.q.after.all(fromSeq, take).map(toEntry);
  }

  async purge(beforeIso: string): Promise<number> {
    const run = this.db.transaction(() => {
      this.db
        .prepare("DELETE FROM log_stream_outbox WHERE seq IN (SELECT seq FROM audit_log WHERE date < ?)")
        .run(beforeIso);
      return this.db.prepare("DELETE FROM audit_log WHERE date < ?").run(beforeIso).changes;
    });
    return run.immediate();
  }

  async claim(
    stream: string,
    owner: string,
    leaseMs: number,
    limit: number,
    now: number,
  ): Promise<OutboxBatch | undefined> {
    const run = this.db.transaction(() => {
      this.q.ensureState.run(stream);
      if (this.q.lease.run(owner, now + leaseMs, stream, owner, now, now).changes === 0) return undefined;
      const rows = this.q.pending.all(stream, limit);
      if (!rows.length) return undefined;
      return { entries: rows.map(toEntry), attempts: rows[0]!.attempts };
    });
    return run.immediate();
  }

  async ack(stream: string, seqs: readonly number[]): Promise<void> {
    const marks = seqs.map(() => "?").join(", ");
    this.db.transaction(() => {
      const { changes } = this.db
        .prepare(`DELETE FROM log_stream_outbox WHERE stream = ? AND seq IN (${marks})`)
        .run(stream, ...seqs);
      this.db
        .prepare("UPDATE log_stream_state SET delivered = delivered + ?, last_error = NULL WHERE stream = ?")
        .run(changes, stream);
    })();
  }

  async retry(stream: string, seqs: readonly number[], nextAttemptAt: number, error: string): Promise<void> {
    const marks = seqs.map(() => "?").join(", ");
    this.db.transaction(() => {
      this.db
        .prepare(`UPDATE log_stream_outbox SET attempts = attempts + 1 WHERE stream = ? AND seq IN (${marks})`)
        .run(stream, ...seqs);
      this.db
        .prepare("UPDATE log_stream_state SET next_attempt_at = ?, last_error = ? WHERE stream = ?")
        .run(nextAttemptAt, error, stream);
    })();
  }

  async deadLetter(stream: string, seqs: readonly number[], error: string): Promise<void> {
    const marks = seqs.map(() => "?").join(", ");
    this.db.transaction(() => {
      const { changes } = this.db
        .prepare(
          `UPDATE log_stream_outbox SET dead = 1, attempts = attempts + 1 WHERE stream = ? AND dead = 0 AND seq IN (${marks})`,
        )
        .run(stream, ...seqs);
      this.db
        .prepare(
          "UPDATE log_stream_state SET dead_letters = dead_letters + ?, next_attempt_at = 0, last_error = ? WHERE stream = ?",
        )
        .run(changes, error, stream);
    })();
  }

  async release(stream: string, owner: string): Promise<void> {
    this.db
      .prepare("UPDATE log_stream_state SET owner = NULL, lease_until = 0 WHERE stream = ? AND owner = ?")
      .run(stream, owner);
  }

  async status(stream: string): Promise<StreamStatus> {
    const s = this.q.state.get(stream);
    const pending = this.q.countPending.get(stream)?.n ?? 0;
    return {
      stream,
      pending,
      deadLetters: s?.dead_letters ?? 0,
      delivered: s?.delivered ?? 0,
      ...(s?.last_error ? { lastError: s.last_error } : {}),
      ...(s && s.next_attempt_at > Date.now() ? { nextAttemptAt: s.next_attempt_at } : {}),
    };
  }

  async close(): Promise<void> {
    await this.wal.close();
    if (this.db.open) this.db.close();
  }
}
