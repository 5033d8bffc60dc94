import type Database from "better-sqlite3";
import type { GroupCommitDriver } from "./group-commit.js";

/**
 * Group commit on one better-sqlite3 connection: a batch is one `BEGIN IMMEDIATE … COMMIT`, so with
 * `synchronous=FULL` it costs one fsync. The whole batch runs synchronously, so no other statement on
 * the connection (a read by another request) can run in between and see writes not yet committed.
 * Ops must be synchronous.
 */
export function sqliteGroupCommitDriver(db: Database.Database): GroupCommitDriver<Database.Database> {
  return {
    commit: async (ops) => db.transaction(() => ops.map((op) => op(db))).immediate(),
  };
}
