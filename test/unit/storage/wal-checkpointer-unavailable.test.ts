import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { openSqlite } from "../../../core/storage/open-sqlite.js";
import { WalSync } from "../../../core/storage/wal-sync.js";

// A process that may not start worker threads (Node's permission model without --allow-worker throws
// from the constructor).
vi.mock("node:worker_threads", () => ({
  Worker: class {
    constructor() {
      throw Object.assign(new Error("Access to this API has been restricted"), { code: "ERR_ACCESS_DENIED" });
    }
  },
}));

describe("WalCheckpointer without worker threads", () => {
  it("leaves the connection SQLite's own checkpoints, and its commits work", async () => {
    const db = openSqlite(join(mkdtempSync(join(tmpdir(), "textlock-noworker-")), "t.db"));
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    const wal = new WalSync(db);
    expect(wal.checkpoints).toBeDefined();
    wal.commit(() => db.prepare("INSERT INTO t (k) VALUES (1)").run());
    await wal.flush();
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 1 });
    await wal.close();
    db.close();
  });
});
