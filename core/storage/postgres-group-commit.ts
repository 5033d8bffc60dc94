import type pg from "pg";
import type { GroupCommitDriver } from "./group-commit.js";

/**
 * Group commit on a PostgreSQL pool: a batch is one `BEGIN … COMMIT` on one connection, so N writes
 * share one WAL flush. A failed batch is rolled back whole; GroupCommit then commits the rest without a
 * failed op, or (after a deadlock with another process's batch) tries the batch again.
 */
export function postgresGroupCommitDriver(pool: pg.Pool): GroupCommitDriver<pg.PoolClient> {
  return {
    commit: async (ops) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const results: unknown[] = [];
        for (const op of ops) results.push(await op(client));
        await client.query("COMMIT");
        return results;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    // deadlock_detected, serialization_failure: the other transaction won; this one may simply run again.
    isTransient: (err) => ["40P01", "40001"].includes((err as { code?: string })?.code ?? ""),
  };
}
