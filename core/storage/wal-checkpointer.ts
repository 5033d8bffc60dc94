import { createRequire } from "node:module";
import { endianness } from "node:os";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";

/** How often the worker looks at each file's WAL, in ms. */
const LOOK_EVERY_MS = 100;
/**
 * A checkpoint is due when the WAL holds this many frames not yet in the database file (SQLite's own
 * `wal_autocheckpoint` default)…
 */
const CHECKPOINT_PAGES = 1000;
/** …or holds any and nothing was committed for this long (ms), so an idle file ends up whole. */
const QUIET_MS = 1000;
/**
 * The longest a writer holds its commits for the worker to finish a checkpoint (ms); the holds measured
 * 6–9 ms under a tight write loop (the rest copied, two fsyncs, two messages).
 */
const PAUSE_TIMEOUT_MS = 100;
/**
 * After the worker hands a file's checkpoints back (another process writes the file, a read holds an old
 * snapshot, or the WAL reached four times {@link CHECKPOINT_PAGES}), how long the connection keeps SQLite's
 * own checkpoints before the worker tries again (ms).
 */
const RETRY_MS = 5000;
/** How long closing a file waits for the worker to let go of it before going on without it. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * The worker's code (CommonJS, run with `eval` so the published bundles need no file of their own). It
 * keeps a connection per registered file and looks at the file's WAL index (the `-shm` file, read without
 * locks: <https://www.sqlite.org/walformat.html>, the header's `mxFrame` at byte 16 and the checkpoint
 * info's `nBackfill` at byte 96, in the machine's byte order) every {@link LOOK_EVERY_MS}. When a
 * checkpoint is due it runs a PASSIVE one: it copies what the WAL holds into the database file and fsyncs
 * both, and never waits for a lock, so it never holds up the writer. A WAL index it cannot read (not
 * there yet) makes a checkpoint due once a second: with nothing new in the WAL one touches nothing on disk.
 */
const WORKER = `
const { readSync, openSync, closeSync, realpathSync } = require("node:fs");
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const { pages, quietMs, retryMs } = workerData;
const files = new Map();
const header = Buffer.alloc(100);
const u32 = workerData.littleEndian ? (at) => header.readUInt32LE(at) : (at) => header.readUInt32BE(at);
function drop(id, f) {
  files.delete(id);
  try { f.db.close(); } catch {}
  try { if (f.shm !== undefined) closeSync(f.shm); } catch {}
}
// Frames in the WAL, frames of it already in the database file and the WAL's salt (new each time it
// starts over), from the WAL index; undefined if unread, or read while SQLite was writing it (its two
// copies of the header differ).
function frames(f) {
  try {
    // Beside the file's real path, as SQLite puts it (the file may be reached through a symlink).
    f.shm ??= openSync(realpathSync(f.db.name) + "-shm", "r");
    if (readSync(f.shm, header, 0, 100, 0) < 100 || header.compare(header, 48, 96, 0, 48) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return { inWal: u32(16), backfilled: u32(96), salt: header.toString("hex", 32, 40) };
}
function due(id, f, now) {
  const seen = frames(f);
  if (!seen) return now - f.checkpointed >= 1000;
  if (seen.inWal !== f.frames) {
    f.frames = seen.inWal;
    f.changed = now;
  }
  // Frames copied by a checkpoint this worker did not make (the registered connection makes none while
  // the worker has the file): another process checkpoints the file, so it writes it too.
  const foreign = f.salt !== undefined && seen.backfilled > (seen.salt === f.salt ? f.backfilled : 0);
  f.salt = seen.salt;
  f.backfilled = seen.backfilled;
  // Writers this process cannot hold (another process's) or a long read elsewhere can keep the WAL from
  // starting over (see handBack). Then, or past four times the mark at the latest, the connection
  // checkpoints on its own again, as SQLite does; the worker takes over once the WAL has started over and
  // the wait is past.
  if (!f.handedBack && (foreign || seen.inWal >= 4 * pages)) handBack(id, f, now);
  else if (f.handedBack && seen.inWal < pages && now >= f.retryAt) {
    f.handedBack = false;
    parentPort.postMessage({ op: "takeover", id });
  }
  const pending = seen.inWal - seen.backfilled;
  // Handed back, the connection checkpoints as pages come; the worker only finishes a file gone quiet.
  if (f.handedBack) return pending > 0 && now - f.changed >= quietMs;
  return pending >= pages || (pending > 0 && now - f.changed >= quietMs);
}
function handBack(id, f, now) {
  f.handedBack = true;
  f.retryAt = now + retryMs;
  parentPort.postMessage({ op: "handback", id });
}
// One PASSIVE checkpoint of a file; false (and the file dropped, its connection told) if it failed.
function checkpoint(id, f) {
  try {
    f.db.pragma("wal_checkpoint(PASSIVE)");
    // Its result counts the frames of the snapshot it copied; the writer may have added more since.
    const seen = frames(f);
    if (!seen) return { left: 0 };
    f.salt = seen.salt;
    f.backfilled = seen.backfilled;
    return { left: seen.inWal - seen.backfilled };
  } catch (err) {
    drop(id, f);
    parentPort.postMessage({ op: "failed", id, message: String(err && err.message) });
    return undefined;
  }
}
function done(id, f) {
  f.checkpointed = Date.now();
  f.checkpoints++;
  parentPort.postMessage({ op: "checkpointed", id, checkpoints: f.checkpoints });
}
setInterval(() => {
  const now = Date.now();
  for (const [id, f] of files) {
    if (f.pausing || !due(id, f, now)) continue;
    const result = checkpoint(id, f);
    if (!result) continue;
    // Frames committed while it copied are still only in the WAL, so the writer cannot start the WAL
    // over: under writes that never pause it would grow forever. Ask the writer to hold its next commit
    // while the worker copies that little rest.
    if (result.left > 0 && !f.handedBack) {
      f.pausing = true;
      parentPort.postMessage({ op: "pause", id });
    } else done(id, f);
  }
}, workerData.every);
parentPort.on("message", (m) => {
  if (m.op === "open") {
    try {
      const db = new Database(m.file, { fileMustExist: true });
      db.pragma("busy_timeout = 0");
      db.pragma("synchronous = FULL");
      files.set(m.id, { db, shm: undefined, frames: -1, changed: 0, checkpointed: 0, checkpoints: 0, pausing: false, handedBack: false, retryAt: 0, salt: undefined, backfilled: 0 });
      parentPort.postMessage({ op: "opened", id: m.id });
    } catch (err) {
      parentPort.postMessage({ op: "failed", id: m.id, message: String(err && err.message) });
    }
  } else if (m.op === "paused") {
    const f = files.get(m.id);
    if (!f) return;
    f.pausing = false;
    const result = checkpoint(m.id, f);
    if (result) {
      done(m.id, f);
      // With this process's writers held, what is still left was written by another process, or sits past
      // the snapshot of a read still open: the worker cannot make this WAL start over, and holding this
      // process's writers again would not either. The connection checkpoints on its own, as SQLite does,
      // for retryMs.
      if (result.left > 0) handBack(m.id, f, Date.now());
    }
    parentPort.postMessage({ op: "resume", id: m.id });
  } else if (m.op === "close") {
    const f = files.get(m.id);
    if (f) drop(m.id, f);
    parentPort.postMessage({ op: "closed", id: m.id });
  }
});
`;

