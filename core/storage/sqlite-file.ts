import { existsSync, renameSync } from "node:fs";
import Database from "better-sqlite3";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.js";
import { openSqlite } from "./open-sqlite.js";
import { ReadBatch } from "./read-batch.js";
import { sqliteGroupCommitDriver } from "./sqlite-group-commit.js";

/**
 * Under load (a commit ended less than this long ago), a batch waits this long for more writes: measured
 * on the bench's logins, fewer and larger commits cost less CPU than the latency they add.
 */
const BUSY_DELAY_MS = 2;

/**
 * One SQLite file opened once: the connection, the group commit and the read batch that every store
 * kept in it shares. The users, their refresh tokens and their login sessions live in one file, so the writes of
 * one wave of logins (last login, new refresh token, session) share one transaction and one fsync of
 * the WAL instead of paying for one per file. Each store {@link acquire}s it and lets go of it on close;
 * the last to let go commits what is queued and closes the connection.
 */
export class SqliteFile {
  readonly db: Database.Database;
  readonly writes: GroupCommit<Database.Database>;
  /** Point reads of concurrent requests, run in one read transaction per event-loop turn. */
  readonly reads: ReadBatch;
  private holders = 0;

  private constructor(file: string, groupCommit: GroupCommitOptions) {
    this.db = openSqlite(file);
    this.writes = new GroupCommit(sqliteGroupCommitDriver(this.db), { busyDelayMs: BUSY_DELAY_MS, ...groupCommit });
    this.reads = new ReadBatch(this.db);
  }

  /** Opens `file` (WAL, `synchronous=FULL`: {@link openSqlite}) with its group commit; nobody holds it yet. */
  static open(file: string, groupCommit: GroupCommitOptions = {}): SqliteFile {
    return new SqliteFile(file, groupCommit);
  }

  /**
   * A store's hold on a file: `file` itself when it is shared, else the path opened for this store
   * alone; the store calls `release` (once or more) when it closes.
   */
  static hold(
    file: string | SqliteFile,
    groupCommit: GroupCommitOptions = {},
  ): { file: SqliteFile; release: () => Promise<void> } {
    const held = typeof file === "string" ? SqliteFile.open(file, groupCommit) : file;
    return { file: held, release: held.acquire() };
  }

  /** A store starts using the file; it calls the returned function (once or more) when it closes. */
  acquire(): () => Promise<void> {
    this.holders++;
    let released = false;
    return () => {
      if (released) return Promise.resolve();
      released = true;
      return this.release();
    };
  }

  /** The last holder to let go commits what is queued and closes the connection. */
  private async release(): Promise<void> {
    if (--this.holders > 0 || !this.db.open) return;
    await this.writes.close();
    this.reads.flush();
    this.db.close();
  }
}

/**
 * Moves the rows of `table` from a file of an earlier layout (`legacyFile`, e.g. `refresh-tokens.db`
 * beside `users.db`) into the same table of `target`, then renames the old file to `<file>.imported`,
 * so it is read once (kept, not deleted: nothing is lost if the import is ever in doubt). Rows already
 * in `target` win (`INSERT OR IGNORE`), so two processes importing at once, or an import interrupted
 * before the rename, do no harm. Returns the rows read (0 when there is
 * no old file).
 */
export function importLegacyTable(target: Database.Database, legacyFile: string, table: string): number {
  let legacy: Database.Database;
  try {
    legacy = new Database(legacyFile, { fileMustExist: true });
  } catch {
    return 0; // no old file (or another process has just imported and renamed it)
  }
  let rows = 0;
  try {
    const present = legacy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    if (present) {
      const columns = (target.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
      const insert = target.prepare(
        `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`,
      );
      const read = legacy.prepare(`SELECT ${columns.join(", ")} FROM ${table}`);
      target
        .transaction(() => {
          for (const row of read.iterate()) {
            insert.run(row as Record<string, unknown>);
            rows++;
          }
        })
        .immediate();
    }
  } finally {
    // The last connection to close folds the old file's WAL into it and removes the WAL.
    legacy.close();
  }
  // A WAL still there means another process (an earlier version) has the old file open: it is
  // imported again at the next start instead of being renamed under that process.
  if (existsSync(`${legacyFile}-wal`)) return rows;
  try {
    renameSync(legacyFile, `${legacyFile}.imported`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return rows;
}
