import type pg from "pg";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { Logger } from "../logger.js";
import type { AuditStore, LogSearch, OutboxBatch, StreamStatus } from "./audit-store.js";
import { type LogEntry, logIdOf, type NewLogEntry } from "./log-entry.js";
import { whereOf } from "./log-filter-sql.js";

/** Ordered migrations of the audit tables, recorded in the user store's `textlock_migrations`. */
const MIGRATIONS: Array<[id: string, sql: string]> = [
  [
    "audit_001_log_and_outbox",
    `CREATE TABLE IF NOT EXISTS textlock_audit_log (
       seq        BIGSERIAL PRIMARY KEY,
       date       TIMESTAMPTZ NOT NULL,
       type       TEXT NOT NULL,
       user_id    TEXT,
       client_id  TEXT,
       connection TEXT,
       ip         TEXT,
       entry      JSONB NOT NULL,
       txid       XID8 NOT NULL DEFAULT pg_current_xact_id()
     );
     CREATE INDEX IF NOT EXISTS textlock_audit_log_date ON textlock_audit_log (date);
     CREATE INDEX IF NOT EXISTS textlock_audit_log_user ON textlock_audit_log (user_id, seq);
     CREATE INDEX IF NOT EXISTS textlock_audit_log_type ON textlock_audit_log (type, seq);
     CREATE TABLE IF NOT EXISTS textlock_log_stream_outbox (
       stream   TEXT NOT NULL,
       seq      BIGINT NOT NULL,
       attempts INT NOT NULL DEFAULT 0,
       dead     BOOLEAN NOT NULL DEFAULT false,
       txid     XID8 NOT NULL DEFAULT pg_current_xact_id(),
       PRIMARY KEY (stream, seq)
     );
     CREATE TABLE IF NOT EXISTS textlock_log_stream_state (
       stream          TEXT PRIMARY KEY,
       owner           TEXT,
       lease_until     BIGINT NOT NULL DEFAULT 0,
       next_attempt_at BIGINT NOT NULL DEFAULT 0,
       last_error      TEXT,
       delivered       BIGINT NOT NULL DEFAULT 0,
       dead_letters    BIGINT NOT NULL DEFAULT 0
     );`,
  ],
];

interface Row {
  seq: string;
  entry: NewLogEntry;
}

const toEntry = (row: Row): LogEntry => ({ log_id: logIdOf(Number(row.seq)), ...row.entry });

/**
 * Rows whose writing transaction is older than every transaction still running: no row with a smaller
 * sequence number can commit after them. Sequence numbers are drawn before commit, so without this a
 * reader could see seq 7 (committed) while seq 6 (another process) is still in flight, and skip it.
 */
const SETTLED = "txid < pg_snapshot_xmin(pg_current_snapshot())";

/**
 * The audit log and stream outbox in the user store's PostgreSQL database (and pool), shared by every
 * process. A batch of records and its outbox rows commit in one transaction. A stream's lease is one
 * conditional `UPDATE` of its state row (row-locked, so of processes racing for it exactly one wins);
 * only the holder reads and sends the stream's rows, and only settled ones (see {@link SETTLED}), which
 * keeps a stream, and `from`/`take` paging, in log_id order across processes.
 */
