import { closeSync, fdatasync, openSync, realpathSync } from "node:fs";
import { promisify } from "node:util";
import type Database from "better-sqlite3";
import { type CheckpointLease, WalCheckpointer } from "./wal-checkpointer.js";

/** Flushes one file's data to disk (the WAL file's descriptor); resolves when it is there. */
export type FileSync = (fd: number) => Promise<void>;

const fdatasyncAsync: FileSync = promisify(fdatasync);

/**
 * Durable SQLite commits that do not stall the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous=FULL` every COMMIT waits on the disk's fsync (4–5 ms
 * here) with the event loop blocked, so no request is parsed, signed or answered meanwhile. In WAL mode a
 * commit only appends frames to the `-wal` file; `synchronous=FULL` adds one fsync of that file. So
 * {@link commit} runs a transaction with `synchronous=NORMAL` (frames written to the OS, no fsync: they
 * already survive a crash of the process) and {@link flush} then fdatasyncs the WAL file on libuv's thread
 * pool: once it resolves, everything committed before it is on disk, exactly what `FULL` would have
 * promised. Callers answer only after `flush()`, so a response never claims a write a power cut can lose.
 *
 * Every other statement on the connection keeps `synchronous=FULL` (it is restored after each commit), so
 * writes that do not go through here stay durable the usual, blocking way. Flushes requested while one is
 * on the disk share the next one. An in-memory or non-WAL database needs no flush (and commits with FULL).
 * A WAL database's checkpoints (copying the WAL into the database file, with two more fsyncs) run on a
 * worker thread too ({@link WalCheckpointer}), not in whichever commit crosses SQLite's threshold.
 */
export class WalSync {
  private fd: number | undefined;
  private readonly wal: boolean;
  private readonly normal: Database.Statement;
  private readonly full: Database.Statement;
  private inFlight: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** A {@link flushSoon} timer, while one is pending. */
  private soon: NodeJS.Timeout | undefined;
  /** This WAL's hold on the worker thread that checkpoints it instead of the connection's commits. */
  readonly checkpoints: CheckpointLease | undefined;
  /** fdatasyncs issued (for tests and the bench). */
  syncs = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly sync: FileSync = fdatasyncAsync,
  ) {
    this.wal = !db.memory && String(db.pragma("journal_mode", { simple: true })).toLowerCase() === "wal";
    this.normal = db.prepare("PRAGMA synchronous = NORMAL");
    this.full = db.prepare("PRAGMA synchronous = FULL");
    if (this.wal) this.checkpoints = WalCheckpointer.get().register(db);
  }

  /**
   * {@link commit}, after waiting out a hold the checkpoint worker may have asked writers for (a few ms, so
   * the WAL can start over; nearly always there is none). Writers that can wait use this.
   */
  async commitAfterPause<T>(fn: () => T): Promise<T> {
    const paused = this.checkpoints?.paused;
    if (paused) await paused;
    return this.commit(fn);
  }

  /** Runs `fn` in one `BEGIN IMMEDIATE … COMMIT` whose commit is not yet flushed to disk: call {@link flush}. */
  commit<T>(fn: () => T): T {
    if (!this.wal) return this.db.transaction(fn).immediate();
    this.normal.run();
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.full.run();
    }
  }

  /** Resolves once everything committed on this connection so far is on disk; rejects if the sync failed. */
  flush(): Promise<void> {
    if (!this.wal) return Promise.resolve();
    if (!this.inFlight) return this.start();
    // A sync already on the disk may have started before these frames were written: queue one more,
    // shared by everyone who asks meanwhile.
    this.next ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    // The WAL exists once the first transaction has run; SQLite keeps it (same inode) while this
    // connection is open: only the last connection's close removes it. SQLite puts it beside the
    // database's real path, so a database reached through a symlink has its WAL beside the target.
    let sync: Promise<void>;
    try {
      this.fd ??= openSync(`${realpathSync(this.db.name)}-wal`, "r");
      this.syncs++;
      sync = this.sync(this.fd);
    } catch (err) {
      sync = Promise.reject(err);
    }
    const syncing = sync.finally(() => {
      if (this.inFlight === syncing) this.inFlight = undefined;
    });
    this.inFlight = syncing;
    return syncing;
  }

  /**
   * Makes what is committed so far durable within `ms` without waiting for it: one sync for every
   * commit in that window. For writes nobody waits on (the audit log, written after the answer).
   */
  flushSoon(ms: number): void {
    if (!this.wal || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.flush().catch(() => undefined);
    }, ms);
    this.soon.unref();
  }

  /**
   * Syncs what a {@link flushSoon} still owes, waits for a sync on the disk, then closes the WAL descriptor
   * and lets go of the checkpoint worker (the connection's own close then checkpoints what is left).
   */
  async close(): Promise<void> {
    if (this.soon) {
      clearTimeout(this.soon);
      this.soon = undefined;
      await this.flush().catch(() => undefined);
    }
    await Promise.allSettled([this.inFlight, this.next]);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await this.checkpoints?.release();
  }
}
