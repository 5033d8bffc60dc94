import type Database from "better-sqlite3";

/** Counters for the bench and tests. */
export interface ReadBatchStats {
  /** Reads asked for. */
  reads: number;
  /** Read transactions that ran more than one of them. */
  batches: number;
  /** Most reads in one transaction so far. */
  largestBatch: number;
}

interface PendingRead {
  read: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Point reads of concurrent requests share one SQLite read transaction.
 *
 * In WAL mode every statement run outside a transaction is a read transaction of its own, and each one
 * takes and drops a read lock on the WAL index with two `fcntl` calls. In this VM those two calls are
 * most of a lookup (~6 of its ~7 µs) and each system call also slows the code after it. Reads asked for
 * in one event-loop turn (the lookups of the requests parsed in that turn) are run together at its end
 * (`setImmediate`, as {@link GroupCommit} closes a batch of writes) inside one `BEGIN … COMMIT`, which
 * locks once: ~7 → ~3 µs per read in batches of four, ~2 µs in batches of sixteen (micro-benchmarked).
 * A lone read waits for nothing else and runs without a transaction.
 *
 * The reads of a batch see one snapshot, taken when it runs, which is never older than the moment each
 * was asked for. One read that throws rejects alone. Reads must be synchronous and must not write.
 */
export class ReadBatch {
  private queue: PendingRead[] = [];
  private scheduled = false;
  private readonly together: (reads: PendingRead[]) => void;
  readonly stats: ReadBatchStats = { reads: 0, batches: 0, largestBatch: 0 };

  constructor(private readonly db: Database.Database) {
    this.together = db.transaction((reads: PendingRead[]) => {
      for (const pending of reads) settle(pending);
    });
  }

  /** Runs `read` with the other reads of this event-loop turn; resolves with what it returned. */
  run<T>(read: () => T): Promise<T> {
    this.stats.reads++;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ read, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now (the connection is about to close, say). */
  flush(): void {
    this.scheduled = false;
    const reads = this.queue;
    if (!reads.length) return;
    this.queue = [];
    if (!this.db.open) {
      for (const pending of reads) pending.reject(new TypeError("The database connection is not open"));
      return;
    }
    // Inside another transaction (a write batch run synchronously cannot be, but a caller's own one
    // could), or alone: as they are.
    if (reads.length === 1 || this.db.inTransaction) {
      for (const pending of reads) settle(pending);
      return;
    }
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, reads.length);
    try {
      this.together(reads);
    } catch (err) {
      // BEGIN or COMMIT itself failed (each read's own error was already given to it): the reads that
      // have not been answered get the error.
      for (const pending of reads) pending.reject(err);
    }
  }
}

function settle(pending: PendingRead): void {
  try {
    pending.resolve(pending.read());
  } catch (err) {
    pending.reject(err);
  }
}
