import type Database from "better-sqlite3";
import type { GroupCommitDriver } from "./group-commit.js";
import { type FileSync, WalSync } from "./wal-sync.js";

/**
 * Group commit on one better-sqlite3 connection: a batch is one `BEGIN IMMEDIATE … COMMIT`, made durable
 * by one fdatasync of the WAL file off the event loop ({@link WalSync}) before any of its writes resolves.
 * The whole transaction runs synchronously, so no other statement on the connection (a read by another
 * request) can run in between and see a half-written batch. Ops must be synchronous.
 */
export function sqliteGroupCommitDriver(
  db: Database.Database,
  sync?: FileSync,
): GroupCommitDriver<Database.Database> & { wal: WalSync } {
  const wal = new WalSync(db, sync);
  return {
    wal,
    commit: async (ops) => {
      const results = await wal.commitAfterPause(() => ops.map((op) => op(db)));
      await wal.flush();
      return results;
    },
    close: () => wal.close(),
  };
}
