import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/**
 * Opens (creating its folder) a SQLite file the way every textlock store uses one: WAL, so readers
 * never wait for the writer; `synchronous=FULL`, so a committed write survives a power cut; and a busy
 * timeout, so several processes on one file take turns instead of failing.
 */
export function openSqlite(file: string): Database.Database {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  return db;
}
