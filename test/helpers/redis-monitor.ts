import { type ChildProcess, execFile, spawn } from "node:child_process";

/**
 * Watches every command a Redis server receives (`redis-cli MONITOR`). Commands a Lua script runs
 * show up with the client `lua` and are not round trips; what is left are the commands clients sent,
 * one network round trip each (textlock never pipelines). `commands()` gives the client commands seen
 * since the last `reset()`, by command name.
 */
export interface RedisMonitor {
  /**
   * Forgets the commands seen so far. Waits for the stream to catch up first, so that a command the
   * server ran before the reset (whose line was still on its way) is not counted after it.
   */
  reset(): Promise<void>;
  /**
   * Client commands since the last reset. Waits until the monitor stream has caught up: a sentinel
   * `ECHO`, sent after them, has come through (MONITOR shows commands in the order the server ran them).
   */
  commands(): Promise<string[]>;
  stop(): void;
}

export async function monitorRedis(port: number): Promise<RedisMonitor> {
  const child: ChildProcess = spawn("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "monitor"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let seen: string[] = [];
  let rest = "";
  const sentinels = new Map<string, () => void>();
  let sentinelCount = 0;
  let ready: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout!.on("data", (d: Buffer) => {
    const lines = (rest + d.toString("utf8")).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "OK") ready();
      const sentinel = [...sentinels.keys()].find((token) => line.includes(token));
      if (sentinel) {
        sentinels.get(sentinel)!();
        sentinels.delete(sentinel);
        continue;
      }
      // 1700000000.123456 [0 127.0.0.1:54321] "eval" "..." / [0 lua] "hset" ...
      const m = line.match(/^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/);
      if (m && m[1] !== "lua") seen.push(m[2]!.toLowerCase());
    }
  });
  await started;
  const monitor: RedisMonitor = {
    async reset() {
      await monitor.commands();
      seen = [];
    },
    async commands() {
      const token = `textlock-monitor-sentinel-${process.pid}-${++sentinelCount}`;
      const through = new Promise<void>((resolve) => sentinels.set(token, resolve));
      execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "echo", token], () => undefined);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("MONITOR did not show the sentinel within 10 s")), 10_000);
      });
      try {
        await Promise.race([through, late]);
      } finally {
        clearTimeout(timer);
      }
      return [...seen];
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
  return monitor;
}
