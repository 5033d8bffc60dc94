import { fstatSync, mkdtempSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../../core/storage/group-commit.js";
import { openSqlite } from "../../../core/storage/open-sqlite.js";
import { sqliteGroupCommitDriver } from "../../../core/storage/sqlite-group-commit.js";
import { WalSync } from "../../../core/storage/wal-sync.js";

const dir = () => mkdtempSync(join(tmpdir(), "textlock-wal-"));

/** A file sync the test completes by hand, recording which file it was asked to flush. */
function manualSync() {
  const calls: Array<{ fd: number; done: (err?: Error) => void }> = [];
  const sync = (fd: number) =>
    new Promise<void>((resolve, reject) => calls.push({ fd, done: (err) => (err ? reject(err) : resolve()) }));
  return { calls, sync };
}

function table(file: string) {
  const db = openSqlite(file);
  db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  return db;
}

const settled = async (p: Promise<unknown>) => {
  let state = "pending";
  p.then(
    () => (state = "resolved"),
    () => (state = "rejected"),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return state;
};

describe("WalSync", () => {
  it("answers a group-committed write only after the WAL file itself was synced", async () => {
    const file = join(dir(), "t.db");
    const db = table(file);
    const { calls, sync } = manualSync();
    const gc = new GroupCommit(sqliteGroupCommitDriver(db, sync));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const write = gc.run(() => insert.run("a", 1).changes);

    expect(await settled(write)).toBe("pending");
    // Committed (another connection reads it) but not yet answered: the sync is on the disk.
    const reader = new Database(file, { readonly: true });
    expect(reader.prepare("SELECT v FROM t WHERE k = 'a'").get()).toEqual({ v: 1 });
    expect(calls).toHaveLength(1);
    // The descriptor synced is the database's -wal file, where a WAL commit's frames are.
    expect(fstatSync(calls[0]!.fd).ino).toBe(statSync(`${file}-wal`).ino);

    calls[0]!.done();
    await expect(write).resolves.toBe(1);
    reader.close();
    await gc.close();
    db.close();
  });

  it("syncs the WAL beside the real file when the database is reached through a symlink", async () => {
    const real = join(dir(), "real.db");
    const link = join(dir(), "link.db");
    symlinkSync(real, link);
    const db = table(link);
    const { calls, sync } = manualSync();
    const gc = new GroupCommit(sqliteGroupCommitDriver(db, sync));
    const write = gc.run(() => db.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").run().changes);
    await settled(write);
    expect(fstatSync(calls[0]!.fd).ino).toBe(statSync(`${real}-wal`).ino);
    calls[0]!.done();
    await expect(write).resolves.toBe(1);
    await gc.close();
    db.close();
  });

  it("keeps synchronous=FULL for every other statement on the connection", () => {
    const db = table(join(dir(), "t.db"));
    const wal = new WalSync(db, async () => {});
    wal.commit(() => db.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").run());
    // 2 = FULL: writes outside WalSync keep blocking until durable.
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    db.close();
  });

  it("rolls the transaction back and restores FULL when the work throws", () => {
    const db = table(join(dir(), "t.db"));
    const wal = new WalSync(db, async () => {});
    expect(() =>
      wal.commit(() => {
        db.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").run();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    db.close();
  });

  it("lets flushes asked for while one is on the disk share one more sync", async () => {
    const db = table(join(dir(), "t.db"));
    const { calls, sync } = manualSync();
    const wal = new WalSync(db, sync);
    wal.commit(() => db.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").run());
    const first = wal.flush();
    wal.commit(() => db.prepare("INSERT INTO t (k, v) VALUES ('b', 2)").run());
    const later = [wal.flush(), wal.flush(), wal.flush()];
    expect(calls).toHaveLength(1);
    calls[0]!.done();
    await first;
    // 'b' may have missed the first sync: one more, shared by the three who asked meanwhile.
    expect(await settled(Promise.all(later))).toBe("pending");
    expect(calls).toHaveLength(2);
    calls[1]!.done();
    await Promise.all(later);
    expect(wal.syncs).toBe(2);
    await wal.close();
    db.close();
  });

  it("flushSoon: one sync for every commit of its window, and close() syncs what is still owed", async () => {
    const db = table(join(dir(), "t.db"));
    let syncs = 0;
    const wal = new WalSync(db, async () => {
      syncs++;
    });
    for (const k of ["a", "b", "c"]) {
      wal.commit(() => db.prepare("INSERT INTO t (k, v) VALUES (?, 1)").run(k));
      wal.flushSoon(30);
    }
    expect(syncs).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(syncs).toBe(1);
    wal.commit(() => db.prepare("INSERT INTO t (k, v) VALUES ('d', 1)").run());
    wal.flushSoon(60_000);
    await wal.close();
    expect(syncs).toBe(2);
    db.close();
  });

  it("fails every write of the batch when the sync fails", async () => {
    const db = table(join(dir(), "t.db"));
    const { calls, sync } = manualSync();
    const gc = new GroupCommit(sqliteGroupCommitDriver(db, sync));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const writes = [gc.run(() => insert.run("a", 1)), gc.run(() => insert.run("b", 2))];
    await settled(writes[0]!);
    expect(calls).toHaveLength(1);
    calls[0]!.done(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    for (const w of writes) await expect(w).rejects.toThrow("EIO");
    db.close();
  });

  it("syncs with the real fdatasync, and needs none for an in-memory database", async () => {
    const file = join(dir(), "t.db");
    const db = table(file);
    const gc = new GroupCommit(sqliteGroupCommitDriver(db));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    await Promise.all(Array.from({ length: 20 }, (_, i) => gc.run(() => insert.run(`k${i}`, i))));
    await gc.close();
    db.close();
    const again = new Database(file, { readonly: true });
    expect(again.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 20 });
    again.close();

    const memory = table(":memory:");
    let syncs = 0;
    const wal = new WalSync(memory, async () => {
      syncs++;
    });
    wal.commit(() => memory.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").run());
    await wal.flush();
    expect(syncs).toBe(0);
    memory.close();
  });
});
