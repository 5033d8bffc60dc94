import { type ChildProcess, spawn } from "node:child_process";

/**
 * Watches every command a Redis server receives (`redis-cli MONITOR`). Commands a Lua script runs
 * show up with the client `lua` and are not round trips; what is left are the commands clients sent,
 * one network round trip each (textlock never pipelines). `count()` gives the client commands seen
 * since the last `reset()`, by command name.
 */
export interface RedisMonitor {
  reset(): void;
  /** Client commands since the last reset (waits a moment for the monitor stream to catch up). */
  commands(): Promise<string[]>;
  stop(): void;
}

export async function monitorRedis(port: number): Promise<RedisMonitor> {
  const child: ChildProcess = spawn("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "monitor"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let seen: string[] = [];
  let rest = "";
  let ready: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout!.on("data", (d: Buffer) => {
    const lines = (rest + d.toString("utf8")).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "OK") ready();
      // 1700000000.123456 [0 127.0.0.1:54321] "eval" "..." / [0 lua] "hset" ...
      const m = line.match(/^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/);
      if (m && m[1] !== "lua") seen.push(m[2]!.toLowerCase());
    }
  });
  await started;
  return {
    reset() {
      seen = [];
    },
    async commands() {
      await new Promise((r) => setTimeout(r, 300));
      return [...seen];
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
}
