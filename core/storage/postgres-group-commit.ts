import type pg from "pg";
import type { GroupCommitDriver } from "./group-commit.js";

/**
 * Group commit on a PostgreSQL pool: a batch is one `BEGIN … COMMIT` on one connection, so N writes
 * share one WAL flush. A failed batch (an op's error, a deadlock with another process) is rolled back
 * whole; GroupCommit then runs each op alone.
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
  };
}
