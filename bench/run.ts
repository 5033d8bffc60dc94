// `npm run bench [-- --quick] [-- --out <dir>]`: every figure is a ratio to a baseline measured in the
// same run (bare node:http, RS256 signatures, and better-auth's phone-number plugin as the peer), because
// absolute numbers drift on a shared machine. Servers run pinned to one core and the load generator to
// the other (`taskset`, when there are two cores); each is its own process. textlock's server is built
// first, as the package is published (bench/build.ts).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { startRedisCluster } from "../test/helpers/redis-cluster.js";
import { postgresBinDir, redisBinary, startPostgres, startRedis } from "../test/helpers/services.js";
import { buildBenchServer } from "./build.js";
import { benchProcesses, type LoadResult, lastJsonLine, root, type Server } from "./processes.js";
import { type Floors, type Measured, type PairedRound, type RedisCpu, report } from "./report.js";

export type { LoadResult } from "./processes.js";

const run = promisify(execFile);
const args = process.argv.slice(2);
const quick = args.includes("--quick");
/** `--core`: the targets' rows only (no other adapters, no other signing algorithms). */
const core = quick || args.includes("--core");
const outDir = args.includes("--out") ? args[args.indexOf("--out") + 1]! : new URL(".", import.meta.url).pathname;
const docFile = args.includes("--out")
  ? join(outDir, "performance.md")
  : new URL("../docs/performance.md", import.meta.url).pathname;
const seconds = quick ? 1 : 4;
const connections = quick ? 10 : 50;
const loginConnections = quick ? 10 : 20;
/** The wrong-code driver pipelines requests, so the load generator is not the limit. */
const pipelining = 10;
/**
 * Rounds of the comparisons measured in alternating rounds (the durable-state drop; the peer and bare
 * ratios): this machine's speed moves within minutes, so the report takes the median of the rounds.
 */
const ROUNDS = quick ? 1 : 5;
const processes = benchProcesses({ pin: !args.includes("--no-pin") });
const { pin, startServer, stop, onServerCore } = processes;
/**
 * The ceiling: two signatures per login, the id_token and a JWT access token (a login that names
 * an API `audience`; without one the access token is opaque and a login signs once).
 */
const SIGNATURES_PER_LOGIN = 2;

/** One load against `server`, with the run's duration and users per connection unless `spec` names them. */
function load(server: Server, spec: Record<string, unknown>): Promise<LoadResult> {
  return processes.load(server, { seconds, usersPerConnection: quick ? 5 : 10, ...spec });
}

export interface TargetResult {
  start: LoadResult;
  wrong: LoadResult;
  loginNew?: LoadResult;
  login: LoadResult;
  /** Returning-user logins at 10 connections, for the latency target. */
  login10?: LoadResult;
  /**
   * textlock: returning-user logins that ask for an API `audience`, so the access token is a JWT and a
   * login signs two tokens (without one it is opaque, as Auth0's, and only the id_token is signed).
   */
  loginApi?: LoadResult;
}

/** The scenarios against one server process (started once; codes and users accumulate as in real use). */
async function target(
  script: string,
  scriptArgs: (dataDir: string) => string[],
  kind: "textlock" | "better-auth",
  full: boolean,
): Promise<TargetResult> {
  const server = await startServer(script, scriptArgs);
  try {
    const t = { target: kind };
    return {
      start: await load(server, { ...t, kind: "start", connections }),
      wrong: await load(server, { ...t, kind: "wrong", connections, pipelining }),
      ...(full ? { loginNew: await load(server, { ...t, kind: "login", connections: loginConnections }) } : {}),
      login: await load(server, { ...t, kind: "login", users: "returning", connections: loginConnections }),
      ...(full ? { login10: await load(server, { ...t, kind: "login", users: "returning", connections: 10 }) } : {}),
      ...(full && kind === "textlock"
        ? {
            loginApi: await load(server, {
              ...t,
              kind: "login",
              users: "returning",
              connections: loginConnections,
              audience: "https://api.bench.test/",
            }),
          }
        : {}),
    };
  } finally {
    await stop(server);
  }
}

async function json(cmd: string[], nodeArgs: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [...nodeArgs, "--import", "tsx", ...cmd], {
    cwd: root,
    timeout: 300_000,
    maxBuffer: 1 << 26,
  });
  return lastJsonLine(stdout);
}

