import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GroupCommit } from "../../../core/storage/group-commit.js";
import { sqliteGroupCommitDriver } from "../../../core/storage/sqlite-group-commit.js";
import { SqliteRefreshTokenStore } from "../../../core/tokens/refresh-token-store.js";
import { SqliteUserStore } from "../../../core/users/sqlite-user-store.js";

const dir = () => mkdtempSync(join(tmpdir(), "textlock-gc-"));
const phone = (i: number) => `+1415555${String(i).padStart(4, "0")}`;

function table(file: string) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  return db;
}

describe("GroupCommit on SQLite", () => {
  it("commits concurrent writes in one transaction, and each resolves only once another connection sees it", async () => {
    const file = join(dir(), "t.db");
    const db = table(file);
    const reader = new Database(file, { readonly: true });
    const count = () => (reader.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
    const gc = new GroupCommit(sqliteGroupCommitDriver(db));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const seenAtResolve: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      gc
        .run(() => insert.run(`k${i}`, i).changes)
        .then((changes) => {
          seenAtResolve.push(count());
          return changes;
        }),
    );
    // Queued, not written yet: nothing is committed before the batch runs.
    expect(count()).toBe(0);
    expect(await Promise.all(writes)).toEqual(Array(50).fill(1));
    expect(seenAtResolve.every((n) => n === 50)).toBe(true);
    expect(gc.stats).toMatchObject({ commits: 1, writes: 50, largestBatch: 50 });
    await gc.close();
    db.close();
    reader.close();
  });

  it("one failing write does not fail its neighbours: the rest are committed together without it", async () => {
    const db = table(join(dir(), "t.db"));
    db.prepare("INSERT INTO t (k, v) VALUES ('taken', 0)").run();
    const gc = new GroupCommit(sqliteGroupCommitDriver(db));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const results = await Promise.allSettled([
      gc.run(() => insert.run("a", 1).changes),
      gc.run(() => insert.run("taken", 2).changes),
      gc.run(() => insert.run("b", 3).changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
    expect(db.prepare("SELECT k, v FROM t ORDER BY k").all()).toEqual([
      { k: "a", v: 1 },
      { k: "b", v: 3 },
      { k: "taken", v: 0 },
    ]);
    // One failed batch of three, then one of the other two.
    expect(gc.stats.commits).toBe(2);
    await gc.close();
    db.close();
  });

  it("a store that fails the transaction itself rejects every write of the batch at once, without retries", async () => {
    const db = table(join(dir(), "t.db"));
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const gc = new GroupCommit(sqliteGroupCommitDriver(db));
    db.close();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => gc.run(() => insert.run(`k${i}`, i))),
    );
    expect(results.every((r) => r.status === "rejected" && /not open/.test(String(r.reason)))).toBe(true);
    expect(gc.stats.commits).toBe(1);
  });

  it("splits at maxBatch, and a write submitted during a commit goes into the next batch", async () => {
    const db = table(join(dir(), "t.db"));
    const gc = new GroupCommit(sqliteGroupCommitDriver(db), { maxBatch: 10 });
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    await Promise.all(Array.from({ length: 25 }, (_, i) => gc.run(() => insert.run(`k${i}`, i))));
    expect(gc.stats).toMatchObject({ commits: 3, writes: 25, largestBatch: 10 });
    const later = gc.run(() => insert.run("late", 0));
    await gc.close();
    await later;
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 26 });
    await expect(gc.run(() => 1)).rejects.toThrow(/closed/);
    db.close();
  });

  it("a window gathers writes submitted over several event-loop turns into one commit", async () => {
    const db = table(join(dir(), "t.db"));
    const gc = new GroupCommit(sqliteGroupCommitDriver(db), { windowMs: 30 });
    const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      writes.push(gc.run(() => insert.run(`k${i}`, i)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(gc.stats.commits).toBe(1);
    await gc.close();
    db.close();
  });
});

describe("SQLite stores group-commit concurrent requests", () => {
  it("200 concurrent first logins and login records: every user is on disk after reopen, in far fewer commits", async () => {
    const file = join(dir(), "users.db");
    const store = new SqliteUserStore(file);
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create("sms", phone(i))));
    // The same phone twice in one batch still converges on one user.
    const again = await Promise.all([store.create("sms", phone(0)), store.create("sms", phone(0))]);
    expect(again.map((r) => [r.user.user_id, r.created])).toEqual([
      [created[0]!.user.user_id, false],
      [created[0]!.user.user_id, false],
    ]);
    const logged = await Promise.allSettled([
      ...created.map((r) => store.recordLogin(r.user.user_id, { at: new Date() })),
      store.recordLogin("sms|000000000000000000000000", { at: new Date() }),
    ]);
    expect(logged.filter((r) => r.status === "fulfilled")).toHaveLength(200);
    expect((logged.at(-1) as PromiseRejectedResult).reason.code).toBe("ERR_MGMT_USER_NOT_FOUND");
    expect(created.every((r) => r.created)).toBe(true);
    expect(store.writeStats.writes).toBe(403);
    // 200 creates + 2 + 201 logins in a handful of batches (the one with the unknown user twice).
    expect(store.writeStats.commits).toBeLessThan(10);
    expect(store.writeStats.largestBatch).toBeGreaterThan(100);
    await store.close();
    const reopened = new SqliteUserStore(file);
    for (const r of created)
      expect(await reopened.findById(r.user.user_id)).toMatchObject({
        phone_number: r.user.phone_number,
        logins_count: 1,
      });
    await reopened.close();
  });

  it("refresh tokens: concurrent saves share commits; of two concurrent redemptions in one batch exactly one wins", async () => {
    const file = join(dir(), "refresh.db");
    const store = new SqliteRefreshTokenStore(file);
    const record = (i: number) => ({
      user_id: `sms|${String(i).padStart(24, "0")}`,
      client_id: "c",
      connection: "sms",
      scope: "openid offline_access",
      family: `f${i}`,
      expiresAt: Date.now() + 60_000,
    });
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.save(`h${i}`, record(i))));
    expect(store.writeStats.commits).toBe(1);
    const [a, b] = await Promise.all([store.use("h1"), store.use("h1")]);
    expect([a!.reused, b!.reused].sort()).toEqual([false, true]);
    // The reuse revoked the family.
    expect(await store.find("h1")).toBeUndefined();
    await store.close();
    const reopened = new SqliteRefreshTokenStore(file);
    expect(await reopened.find("h99")).toMatchObject({ user_id: record(99).user_id, family: "f99" });
    await reopened.close();
  });
});

