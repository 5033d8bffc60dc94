// Redis's own CPU per start and per code exchange, under load, in its own process:
// `tsx bench/redis-cpu.ts '<json spec>'` with `{ "urls": [...], "cluster": bool, "count": n }`; prints one JSON line.
// textlock (default protection, SQLite users) runs in this process and keeps 20 requests in flight; each
// Redis primary's CPU is read from its main thread's CPU time (`INFO cpu`, where Redis runs commands and
// scripts), so the figures do not depend on how busy the machine was. On a cluster it also tells which
// primary holds the counters shared between phones (the `{namespace}` slot): every start runs a script
// there, so that primary's CPU per start bounds the whole cluster's login rate (docs/capacity.md).
import { createClient } from "@redis/client";
import { VERIFIED_BATCH_MS } from "../core/protection/verified-batch.js";
import { phone, redisLogins } from "./redis-logins.js";

interface Spec {
  /** A single Redis's URL, or every node of a cluster. */
  urls: string[];
  cluster?: boolean;
  /** Logins (a start, then its code exchange). */
  count: number;
}
const spec = JSON.parse(process.argv[2]!) as Spec;
const CONCURRENCY = 20;
/**
 * Starts sent before their codes are exchanged. Pumping detection quarantines a country whose verified
 * codes fall below 20% of those sent: with the warm-up's codes verified first, a chunk keeps it above 50%.
 */
const CHUNK = 100;
const namespace = `cpu${process.pid}`;

const connect = async (url: string) => {
  const client = createClient({ url });
  await client.connect();
  return client;
};
type Client = Awaited<ReturnType<typeof connect>>;
/** One client per node, to read its CPU; replicas are left out (they run no script). */
const nodes: Client[] = [];
for (const url of spec.urls) {
  const client = await connect(url);
  if ((await client.info("replication")).includes("role:master")) nodes.push(client);
  else await client.quit();
}
/** A node's main-thread CPU seconds so far (Redis 6+; the process's on older servers). */
const cpuOf = async (client: Client) => {
  const info = await client.info("cpu");
  const field = (name: string) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, "m"))?.[1] ?? Number.NaN);
  const main = field("used_cpu_user_main_thread") + field("used_cpu_sys_main_thread");
  return Number.isFinite(main) ? main : field("used_cpu_user") + field("used_cpu_sys");
};
const cpus = () => Promise.all(nodes.map(cpuOf));

const { tl, start, exchange, sentCodes } = await redisLogins(
  "redis-cpu",
  spec.cluster ? { type: "redis", cluster: spec.urls, namespace } : { type: "redis", url: spec.urls[0]!, namespace },
);

/** Runs `call` for every id, `CONCURRENCY` at a time; adds each primary's CPU seconds meanwhile to `into`. */
async function loaded(ids: number[], call: (i: number) => Promise<unknown>, into: number[]) {
  const before = await cpus();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ids.length) await call(ids[next++]!);
    }),
  );
  // Verified codes' pumping counts may wait VERIFIED_BATCH_MS for their batch (on a cluster): count them here.
  await new Promise((r) => setTimeout(r, VERIFIED_BATCH_MS + 50));
  const after = await cpus();
  after.forEach((c, k) => {
    into[k] = (into[k] ?? 0) + c - before[k]!;
  });
}

/** Starts for `ids`, then their code exchanges; each primary's CPU seconds added to `starts` and `exchanges`. */
async function logins(ids: number[], starts: number[], exchanges: number[]) {
  await loaded(ids, start, starts);
  const codes = sentCodes();
  await loaded(ids, (i) => exchange(i, codes.get(phone(i))!), exchanges);
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
// Warm up (scripts loaded on every primary, connections open), then measure. A refused start or login
// throws and fails the run: only answered requests are counted.
const WARM = CHUNK;
await logins(range(0, WARM), [], []);
const startCpu = nodes.map(() => 0);
const exchangeCpu = nodes.map(() => 0);
for (let from = WARM; from < WARM + spec.count; from += CHUNK)
  await logins(range(from, Math.min(CHUNK, WARM + spec.count - from)), startCpu, exchangeCpu);

// The primary holding the shared counters: the one with keys in the `{namespace}` slot.
const shared = nodes.map(() => true);
if (spec.cluster) {
  const slot = String(await nodes[0]!.sendCommand(["CLUSTER", "KEYSLOT", `{${namespace}}`]));
  for (const [k, n] of nodes.entries())
    shared[k] = Number(await n.sendCommand(["CLUSTER", "COUNTKEYSINSLOT", slot])) > 0;
}
const us = (seconds: number) => (seconds * 1e6) / spec.count;
await tl.close();
for (const n of nodes) await n.quit();
console.log(
  JSON.stringify({
    count: spec.count,
    concurrency: CONCURRENCY,
    primaries: nodes.map((_, k) => ({
      shared: shared[k],
      startCpuUs: us(startCpu[k]!),
      exchangeCpuUs: us(exchangeCpu[k]!),
    })),
    startCpuUs: us(startCpu.reduce((a, b) => a + b, 0)),
    exchangeCpuUs: us(exchangeCpu.reduce((a, b) => a + b, 0)),
  }),
);
process.exit(0);