/** Signatures per second of one algorithm on the servers' core (`bench/sign.ts`, one at a time). */
async function signaturesPerSecond(alg: string, secs: number): Promise<number> {
  return Number((await onServerCore("bench/sign.ts", [alg, String(secs)])).perSecond);
}

/** The round's floors, on the servers' core while they idle: an RS256 signature, typing a number, a code's HMAC. */
async function floors(): Promise<Floors> {
  const signMs = 1000 / (await signaturesPerSecond("RS256", 1));
  const { phoneMs, hmacMs } = await onServerCore("bench/floors.ts", ["1"]);
  return { signMs, phoneMs: phoneMs!, hmacMs: hmacMs! };
}

const textlockServer =
  (adapter: string, algorithm = "RS256", redisUrl?: string) =>
  (dataDir: string) => [adapter, dataDir, algorithm, ...(redisUrl ? [redisUrl] : [])];

// textlock's servers run built as the package is published (bench/build.ts), not from the sources.
console.error("building the bench server");
const serverScript = await buildBenchServer(root);

const results: Measured = {
  date: new Date().toISOString(),
  quick,
  core,
  seconds,
  connections,
  loginConnections,
  pipelining,
  pinned: pin,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
} as Measured;

console.error("baseline: bare node:http");
{
  const bare = await startServer(serverScript, textlockServer("bare"));
  try {
    results.bare = await load(bare, { kind: "start", connections });
    results.barePipelined = await load(bare, { kind: "start", connections, pipelining });
  } finally {
    await stop(bare);
  }
}
console.error("baseline: signatures");
results.sign = {};
for (const alg of core ? ["RS256"] : ["RS256", "ES256", "EdDSA"])
  results.sign[alg] = await signaturesPerSecond(alg, quick ? 1 : 2);
results.loginCeiling = results.sign.RS256! / SIGNATURES_PER_LOGIN;

