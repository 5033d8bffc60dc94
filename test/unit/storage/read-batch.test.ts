import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../../core/storage/open-sqlite.js";
import { ReadBatch } from "../../../core/storage/read-batch.js";
import { SqliteUserStore } from "../../../core/users/sqlite-user-store.js";

const file = () => join(mkdtempSync(join(tmpdir(), "textlock-reads-")), "t.db");

function table(path: string) {
  const db = openSqlite(path);
  db.exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  return db;
}

describe("ReadBatch", () => {
  it("runs the reads asked for in one event-loop turn in one read transaction, a lone read without one", async () => {
    const path = file();
    const db = table(path);
    db.prepare("INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3)").run();
    const get = db.prepare<[string], { v: number }>("SELECT v FROM t WHERE k = ?");
    const reads = new ReadBatch(db);
    const seen: boolean[] = [];
    const read = (k: string) =>
      reads.run(() => {
        seen.push(db.inTransaction);
        return get.get(k)?.v;
      });
    expect(await Promise.all([read("a"), read("b"), read("c"), read("none")])).toEqual([1, 2, 3, undefined]);
    expect(seen).toEqual([true, true, true, true]);
    expect(reads.stats).toEqual({ reads: 4, batches: 1, largestBatch: 4 });
    seen.length = 0;
    expect(await read("b")).toBe(2);
    expect(seen).toEqual([false]);
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it("gives the reads of a batch one snapshot: a write committed by another connection meanwhile is not seen", async () => {
    const path = file();
    const db = table(path);
    db.prepare("INSERT INTO t VALUES ('a', 1)").run();
    const other = table(path);
    const get = db.prepare<[string], { v: number }>("SELECT v FROM t WHERE k = ?");
    const reads = new ReadBatch(db);
    const first = reads.run(() => {
      const v = get.get("a")?.v;
      // Another connection (another process, as far as SQLite knows) commits between the two reads.
      other.prepare("UPDATE t SET v = 2 WHERE k = 'a'").run();
      return v;
    });
    const second = reads.run(() => get.get("a")?.v);
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    // The next turn's read is a new transaction and sees the write.
    expect(await reads.run(() => get.get("a")?.v)).toBe(2);
    other.close();
    db.close();
  });

  it("rejects only the read that throws; the others of its batch are answered", async () => {
    const db = table(file());
    db.prepare("INSERT INTO t VALUES ('a', 1)").run();
    const reads = new ReadBatch(db);
    const results = await Promise.allSettled([
      reads.run(() => db.prepare<[string], { v: number }>("SELECT v FROM t WHERE k = ?").get("a")?.v),
      reads.run(() => db.prepare("SELECT nope FROM t").get()),
      reads.run(() => 42),
    ]);
    expect(results[0]).toEqual({ status: "fulfilled", value: 1 });
    expect(results[1]).toMatchObject({ status: "rejected", reason: { code: "SQLITE_ERROR" } });
    expect(results[2]).toEqual({ status: "fulfilled", value: 42 });
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it("rejects reads whose connection was closed before they ran, instead of leaving them pending", async () => {
    const db = table(file());
    const reads = new ReadBatch(db);
    const pending = reads.run(() => 1);
    db.close();
    await expect(pending).rejects.toThrow(/not open/);
  });

  it("answers a user store's lookups asked for just before it closes", async () => {
    const path = file();
    const store = new SqliteUserStore(path);
    const { user } = await store.create("sms", "+14155550100");
    const found = [store.findByPhone("sms", "+14155550100"), store.findById(user.user_id)];
    await store.close();
    expect((await Promise.all(found)).map((u) => u?.user_id)).toEqual([user.user_id, user.user_id]);
  });
});