type FromWorker =
  | { op: "opened" | "closed" | "pause" | "resume" | "handback" | "takeover"; id: number }
  | { op: "checkpointed"; id: number; checkpoints: number }
  | { op: "failed"; id: number; message: string };

interface Registered {
  db: Database.Database;
  lease: { checkpoints: number; paused: Promise<void> | undefined };
  closed?: () => void;
  resume?: () => void;
}

/** A file's hold on the checkpoint worker. */
export interface CheckpointLease {
  /** Checkpoints the worker has made of the file so far. */
  readonly checkpoints: number;
  /**
   * While the worker finishes a checkpoint (a few ms, about once per 1,000 pages written), a promise the
   * file's writers wait for before their next commit; otherwise undefined. See {@link WalCheckpointer}.
   */
  readonly paused: Promise<void> | undefined;
  /** Lets go of the file: resolves once the worker has closed its connection (or is gone). */
  release(): Promise<void>;
}

/**
 * WAL checkpoints off the event loop, in one worker thread per process.
 *
 * SQLite checkpoints a WAL database on the connection whose commit takes the WAL past 1,000 pages
 * (`wal_autocheckpoint`): that commit then copies the WAL's pages into the database file and fsyncs the WAL
 * and the file, and better-sqlite3 is synchronous, so the event loop stands still meanwhile (~3–5 ms here,
 * under load about once a second for the audit log and every few seconds for the users' file: requests in
 * flight then wait, which shows in the latency's tail). A connection {@link register}ed here has
 * `wal_autocheckpoint` off, and a worker thread with a connection of its own to the same file makes the
 * same checkpoints instead, at the same 1,000 pages (or after a quiet second): a PASSIVE checkpoint never
 * takes the writer's lock, so commits go on during it.
 *
 * The writer starts the WAL over from its beginning only when it begins a transaction with every frame
 * already in the database file. Under writes that never pause, frames committed during the worker's
 * checkpoint would keep that from ever happening, and the WAL would grow with everything written. So when
 * a checkpoint ends with such frames, the worker asks the file's writers to hold their commits
 * ({@link CheckpointLease.paused}; the event loop goes on, only the commits wait) while it copies that rest
 * (a few ms), and the next commit then restarts the WAL, as after SQLite's own checkpoint. That restart
 * costs the writer one fsync (of the WAL's new header: SQLite's guard against out-of-order writes), one of
 * the three a checkpoint cost it. Writers in other processes on the same file are not held. When another
 * process checkpoints the file (the WAL index shows frames copied by a checkpoint the worker did not
 * make), when frames are still left after a checkpoint made while this process's writers were held
 * (another process wrote meanwhile, or a long read holds an old snapshot), or when the WAL reaches 4,000
 * pages, the connection checkpoints on its own again, as SQLite does, and the worker tries again once the
 * WAL has started over and five seconds have passed; meanwhile it only finishes a file gone quiet. With
 * two processes writing one file the WAL then stays about as small as with SQLite's own checkpoints,
 * instead of hovering near 4,000 pages.
 *
 * If no worker can start, the worker cannot open a file or a checkpoint fails, that connection keeps or
 * gets back SQLite's own checkpoints (and all of them do if the worker dies), so the WAL never grows
 * without bound. The worker does not keep the process alive, and ends when the last file lets go of it.
 */