console.error("textlock (standalone): start-only, wrong codes, new and returning logins");
results.textlock = await target(serverScript, textlockServer("standalone"), "textlock", true);
console.error("durable state per login: audit log and refresh tokens off, then on");
{
  // Alternating rounds, each on a fresh server, so drift on the machine hits both sides alike.
  const lean: LoadResult[] = [];
  const full: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ["lean", "full"] as const) {
      const server = await startServer(
        serverScript,
        textlockServer("standalone"),
        side === "lean" ? { BENCH_AUDIT: "off" } : {},
      );
      try {
        const result = await load(server, {
          kind: "login",
          users: "returning",
          connections: loginConnections,
          scope: side === "lean" ? "openid" : "openid offline_access",
        });
        (side === "lean" ? lean : full).push(result);
      } finally {
        await stop(server);
      }
    }
  }
  results.state = { lean, full };
}
console.error("peer: better-auth phone-number plugin on SQLite");
results.betterAuth = await target("bench/better-auth-server.ts", (d) => ["sqlite", d], "better-auth", true);
if (!quick) {
  console.error("peer: better-auth phone-number plugin in memory");
  results.betterAuthMemory = await target("bench/better-auth-server.ts", (d) => ["memory", d], "better-auth", false);
}
// The ratios the targets are judged on, measured again in alternating rounds with every server up at
// once (idle ones cost nothing): the runs above are minutes apart, and on a shared machine one target's
// phase can land in a slow spell the other misses (the peer's figure has moved ±40% between runs).
// Each round measures every side within about half a minute; the report takes each round's ratio and
// the median of the rounds. Each round then measures its floors (bench/floors.ts, an RS256 signature),
// which bound what any server could have reached in it (report.ts, roundBounds).
console.error("side by side: bare node:http, textlock and better-auth in alternating rounds");
{
  const bare = await startServer(serverScript, textlockServer("bare"));
  const tlServer = await startServer(serverScript, textlockServer("standalone"));
  const baServer = await startServer("bench/better-auth-server.ts", (d) => ["sqlite", d]);
  const rounds: PairedRound[] = [];
  try {
    const returning = { kind: "login", users: "returning", connections: loginConnections };
    const fresh = { kind: "login", connections: loginConnections };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({
        bareStart: await load(bare, { kind: "start", connections }),
        start: await load(tlServer, { target: "textlock", kind: "start", connections }),
        login: await load(tlServer, { target: "textlock", ...returning }),
        peerLogin: await load(baServer, { target: "better-auth", ...returning }),
        loginNew: await load(tlServer, { target: "textlock", ...fresh }),
        peerLoginNew: await load(baServer, { target: "better-auth", ...fresh }),
        floors: await floors(),
      });
    }
  } finally {
    await Promise.all([stop(bare), stop(tlServer), stop(baServer)]);
  }
  results.paired = rounds;
}
results.adapters = {};
for (const adapter of core ? [] : ["fastify", "koa", "express"]) {
  console.error(`${adapter}: start-only, wrong codes, returning logins`);
  results.adapters[adapter] = await target(serverScript, textlockServer(adapter), "textlock", false);
}
results.algorithms = {};
for (const alg of core ? [] : ["ES256", "EdDSA"]) {
  console.error(`standalone logins with ${alg}`);
  const server = await startServer(serverScript, textlockServer("standalone", alg));
  try {
    results.algorithms[alg] = await load(server, {
      kind: "login",
      users: "returning",
      connections: loginConnections,
    });
  } finally {
    await stop(server);
  }
}
// Codes and counters in a real Redis (when redis-server is installed).
/** Logins (start + code exchange, 20 in flight) over which Redis's own CPU is measured. */
const redisCpuLogins = quick ? 200 : 2_000;
if (redisBinary()) {
  console.error("standalone on Redis; round trips per start and login");
  const redis = await startRedis();
  try {
    results.redis = {
      ...(quick ? {} : await target(serverScript, textlockServer("standalone", "RS256", redis.url), "textlock", false)),
      bytesPerCode: Number(
        (await json(["bench/redis-memory.ts", redis.url, String(quick ? 10_000 : 100_000)])).bytesPerCode,
      ),
      trips: await json(["bench/redis-trips.ts", redis.url, String(quick ? 30 : 300)]),
      cpu: (await json([
        "bench/redis-cpu.ts",
        JSON.stringify({ urls: [redis.url], count: redisCpuLogins }),
      ])) as unknown as RedisCpu,
    } as Measured["redis"];
  } catch (err) {
    console.error(`Redis rows failed: ${(err as Error).message.slice(0, 500)}`);
  } finally {
    await redis.stop();
  }
  // The same logins on a Redis Cluster (three primaries with a replica each): where its CPU goes, and
  // how much of it lands on the primary of the counters shared between phones.
  console.error("Redis Cluster: Redis CPU per start and login, per primary");
  try {
    const cluster = await startRedisCluster(3, 1, 5_000);
    try {
      results.redisCluster = (await json([
        "bench/redis-cpu.ts",
        JSON.stringify({ urls: cluster.urls, cluster: true, count: redisCpuLogins }),
      ])) as unknown as RedisCpu;
    } finally {
      await cluster.stop();
    }
  } catch (err) {
    console.error(`Redis Cluster rows failed: ${(err as Error).message.slice(0, 500)}`);
  }
}
if (postgresBinDir()) {
  console.error("PostgreSQL work per login");
  const postgres = await startPostgres();
  try {
    results.postgres = (await json([
      "bench/pg-writes.ts",
      postgres.url,
      String(quick ? 60 : 600),
    ])) as Measured["postgres"];
  } catch (err) {
    console.error(`PostgreSQL rows failed: ${(err as Error).message.slice(0, 500)}`);
  } finally {
    await postgres.stop();
  }
}
console.error("memory per pending code");
results.memCount = quick ? 100_000 : 1_000_000;
results.memory = (await json(
  ["bench/memory.ts", String(results.memCount)],
  ["--expose-gc", "--max-old-space-size=4096"],
)) as Measured["memory"];

rmSync(dirname(serverScript), { recursive: true, force: true });

const { targets, markdown } = report(results);
results.targets = targets;
mkdirSync(join(outDir, "results"), { recursive: true });
writeFileSync(join(outDir, "results", quick ? "quick.json" : "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
// Sections written by hand after the marker are kept.
const MARKER = "<!-- Written by hand below this line";
const previous = existsSync(docFile) ? readFileSync(docFile, "utf8") : "";
const kept = previous.includes(MARKER) ? `\n${previous.slice(previous.indexOf(MARKER))}` : "";
writeFileSync(docFile, markdown + kept);
console.log(JSON.stringify({ targets }));
