// The bench's processes: servers pinned to one core, the load generator (bench/load.ts) to the other
// (`taskset`, when there are two cores), each its own process. Shared by bench/run.ts and bench/ab.ts.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const root = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);
const SERVER_CPU = "0";
const LOAD_CPU = "1";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Logins: the server time of their starts and of their code exchanges, apart (ms). */
  start?: { p50: number; p99: number };
  exchange?: { p50: number; p99: number };
  non2xx?: number;
  errors?: number;
  failed?: number;
  total: number;
  /** Server CPU ms per completed request (per login for logins), from /proc. */
  cpuMs: number;
  /** Share of one core the server used during the timed phase. */
  busy: number;
}

export interface Server {
  url: string;
  child: ChildProcess;
  dataDir: string;
}

/** The last line a bench script printed: its result, as JSON. */
export const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!);

/** Starting, loading and stopping bench processes, pinned (`taskset`) when `pin` and the machine allow. */
export function benchProcesses({ pin: wanted = true } = {}) {
  const pin = wanted && cpus().length >= 2 && existsSync("/usr/bin/taskset");

  /** A node process running a script (TypeScript through tsx, or built JavaScript), pinned to `cpu`. */
  const node = (cpu: string, script: string, scriptArgs: string[]): [string, string[]] => {
    const cmd = [process.execPath, ...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script, ...scriptArgs];
    return pin ? ["taskset", ["-c", cpu, ...cmd]] : [cmd[0]!, cmd.slice(1)];
  };

  /** Starts a bench server (`bench/server.ts` built, or `bench/better-auth-server.ts`); its stdout goes to a file. */
  const startServer = async (
    script: string,
    scriptArgs: (dataDir: string) => string[],
    env: Record<string, string> = {},
  ): Promise<Server> => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-bench-"));
    // The console provider prints each SMS; a pipe read by this process would make the runner part of the measurement.
    const logFile = join(dataDir, "server.out");
    const fd = openSync(logFile, "w");
    const [cmd, cmdArgs] = node(SERVER_CPU, script, scriptArgs(dataDir));
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: ["ignore", fd, "inherit"], env: { ...process.env, ...env } });
    closeSync(fd);
    const began = Date.now();
    let url: string | undefined;
    while (!url) {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
      if (Date.now() - began > 90_000) throw new Error(`${script} did not start`);
      url = readFileSync(logFile, "utf8").match(/READY (\S+)/)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    return { url, child, dataDir };
  };

  const stop = (server: Server): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        rmSync(server.dataDir, { recursive: true, force: true });
        resolve();
      };
      if (server.child.exitCode !== null) return done();
      server.child.once("exit", done);
      server.child.kill("SIGTERM");
    });

  /** One load (bench/load.ts) against `server`; `spec` is the load's JSON spec (kind, seconds, connections…). */
  const load = async (server: Server, spec: Record<string, unknown>): Promise<LoadResult> => {
    const [cmd, cmdArgs] = node(LOAD_CPU, "bench/load.ts", [
      JSON.stringify({
        url: server.url,
        outbox: join(server.dataDir, "outbox.jsonl"),
        serverPid: server.child.pid,
        ...spec,
      }),
    ]);
    const { stdout } = await run(cmd, cmdArgs, { cwd: root, timeout: 300_000, maxBuffer: 1 << 24 });
    return lastJsonLine(stdout) as LoadResult;
  };

  /** Runs a measuring script on the servers' core (while no server is under load): its JSON line. */
  const onServerCore = async (script: string, scriptArgs: string[]): Promise<Record<string, number>> => {
    const [cmd, cmdArgs] = node(SERVER_CPU, script, scriptArgs);
    const { stdout } = await run(cmd, cmdArgs, { cwd: root });
    return lastJsonLine(stdout);
  };

  return { pin, startServer, stop, load, onServerCore };
}
