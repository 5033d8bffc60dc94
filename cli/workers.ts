import cluster, { type Worker } from "node:cluster";
import type { TextlockConfig } from "../core/config/schema.js";

/**
 * Why a configuration cannot be served by several worker processes, or undefined when it can: every
 * worker must see the same codes, limits and users, so the code store must be Redis and users must
 * be in SQLite (one file, shared by the processes of one machine) or PostgreSQL.
 */
export function workersRefusal(config: TextlockConfig): string | undefined {
  if (config.store.type === "memory") {
    return (
      'store.type is "memory": each worker would keep its own codes and counters (a code sent by one ' +
      'worker could not be redeemed on another, and every send limit would be multiplied by the number of workers). Use store.type "redis".'
    );
  }
  if (config.users.type === "memory") {
    return 'users.type is "memory": each worker would keep its own users. Use users.type "sqlite" or "postgres".';
  }
  return undefined;
}

/** How long `serve` lets requests in flight finish on SIGTERM/SIGINT before it cuts their connections. */
export const DRAIN_MS = 10_000;
/** How long `serve` takes to stop at most: the drain, then up to 5 s to close the stores. */
export const STOP_MS = DRAIN_MS + 5_000;

/** Parses `--workers`: a whole number from 1 to 256. */
export function parseWorkers(value: string): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined;
}

/**
 * The primary of `textlock serve --workers N` (node:cluster): forks N workers that run `serve` with
 * `args` and share its listening socket. A worker that dies after it was listening is replaced; one
 * that dies before it ever listened (a bad store URL, a port in use) ends the server with exit code 1
 * rather than restarting in a loop. SIGINT/SIGTERM are passed to every worker, which finish their
 * requests (up to DRAIN_MS) and exit; the primary exits when they have (or after STOP_MS and a second).
 */
export function runPrimary(workers: number, args: string[]): Promise<number> {
  cluster.setupPrimary({ args });
  return new Promise((resolve) => {
    let stopping = false;
    const listening = new WeakSet<Worker>();
    const fork = () => cluster.fork();
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      // A worker that has just exited can still be listed (node:cluster drops it on its disconnect):
      // waiting for its "exit" would wait out the 10 s.
      const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      if (!live.length) return resolve(code);
      // A worker takes STOP_MS at most; one that takes longer is left to its own end.
      setTimeout(() => resolve(code), STOP_MS + 1_000).unref();
      let left = live.length;
      for (const w of live) {
        w.once("exit", () => {
          if (--left === 0) resolve(code);
        });
        w.process.kill("SIGTERM");
      }
    };
    cluster.on("listening", (worker) => listening.add(worker));
    cluster.on("exit", (worker, code, signal) => {
      if (stopping) return;
      if (!listening.has(worker)) {
        process.stderr.write(`textlock: a worker exited before it was listening (code ${code ?? signal}); stopping\n`);
        stop(1);
        return;
      }
      process.stderr.write(`textlock: worker ${worker.process.pid} exited (${code ?? signal}); starting another\n`);
      fork();
    });
    process.once("SIGINT", () => stop(0));
    process.once("SIGTERM", () => stop(0));
    for (let i = 0; i < workers; i++) fork();
    process.stdout.write(`textlock primary ${process.pid}: ${workers} workers\n`);
  });
}