export class WalCheckpointer {
  private static shared: WalCheckpointer | undefined;
  private worker: Worker | undefined;
  private readonly files = new Map<number, Registered>();
  private nextId = 1;

  /** The worker thread while one runs (for tests). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** The process's checkpointer. */
  static get(): WalCheckpointer {
    WalCheckpointer.shared ??= new WalCheckpointer();
    return WalCheckpointer.shared;
  }

  /**
   * Moves `db`'s checkpoints to the worker (once the worker has opened the file: until then, and for an
   * in-memory or non-WAL database, SQLite's own checkpoints stay on).
   */
  register(db: Database.Database): CheckpointLease {
    const id = this.nextId++;
    let released: Promise<void> | undefined;
    const lease = {
      checkpoints: 0,
      paused: undefined as Promise<void> | undefined,
      release: () => (released ??= this.release(id)),
    };
    let worker: Worker;
    try {
      worker = this.start();
    } catch {
      // No worker threads here (a permission model without --allow-worker, a bundle that cannot resolve
      // better-sqlite3): the connection keeps SQLite's own checkpoints.
      return lease;
    }
    this.files.set(id, { db, lease });
    worker.postMessage({ op: "open", id, file: db.name });
    return lease;
  }

  private release(id: number): Promise<void> {
    const file = this.files.get(id);
    if (!file || !this.worker) {
      this.files.delete(id);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
      timer.unref();
      file.closed = done;
      this.worker!.postMessage({ op: "close", id });
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.files.get(id) === file) self.files.delete(id);
        if (!self.files.size) self.stop();
        resolve();
      }
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        // The better-sqlite3 this module uses (the published CommonJS build gets `import.meta.url` from tsup's shim).
        sqlite: createRequire(import.meta.url).resolve("better-sqlite3"),
        every: LOOK_EVERY_MS,
        pages: CHECKPOINT_PAGES,
        quietMs: QUIET_MS,
        retryMs: RETRY_MS,
        littleEndian: endianness() === "LE",
      },
    });
    worker.unref();
    worker.on("message", (m: FromWorker) => this.onMessage(m));
    worker.on("error", () => undefined);
    worker.on("exit", () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // Gone (an error, or terminated): every file still held checkpoints on its own connection again.
      for (const [id, file] of this.files) {
        autocheckpoint(file.db, CHECKPOINT_PAGES);
        this.files.delete(id);
        file.resume?.();
        file.closed?.();
      }
    });
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private onMessage(m: FromWorker): void {
    const file = this.files.get(m.id);
    if (!file) return;
    if (m.op === "opened" || m.op === "takeover") {
      if (!file.closed) autocheckpoint(file.db, 0);
    } else if (m.op === "handback") {
      autocheckpoint(file.db, CHECKPOINT_PAGES);
    } else if (m.op === "checkpointed") {
      file.lease.checkpoints = m.checkpoints;
    } else if (m.op === "pause") {
      this.pause(m.id, file);
    } else if (m.op === "resume") {
      file.resume?.();
    } else if (m.op === "failed") {
      autocheckpoint(file.db, CHECKPOINT_PAGES);
      file.resume?.();
    } else {
      file.resume?.();
      file.closed?.();
    }
  }

  /** Holds the file's commits until the worker has copied the rest of the WAL (or a timeout). */
  private pause(id: number, file: Registered): void {
    if (file.resume || file.closed) return;
    file.lease.paused = new Promise<void>((resolve) => {
      const timer = setTimeout(resume, PAUSE_TIMEOUT_MS);
      timer.unref();
      file.resume = resume;
      function resume() {
        clearTimeout(timer);
        file.resume = undefined;
        file.lease.paused = undefined;
        resolve();
      }
    });
    this.worker?.postMessage({ op: "paused", id });
  }
}

/** Sets a connection's `wal_autocheckpoint` (pages; 0 = never) if it is still open. */
function autocheckpoint(db: Database.Database, pages: number): void {
  if (db.open) db.pragma(`wal_autocheckpoint = ${pages}`);
}
