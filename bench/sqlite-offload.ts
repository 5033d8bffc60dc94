// Should SQLite's durable writes move to a worker thread? `tsx bench/sqlite-offload.ts [seconds] [concurrency]`
// (run pinned to one core: `taskset -c 0 …`); prints one JSON line.
// A login is simulated as its CPU (two RS256 signatures, as textlock's token endpoint signs) plus one
// group-committed durable write (SQLite, WAL, synchronous=FULL). Inline, the commit's fsync blocks the
// event loop; in a worker thread the loop keeps signing while the fsync waits on the disk.
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { generateKeyPair, SignJWT } from "jose";
import { GroupCommit, type GroupCommitDriver } from "../core/storage/group-commit.js";
import { sqliteGroupCommitDriver } from "../core/storage/sqlite-group-commit.js";

const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 20);
const { privateKey } = await generateKeyPair("RS256");
const sign = () =>
  new SignJWT({ sub: "sms|0123456789abcdef01234567" }).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
const SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)";
const PROFILE = "x".repeat(400);

function open(file: string) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(SCHEMA);
  return db;
}

/** The worker owns the write connection; a batch of rows arrives in one message and commits in one transaction. */
function workerDriver(file: string): { driver: GroupCommitDriver<string[]>; close(): Promise<number> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
     const db = new Database(workerData);
     db.pragma("journal_mode = WAL"); db.pragma("synchronous = FULL");
     const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
     const batch = db.transaction((rows) => rows.map((v) => insert.run(v).changes));
     parentPort.on("message", ({ id, rows }) => parentPort.postMessage({ id, results: batch.immediate(rows) }));`,
    { eval: true, workerData: file },
  );
  const waiting = new Map<number, (results: unknown[]) => void>();
  let next = 0;
  worker.on("message", ({ id, results }) => {
    waiting.get(id)!(results);
    waiting.delete(id);
  });
  return {
    driver: {
      commit: (ops) => {
        const rows: string[] = [];
        for (const op of ops) op(rows);
        const id = next++;
        worker.postMessage({ id, rows });
        return new Promise((resolve) => waiting.set(id, resolve));
      },
    },
    close: () => worker.terminate(),
  };
}

async function trial(mode: "inline" | "worker") {
  const file = join(mkdtempSync(join(tmpdir(), "textlock-offload-")), "t.db");
  const db = open(file);
  let closeWorker: (() => Promise<number>) | undefined;
  let write: () => Promise<unknown>;
  let gc: GroupCommit<unknown>;
  if (mode === "inline") {
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    const inline = new GroupCommit(sqliteGroupCommitDriver(db));
    gc = inline as GroupCommit<unknown>;
    write = () => inline.run(() => insert.run(PROFILE).changes);
  } else {
    const w = workerDriver(file);
    closeWorker = w.close;
    const offloaded = new GroupCommit(w.driver);
    gc = offloaded as GroupCommit<unknown>;
    write = () => offloaded.run((rows) => rows.push(PROFILE));
  }
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const deadline = performance.now() + seconds * 1000;
  let logins = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await sign();
        await sign();
        await write();
        latencies.push(performance.now() - t);
        logins++;
      }
    }),
  );
  delay.disable();
  latencies.sort((a, b) => a - b);
  const result = {
    loginsPerSecond: logins / seconds,
    p99LoginMs: latencies[Math.floor(latencies.length * 0.99)],
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    commits: gc.stats.commits,
    writesPerCommit: gc.stats.writes / gc.stats.commits,
  };
  await closeWorker?.();
  db.close();
  return result;
}

const inline = await trial("inline");
const worker = await trial("worker");
console.log(
  JSON.stringify({
    seconds,
    concurrency,
    inline,
    worker,
    workerVsInline: worker.loginsPerSecond / inline.loginsPerSecond,
  }),
);
