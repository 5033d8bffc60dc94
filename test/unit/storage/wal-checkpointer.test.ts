import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, statSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { endianness, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { GroupCommit } from "../../../core/storage/group-commit.js";
import { openSqlite } from "../../../core/storage/open-sqlite.js";
import { sqliteGroupCommitDriver } from "../../../core/storage/sqlite-group-commit.js";
import { WalCheckpointer } from "../../../core/storage/wal-checkpointer.js";
import { WalSync } from "../../../core/storage/wal-sync.js";

const dir = () => mkdtempSync(join(tmpdir(), "textlock-ckpt-"));
const autocheckpoint = (db: Database.Database) => db.pragma("wal_autocheckpoint", { simple: true });

/**
 * Frames in a file's WAL and frames of it already in the database file, from its WAL index (`mxFrame`
 * and `nBackfill`, bytes 16 and 96 of the `-shm` file, native byte order).
 */
function walIndex(path: string): { frames: number; backfilled: number } {
  const header = Buffer.alloc(100);
  const fd = openSync(`${path}-shm`, "r");
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  const u32 = (at: number) => (endianness() === "LE" ? header.readUInt32LE(at) : header.readUInt32BE(at));
  return { frames: u32(16), backfilled: u32(96) };
}

/**
 * Another process writing the same file (`serve --workers`): a transaction of two ~4 KiB rows every
 * event-loop turn, with SQLite's own checkpoints, until it is killed.
 */
const OTHER_PROCESS = `
const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
const db = new Database(process.argv[1]);
db.pragma("busy_timeout = 5000");
const insert = db.prepare("INSERT INTO t (v) VALUES (randomblob(3500))");
const write = db.transaction(() => { insert.run(); insert.run(); });
const loop = () => { write(); setImmediate(loop); };
loop();
`;

/** A WAL file with a table of ~4 KiB rows (one page each), its WalSync and a way to commit rows. */
function file() {
  const path = join(dir(), "t.db");
  const db = openSqlite(path);
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  const wal = new WalSync(db);
  const insert = db.prepare("INSERT INTO t (v) VALUES (randomblob(3500))");
  /** Inserts `n` rows (to run in a commit). */
  const rows = (n: number) => () => {
    for (let i = 0; i < n; i++) insert.run();
  };
  const commitRows = (n: number) => wal.commit(rows(n));
  return { path, db, wal, rows, commitRows };
}

const open: Array<{ db: Database.Database; wal: WalSync }> = [];
afterEach(async () => {
  for (const { db, wal } of open.splice(0)) {
    await wal.close();
    if (db.open) db.close();
  }
});

/** The same file written through a group commit (as the stores write), once the worker has it. */
async function groupCommitted() {
  const path = join(dir(), "t.db");
  const db = openSqlite(path);
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  const driver = sqliteGroupCommitDriver(db);
  const gc = new GroupCommit(driver);
  open.push({ db, wal: driver.wal });
  await expect.poll(() => autocheckpoint(db)).toBe(0);
  return { path, db, driver, gc };
}

describe("WalCheckpointer", () => {
  it("takes a WAL file's checkpoints off its connection and makes them on a worker thread", async () => {
    const f = file();
    open.push(f);
    // Once the worker has the file open, the connection's commits no longer checkpoint.
    await expect.poll(() => autocheckpoint(f.db)).toBe(0);
    const before = statSync(f.path).size;
    // 1,200 pages, in commits of 40: past the 1,000 pages at which SQLite would have checkpointed.
    for (let i = 0; i < 30; i++) f.commitRows(40);
    await f.wal.flush();
    // The rows reach the database file itself, copied there by the worker (the connection never did).
    await expect.poll(() => f.wal.checkpoints?.checkpoints).toBeGreaterThanOrEqual(1);
    await expect.poll(() => statSync(f.path).size).toBeGreaterThan(before + 1000 * 3500);
    expect(autocheckpoint(f.db)).toBe(0);
  });

  it("checkpoints a file that went quiet with fewer pages than that", async () => {
    const f = file();
    open.push(f);
    await expect.poll(() => autocheckpoint(f.db)).toBe(0);
    f.commitRows(20);
    await f.wal.flush();
    await expect.poll(() => f.wal.checkpoints?.checkpoints).toBe(1);
    expect(statSync(f.path).size).toBeGreaterThan(20 * 3500);
  });

  it("loses no committed row while checkpoints run under the writes, and the WAL restarts", async () => {
    const f = file();
    open.push(f);
    await expect.poll(() => autocheckpoint(f.db)).toBe(0);
    let rows = 0;
    const began = Date.now();
    // ~4,000 pages over at least a second: the worker checkpoints several times meanwhile.
    while (rows < 4000 || Date.now() - began < 1000) {
      await f.wal.commitAfterPause(f.rows(10));
      rows += 10;
      await f.wal.flush();
      if (rows % 200 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    expect(f.wal.checkpoints!.checkpoints).toBeGreaterThanOrEqual(2);
    // The writer reused the WAL from its start after the worker caught up: it never held every frame.
    expect(statSync(`${f.path}-wal`).size).toBeLessThan(rows * 3500 * 0.6);
    await f.wal.close();
    f.db.close();
    const again = new Database(f.path, { readonly: true });
    expect(again.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: rows });
    expect(again.pragma("integrity_check", { simple: true })).toBe("ok");
    again.close();
  });

  it("lets go of the file on close, so the connection's own close removes the WAL", async () => {
    const f = file();
    await expect.poll(() => autocheckpoint(f.db)).toBe(0);
    f.commitRows(5);
    await f.wal.flush();
    expect(existsSync(`${f.path}-wal`)).toBe(true);
    await f.wal.close();
    f.db.close();
    // SQLite deletes the WAL only when the last connection to the file closes: the worker's was gone.
    expect(existsSync(`${f.path}-wal`)).toBe(false);
    // And the worker ends with the last file it served.
    expect(WalCheckpointer.get().thread).toBeUndefined();
  });

  it("gives a connection SQLite's own checkpoints back when the worker cannot open its file", async () => {
    const path = join(dir(), "gone.db");
    const db = openSqlite(path);
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    db.pragma("wal_autocheckpoint = 0");
    // The connection keeps working on the unlinked file; the worker, opening it by name, finds nothing.
    unlinkSync(path);
    const wal = new WalSync(db);
    open.push({ db, wal });
    await expect.poll(() => autocheckpoint(db)).toBe(1000);
  });

  it("gives every file SQLite's own checkpoints back when the worker dies", async () => {
    const a = file();
    const b = file();
    open.push(a, b);
    await expect.poll(() => [autocheckpoint(a.db), autocheckpoint(b.db)]).toEqual([0, 0]);
    await WalCheckpointer.get().thread!.terminate();
    await expect.poll(() => [autocheckpoint(a.db), autocheckpoint(b.db)]).toEqual([1000, 1000]);
    // A file opened after that starts a new worker.
    const c = file();
    open.push(c);
    await expect.poll(() => autocheckpoint(c.db)).toBe(0);
  });

  it("leaves an in-memory database alone", () => {
    const db = new Database(":memory:");
    const wal = new WalSync(db);
    expect(wal.checkpoints).toBeUndefined();
    expect(autocheckpoint(db)).toBe(1000);
    db.close();
  });
});

describe("WalCheckpointer under writes that never pause", () => {
  it("still restarts the WAL from its start, so it does not grow with everything written", async () => {
    const { path, db, driver, gc } = await groupCommitted();
    const insert = db.prepare("INSERT INTO t (v) VALUES (randomblob(3500))");
    let rows = 0;
    let largestWal = 0;
    const began = Date.now();
    // Several writers, each committing again as soon as its last commit is durable: the WAL is never
    // idle, so the worker's checkpoint always ends with newer frames after the ones it copied.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() - began < 2500 && rows < 40_000) {
          await gc.run(() => {
            for (let i = 0; i < 5; i++) insert.run();
          });
          rows += 5;
          largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
        }
      }),
    );
    await gc.close();
    expect(rows).toBeGreaterThan(3000);
    expect(driver.wal.checkpoints!.checkpoints).toBeGreaterThanOrEqual(2);
    // Every row is a page (~4 KiB): a WAL that never restarted would hold them all.
    expect(largestWal).toBeLessThan(rows * 4096 * 0.5);
    const n = (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
    expect(n).toBe(rows);
  });
});