describe("GroupCommit busyDelayMs", () => {
  // Timed with fake timers (and a fake performance.now()): on a busy machine real 15 ms gaps can add
  // up past the delay, and a real "did not wait" bound can be missed for reasons of its own.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  /** Lets fake time pass until `p` settles; returns its value and how much fake time that took. */
  async function settle<T>(p: Promise<T>): Promise<{ value: T; tookMs: number }> {
    const began = performance.now();
    let done = false;
    void p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; !done && i < 10_000; i++) await vi.advanceTimersByTimeAsync(1);
    return { value: await p, tookMs: performance.now() - began };
  }
  /** A driver that records each batch's size and takes `commitMs` to commit. */
  function recording(commitMs: number) {
    const batches: number[] = [];
    return {
      batches,
      driver: {
        commit: async (ops: ReadonlyArray<(tx: null) => unknown>) => {
          batches.push(ops.length);
          await new Promise((r) => setTimeout(r, commitMs));
          return ops.map((op) => op(null));
        },
      },
    };
  }
  const spaced = async (gc: GroupCommit<null>, n: number, gapMs: number) => {
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i++) {
      writes.push(gc.run(() => i));
      await vi.advanceTimersByTimeAsync(gapMs);
    }
    return (await settle(Promise.all(writes))).value;
  };

  it("under load (a commit just ended), writes arriving within the delay share one batch", async () => {
    const { batches, driver } = recording(1);
    const gc = new GroupCommit(driver, { busyDelayMs: 150 });
    // A lone write after a quiet moment commits at once (within the turn and its 1 ms commit).
    expect((await settle(gc.run(() => "first"))).tookMs).toBeLessThanOrEqual(2);
    expect(await spaced(gc, 4, 15)).toEqual([0, 1, 2, 3]);
    expect(batches).toEqual([1, 4]);
    await settle(gc.close());
  });

  it("without it, the same writes commit one by one; after a quiet moment a write does not wait", async () => {
    const { batches, driver } = recording(1);
    const gc = new GroupCommit(driver);
    await settle(gc.run(() => "first"));
    await spaced(gc, 4, 15);
    expect(batches).toEqual([1, 1, 1, 1, 1]);
    await settle(gc.close());

    const delayed = recording(1);
    const quiet = new GroupCommit(delayed.driver, { busyDelayMs: 150 });
    await settle(quiet.run(() => "first"));
    const soon = await settle(quiet.run(() => "just after"));
    expect(soon.tookMs).toBeGreaterThanOrEqual(150); // a commit just ended: it waits for company
    await vi.advanceTimersByTimeAsync(200);
    const after = await settle(quiet.run(() => "after a pause"));
    expect(after.tookMs).toBeLessThanOrEqual(2);
    expect(delayed.batches).toEqual([1, 1, 1]);
    await settle(quiet.close());
  });
});
