/**
 * One operation of a batch: it may only read and write through the transaction it is given (it can be
 * run more than once: again in a retried batch after a neighbour failed or a deadlock).
 */
export type GroupCommitOp<Tx, T = unknown> = (tx: Tx) => T | Promise<T>;

/** How one store begins, runs and durably commits a transaction. */
export interface GroupCommitDriver<Tx> {
  /**
   * Runs `ops` in order inside one transaction and commits it durably (fsync done) before resolving with
   * their results. If an op or the commit throws, the transaction is rolled back and the promise rejects.
   */
  commit(ops: ReadonlyArray<GroupCommitOp<Tx>>): Promise<unknown[]>;
  /**
   * Whether an error came from a conflict with another transaction rather than from the op (a deadlock
   * with another process, a serialization failure): its writes are then tried again one by one.
   */
  isTransient?(err: unknown): boolean;
  /** Releases what the driver holds (called by {@link GroupCommit.close} once the last batch committed). */
  close?(): Promise<void>;
}

export interface GroupCommitOptions {
  /**
   * How long the first write of a batch waits for others, in ms. 0 (the default) closes a batch at the
   * end of the current event-loop turn (`setImmediate`): concurrent requests parsed in the same turn,
   * and those that arrive while a commit is under way, share one commit, and a lone write waits for nothing.
   */
  windowMs?: number;
  /**
   * With `windowMs` 0: when the previous commit ended less than this many ms ago (writes are arriving
   * faster than commits finish), the next batch waits this long for more before it commits (default 0:
   * never). Like PostgreSQL's `commit_delay`, it trades a little latency under load for fewer, larger
   * commits: each SQLite commit costs ~0.25 ms of CPU (its WAL writes and fsync) however few writes it
   * holds. An occasional write, after a quiet moment, commits at once.
   */
  busyDelayMs?: number;
  /** At most this many writes per transaction (default 256); the rest go into the next one. */
  maxBatch?: number;
}

/** Counters for the bench and tests. */
export interface GroupCommitStats {
  /** Transactions committed (or attempted). */
  commits: number;
  /** Writes submitted. */
  writes: number;
  /** Largest batch so far. */
  largestBatch: number;
}

interface Pending<Tx> {
  op: GroupCommitOp<Tx>;
  lockKey: string | undefined;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Group commit: durable writes of concurrent requests share one transaction, so N concurrent logins pay
 * for one fsync (SQLite) or one WAL flush (PostgreSQL) instead of N. `run(op)` resolves only after the
 * transaction holding `op` has committed, so a response sent after it never claims a write a crash can lose.
 *
 * One batch is committed at a time; writes submitted meanwhile form the next batch. A failed batch committed
 * nothing: if one op threw, that op alone is rejected and the rest are committed again together (one bad
 * write never fails its neighbours); ops run in lock-key order so batches of several processes do not
 * deadlock, and a batch that still lost a deadlock is retried write by write; if the store itself failed
 * (unreachable, a failed commit), every write of the batch is rejected at once.
 */
export class GroupCommit<Tx> {
  private queue: Array<Pending<Tx>> = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  readonly stats: GroupCommitStats = { commits: 0, writes: 0, largestBatch: 0 };
  private readonly windowMs: number;
  private readonly busyDelayMs: number;
  private readonly maxBatch: number;
  /** When the last commit ended (`performance.now()`). */
  private lastCommitEnd = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly driver: GroupCommitDriver<Tx>,
    options: GroupCommitOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 0;
    this.busyDelayMs = options.busyDelayMs ?? 0;
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  /**
   * Queues a write; resolves with its result once it is durably committed. `lockKey` names what the op
   * locks (e.g. `user:<id>`): ops of a batch run in key order, so concurrent batches of several
   * processes lock rows in the same order and never deadlock one another.
   */
  run<T>(op: GroupCommitOp<Tx, T>, lockKey?: string): Promise<T> {
    if (this.closed) return Promise.reject(new Error("group commit closed"));
    this.stats.writes++;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, lockKey, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Commits what is queued, then refuses new writes. */
  async close(): Promise<void> {
    while (this.queue.length || this.inFlight || this.scheduled) await (this.inFlight ?? this.drain());
    if (!this.closed) await this.driver.close?.();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    const wait =
      this.windowMs > 0
        ? this.windowMs
        : this.busyDelayMs > 0 && performance.now() - this.lastCommitEnd < this.busyDelayMs
          ? this.busyDelayMs
          : 0;
    if (wait > 0) setTimeout(() => void this.drain(), wait);
    else setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    if (this.inFlight || !this.queue.length) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.inFlight = this.commit(batch);
    await this.inFlight;
    this.inFlight = undefined;
    this.lastCommitEnd = performance.now();
    if (this.queue.length) this.schedule();
  }

  private async commit(batch: Array<Pending<Tx>>): Promise<void> {
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    // Rows are locked in one global order (stable: same-key writes keep their order), so two processes'
    // batches cannot wait on each other in a cycle.
    let left = batch.length > 1 ? [...batch].sort(byLockKey) : batch;
    while (left.length) {
      this.stats.commits++;
      try {
        const results = await this.driver.commit(left.map(tagged));
        for (const [i, p] of left.entries()) p.resolve(results[i]);
        return;
      } catch (err) {
        const cause = err instanceof OpFailed ? err.cause : err;
        if (this.driver.isTransient?.(cause)) break;
        if (err instanceof OpFailed) {
          left[err.index]!.reject(cause);
          left = left.filter((_, i) => i !== err.index);
          continue;
        }
        // The store is unreachable or refused the transaction: every writer hears so at once (no
        // one-by-one retries that would make the last caller wait for N timeouts).
        for (const p of left) p.reject(cause);
        return;
      }
    }
    // Lost a deadlock (a write without a lock key, or another store's order): each write alone, where
    // holding one row lock cannot close a cycle.
    for (const p of left) {
      for (let attempt = 1; ; attempt++) {
        this.stats.commits++;
        try {
          p.resolve((await this.driver.commit([tagged(p, 0)]))[0]);
          break;
        } catch (err) {
          const cause = err instanceof OpFailed ? err.cause : err;
          if (attempt < MAX_ATTEMPTS && this.driver.isTransient?.(cause)) continue;
          p.reject(cause);
          break;
        }
      }
    }
  }
}

/** How often a write alone is tried after losing a deadlock. */
const MAX_ATTEMPTS = 3;

function byLockKey<Tx>(a: Pending<Tx>, b: Pending<Tx>): number {
  if (a.lockKey === b.lockKey) return 0;
  if (a.lockKey === undefined) return -1;
  if (b.lockKey === undefined) return 1;
  return a.lockKey < b.lockKey ? -1 : 1;
}

/** An op of a batch threw (as opposed to the transaction failing): which one, and why. */
class OpFailed extends Error {
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super("group commit op failed");
  }
}

/** The op of a pending write, with its failures marked by its index in the batch. */
function tagged<Tx>(p: Pending<Tx>, index: number): GroupCommitOp<Tx> {
  return (tx) => {
    let result: unknown;
    try {
      result = p.op(tx);
    } catch (err) {
      throw new OpFailed(index, err);
    }
    return result instanceof Promise
      ? result.catch((err) => {
          throw new OpFailed(index, err);
        })
      : result;
  };
}