describe("WalCheckpointer when the WAL cannot start over", () => {
  it("hands the checkpoints back at once while another process writes the file, and takes them again after", async () => {
    const { path, db, gc } = await groupCommitted();
    const other = spawn(process.execPath, ["-e", OTHER_PROCESS, path], { stdio: ["ignore", "ignore", "inherit"] });
    const insert = db.prepare("INSERT INTO t (v) VALUES (randomblob(3500))");
    let writing = true;
    /** Commits a row after another until `writing` is false. */
    const keepWriting = async () => {
      while (writing) await gc.run(() => insert.run());
    };
    let writer = keepWriting();
    try {
      // This process cannot hold the other one's commits, so no checkpoint the worker makes lets the WAL
      // start over. The worker sees the other process (its checkpoints copy frames the worker did not, or
      // a checkpoint made with this process's writers held still leaves frames) and the connection gets
      // SQLite's own checkpoints back then, not at 4,000 pages.
      let framesAtHandBack = 0;
      await expect
        .poll(
          () => {
            const pages = autocheckpoint(db);
            if (pages === 1000) framesAtHandBack = walIndex(path).frames;
            return pages;
          },
          { timeout: 10_000, interval: 10 },
        )
        .toBe(1000);
      expect(framesAtHandBack).toBeGreaterThan(0);
      expect(framesAtHandBack).toBeLessThan(3000);
      // Both stop writing: handed back, the connection would checkpoint only at its next commit, so the
      // worker finishes the quiet file itself.
      other.kill();
      await once(other, "exit");
      writing = false;
      await writer;
      await expect
        .poll(
          () => {
            const { frames, backfilled } = walIndex(path);
            return frames > 0 && backfilled === frames;
          },
          { timeout: 5_000, interval: 50 },
        )
        .toBe(true);
      expect(autocheckpoint(db)).toBe(1000);
      // Writing alone: once the WAL has started over and five seconds have passed, the worker checkpoints
      // the file again.
      writing = true;
      writer = keepWriting();
      await expect.poll(() => autocheckpoint(db), { timeout: 15_000, interval: 100 }).toBe(0);
    } finally {
      if (other.exitCode === null && other.signalCode === null) other.kill("SIGKILL");
      writing = false;
      await writer;
      await gc.close();
    }
    expect((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
  }, 30_000);

  it("gives the connection SQLite's own checkpoints back while a long read pins the WAL, and takes them again after it", async () => {
    const { path, db, gc } = await groupCommitted();
    // A long read on another connection (another process's, say) keeps its snapshot: no checkpoint
    // can copy past it, so the WAL cannot start over and grows with every write.
    const reader = new Database(path, { readonly: true });
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM t").get();
    const insert = db.prepare("INSERT INTO t (v) VALUES (randomblob(3500))");
    const write = (n: number) =>
      gc.run(() => {
        for (let i = 0; i < n; i++) insert.run();
      });
    for (let i = 0; i < 90; i++) await write(50);
    await expect.poll(() => autocheckpoint(db)).toBe(1000);
    // The read ends: the next checkpoint copies everything, a write starts the WAL over, and the worker
    // takes the checkpoints back.
    reader.exec("COMMIT");
    reader.close();
    await expect
      .poll(
        async () => {
          await write(1);
          return autocheckpoint(db);
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(0);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(4000 * 4096);
    await gc.close();
    expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBeGreaterThan(4500);
  });
});