export class PostgresAuditStore implements AuditStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  /** Opens on a pool owned by the caller (closing this store leaves the pool open). */
  static async open(pool: pg.Pool, logger: Logger): Promise<PostgresAuditStore> {
    const store = new PostgresAuditStore(pool, logger);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(727275)");
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
      await client.query("SELECT pg_advisory_unlock(727275)").catch(() => {});
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): TextlockError {
    if (isTextlockError(err)) return err;
    this.logger.warn({ err: { message: (err as Error).message } }, "audit store unavailable");
    return new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
  }

  async append(records: ReadonlyArray<{ entry: NewLogEntry; streams: readonly string[] }>): Promise<LogEntry[]> {
    if (!records.length) return [];
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.unavailable(err);
    }
    try {
      // Written after the answer they describe: nobody waits on this commit's WAL flush, so it is an
      // asynchronous commit (on disk within PostgreSQL's wal_writer_delay, 3 × 200 ms at most by default;
      // a crash of the server, not of textlock, can lose that window).
      await client.query("BEGIN; SET LOCAL synchronous_commit = off");
      const params: unknown[] = [];
      const values = records.map(({ entry }) => {
        const at = params.length;
        params.push(
          entry.date,
          entry.type,
          entry.user_id ?? null,
          entry.client_id ?? null,
          entry.connection ?? null,
          entry.ip ?? null,
          entry,
        );
        return `(${[1, 2, 3, 4, 5, 6, 7].map((i) => `$${at + i}`).join(", ")})`;
      });
      const { rows } = await client.query<{ seq: string }>(
        `INSERT INTO textlock_audit_log (date, type, user_id, client_id, connection, ip, entry) VALUES ${values.join(", ")} RETURNING seq`,
        params,
      );
      // One statement draws its sequence numbers in VALUES order.
      const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
      const streams: string[] = [];
      const outboxSeqs: number[] = [];
      records.forEach((r, i) => {
        for (const s of r.streams) {
          streams.push(s);
          outboxSeqs.push(seqs[i]!);
        }
      });
      if (streams.length) {
        await client.query(
          `INSERT INTO textlock_log_stream_outbox (stream, seq) SELECT * FROM unnest($1::text[], $2::bigint[])
           ON CONFLICT DO NOTHING`,
          [streams, outboxSeqs],
        );
      }
      await client.query("COMMIT");
      return records.map((r, i) => ({ log_id: logIdOf(seqs[i]!), ...r.entry }));
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw this.unavailable(err);
    } finally {
      client.release();
    }
  }

  async search({ filter = {}, order = -1, offset = 0, limit = 50 }: LogSearch) {
    const where = whereOf(filter, (i) => `$${i}`);
    const n = where.params.length;
    const [count, page] = await Promise.all([
      this.query<{ n: string }>(`SELECT count(*) AS n FROM textlock_audit_log ${where.sql}`, where.params),
      this.query<Row>(
        `SELECT seq, entry FROM textlock_audit_log ${where.sql} ORDER BY seq ${order === 1 ? "ASC" : "DESC"} LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...where.params, limit, offset],
      ),
    ]);
    return { logs: page.rows.map(toEntry), total: Number(count.rows[0]!.n) };
  }

  async after(fromSeq: number, take: number): Promise<LogEntry[]> {
    const { rows } = await this.query<Row>(
      `SELECT seq, entry FROM textlock_audit_log WHERE seq > $1 AND ${SETTLED} ORDER BY seq LIMIT $2`,
      [fromSeq, take],
    );
    return rows.map(toEntry);
  }

  async purge(beforeIso: string): Promise<number> {
    await this.query(
      "DELETE FROM textlock_log_stream_outbox WHERE seq IN (SELECT seq FROM textlock_audit_log WHERE date < $1)",
      [beforeIso],
    );
    return (await this.query("DELETE FROM textlock_audit_log WHERE date < $1", [beforeIso])).rowCount ?? 0;
  }

  async claim(
    stream: string,
    owner: string,
    leaseMs: number,
    limit: number,
    now: number,
  ): Promise<OutboxBatch | undefined> {
    await this.query("INSERT INTO textlock_log_stream_state (stream) VALUES ($1) ON CONFLICT DO NOTHING", [stream]);
    const leased = await this.query(
      `UPDATE textlock_log_stream_state SET owner = $2, lease_until = $3
        WHERE stream = $1 AND (owner IS NULL OR owner = $2 OR lease_until <= $4) AND next_attempt_at <= $4`,
      [stream, owner, now + leaseMs, now],
    );
    if (!leased.rowCount) return undefined;
    const { rows } = await this.query<Row & { attempts: number }>(
      `SELECT o.seq, o.attempts, a.entry FROM textlock_log_stream_outbox o
         JOIN textlock_audit_log a ON a.seq = o.seq
        WHERE o.stream = $1 AND NOT o.dead AND o.${SETTLED} ORDER BY o.seq LIMIT $2`,
      [stream, limit],
    );
    if (!rows.length) return undefined;
    return { entries: rows.map(toEntry), attempts: rows[0]!.attempts };
  }

  async ack(stream: string, seqs: readonly number[]): Promise<void> {
    const { rowCount } = await this.query(
      "DELETE FROM textlock_log_stream_outbox WHERE stream = $1 AND seq = ANY($2::bigint[])",
      [stream, seqs],
    );
    await this.query(
      "UPDATE textlock_log_stream_state SET delivered = delivered + $2, last_error = NULL WHERE stream = $1",
      [stream, rowCount ?? 0],
    );
  }

  async retry(stream: string, seqs: readonly number[], nextAttemptAt: number, error: string): Promise<void> {
    await this.query(
      "UPDATE textlock_log_stream_outbox SET attempts = attempts + 1 WHERE stream = $1 AND seq = ANY($2::bigint[])",
      [stream, seqs],
    );
    await this.query("UPDATE textlock_log_stream_state SET next_attempt_at = $2, last_error = $3 WHERE stream = $1", [
      stream,
      nextAttemptAt,
      error,
    ]);
  }

  async deadLetter(stream: string, seqs: readonly number[], error: string): Promise<void> {
    const { rowCount } = await this.query(
      `UPDATE textlock_log_stream_outbox SET dead = true, attempts = attempts + 1
        WHERE stream = $1 AND NOT dead AND seq = ANY($2::bigint[])`,
      [stream, seqs],
    );
    await this.query(
      "UPDATE textlock_log_stream_state SET dead_letters = dead_letters + $2, next_attempt_at = 0, last_error = $3 WHERE stream = $1",
      [stream, rowCount ?? 0, error],
    );
  }

  async release(stream: string, owner: string): Promise<void> {
    await this.query(
      "UPDATE textlock_log_stream_state SET owner = NULL, lease_until = 0 WHERE stream = $1 AND owner = $2",
      [stream, owner],
    );
  }

  async status(stream: string): Promise<StreamStatus> {
    const [state, pending] = await Promise.all([
      this.query<{ next_attempt_at: string; last_error: string | null; delivered: string; dead_letters: string }>(
        "SELECT next_attempt_at, last_error, delivered, dead_letters FROM textlock_log_stream_state WHERE stream = $1",
        [stream],
      ),
      this.query<{ n: string }>("SELECT count(*) AS n FROM textlock_log_stream_outbox WHERE stream = $1 AND NOT dead", [
        stream,
      ]),
    ]);
    const s = state.rows[0];
    const next = Number(s?.next_attempt_at ?? 0);
    return {
      stream,
      pending: Number(pending.rows[0]!.n),
      deadLetters: Number(s?.dead_letters ?? 0),
      delivered: Number(s?.delivered ?? 0),
      ...(s?.last_error ? { lastError: s.last_error } : {}),
      ...(next > Date.now() ? { nextAttemptAt: next } : {}),
    };
  }

  async close(): Promise<void> {}
}
