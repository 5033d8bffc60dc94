import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** Real Redis and PostgreSQL servers on loopback for the integration suites, each in its own temp folder. */
export interface RunningService {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function redisBinary(): string | undefined {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) if (existsSync(p)) return p;
  return undefined;
}

export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const version = readdirSync(base).sort().at(-1);
  return version && existsSync(join(base, version, "bin", "postgres")) ? join(base, version, "bin") : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port}`);
}

function stopper(child: ChildProcess, dir: string) {
  return () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", done);
      child.kill("SIGTERM");
    });
}

/** A redis-server with persistence off, on a free loopback port (or the given one, to restart it). */
export async function startRedis(port?: number): Promise<RunningService> {
  const bin = redisBinary();
  if (!bin) throw new Error("redis-server is not installed (apt-get install redis-server)");
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "textlock-redis-"));
  const child = spawn(
    bin,
    ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  await waitForPort(p, child, "redis-server");
  return { url: `redis://127.0.0.1:${p}`, port: p, process: child, stop: stopper(child, dir) };
}

/** A PostgreSQL cluster in a temp folder on a free loopback port (run as the postgres user when we are root). */
export async function startPostgres(): Promise<RunningService> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "textlock-pg-"));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    (asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const [initCmd, initArgs] = run(join(bin, "initdb"), [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });
  const [cmd, args] = run(join(bin, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "max_connections=200",
  ]);
  const child = spawn(cmd, args, { stdio: "ignore" });
  await waitForPort(port, child, "postgres");
  // The port opens a moment before the server accepts queries.
  await new Promise((r) => setTimeout(r, 300));
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, process: child, stop: stopper(child, dir) };
}

/**
 * A fresh database on the test PostgreSQL for one test file: textlock instances on PostgreSQL keep
 * their signing keys there, sealed with their server secret, so files using other secrets must not
 * share one database (an instance refuses keys it cannot open).
 */
export async function isolatedDatabase(baseUrl: string | undefined, name: string): Promise<string | undefined> {
  if (!baseUrl) return undefined;
  const db = `textlock_${name}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${db}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${db}`;
  return url.toString();
}
