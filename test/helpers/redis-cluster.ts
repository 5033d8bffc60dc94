import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, redisBinary } from "./services.js";

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  url: string;
  process: ChildProcess;
  /** SIGKILL (a crash, not a shutdown). */
  kill(): void;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  /** URLs of every node (what textlock's `store.cluster` is given). */
  urls: string[];
  /** `redis-cli` against one node. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the primary serving `key`'s slot, as the cluster sees it now. */
  primaryOf(key: string): Promise<number>;
  /** Resolves once every live node reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster on loopback: `primaries` nodes started with `--cluster-enabled yes` on free
 * ports, each with `replicasEach` replicas, joined by `redis-cli --cluster create … --cluster-yes`.
 * `nodeTimeoutMs` is the cluster's failure-detection time (a dead primary's replica is promoted soon
 * after it).
 */
export async function startRedisCluster(primaries = 3, replicasEach = 1, nodeTimeoutMs = 1_000): Promise<RedisCluster> {
  const bin = redisBinary();
  if (!bin) throw new Error("redis-server is not installed");
  const dir = mkdtempSync(join(tmpdir(), "textlock-cluster-"));
  const nodes: ClusterNode[] = [];
  const cli = async (port: number, ...args: string[]) =>
    (await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args])).stdout;
  for (let i = 0; i < primaries * (1 + replicasEach); i++) {
    const port = await freePort();
    const child = spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        // A replica may take over whatever the age of its data (the test waits for replication first).
        "--cluster-replica-validity-factor",
        "0",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--logfile",
        `node-${port}.log`,
      ],
      { stdio: "ignore" },
    );
    nodes.push({ port, url: `redis://127.0.0.1:${port}`, process: child, kill: () => child.kill("SIGKILL") });
  }
  for (const node of nodes) {
    const until = Date.now() + 20_000;
    for (;;) {
      const pong = await cli(node.port, "ping").catch(() => "");
      if (pong.trim() === "PONG") break;
      if (Date.now() > until) throw new Error(`redis node ${node.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await run("redis-cli", [
    "--cluster",
    "create",
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    "--cluster-replicas",
    String(replicasEach),
    "--cluster-yes",
  ]);
  const alive = () => nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
  const cluster: RedisCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    cli,
    async primaryOf(key) {
      const slot = Number((await cli(alive()[0]!.port, "cluster", "keyslot", key)).trim());
      const lines = (await cli(alive()[0]!.port, "cluster", "nodes")).trim().split("\n");
      for (const line of lines) {
        const [, address, flags, , , , , state, ...ranges] = line.split(" ");
        if (!flags!.includes("master") || flags!.includes("fail") || state !== "connected") continue;
        for (const range of ranges) {
          const [from, to] = range.split("-").map(Number);
          if (slot >= from! && slot <= (to ?? from!)) return Number(address!.split("@")[0]!.split(":")[1]);
        }
      }
      throw new Error(`no primary serves slot ${slot}`);
    },
    async waitHealthy(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(alive().map((n) => cli(n.port, "cluster", "info").catch(() => "")));
        const links = await Promise.all(alive().map((n) => cli(n.port, "info", "replication").catch(() => "")));
        const synced = links.every((l) => l.includes("role:master") || l.includes("master_link_status:up"));
        if (synced && states.every((s) => s.includes("cluster_state:ok"))) return;
        if (Date.now() > until) throw new Error("redis cluster did not become healthy");
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((resolve) => {
              if (n.process.exitCode !== null || n.process.signalCode !== null) return resolve();
              n.process.once("exit", () => resolve());
              n.process.kill("SIGTERM");
            }),
        ),
      );
      if (!process.env.KEEP_CLUSTER_DIR) rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  return cluster;
}
