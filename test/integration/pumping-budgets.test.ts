import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { afterAll, describe, expect, inject, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";

// Real `textlock serve` processes on one Redis, behind a (simulated) trusted proxy: every request comes
// from another client IP in X-Forwarded-For, as a pumping botnet's would, so per-IP limits never fire.
const redisUrl = inject("redisUrl");

interface Node {
  child: ChildProcess;
  pool: Pool;
  log: string[];
}

const running: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});

async function cluster(processes: number, protection: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-pump-"));
  const configFile = join(dataDir, "textlock.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      secret: "shared-secret-shared-secret-shared-0002",
      dataDir,
      store: {
        type: "redis",
        url: redisUrl,
        namespace: `pump-${process.pid}-${Math.random()}`,
        commandTimeoutMs: 1000,
      },
      users: { type: "memory" },
      server: { trustProxy: true },
      protection: {
        enabled: true,
        perPhone: { points: 1000, seconds: 3600 },
        perPrefix: { points: 1000, seconds: 3600 },
        resendCooldownSeconds: 0,
        ...protection,
      },
      logging: { level: "info" },
    }),
  );
  const nodes: Node[] = await Promise.all(
    Array.from({ length: processes }, async () => {
      const { url, child } = await spawnServe(configFile, [], { stderr: "pipe" });
      const log: string[] = [];
      let rest = "";
      child.stderr!.on("data", (d) => {
        const lines = (rest + d).split("\n");
        rest = lines.pop()!;
        log.push(...lines);
      });
      return { child, pool: new Pool(url, { connections: 40, pipelining: 0 }), log };
    }),
  );
  let ip = 0;
  const start = async (i: number, phone: string) => {
    ip++;
    const res = await nodes[i % nodes.length]!.pool.request({
      method: "POST",
      path: "/passwordless/start",
      headers: { "content-type": "application/json", "x-forwarded-for": `198.51.${ip >> 8}.${ip & 255}` },
      body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: phone }),
    });
    const body = JSON.parse(await res.body.text()) as Record<string, string>;
    return { status: res.statusCode, body, retryAfter: res.headers["retry-after"] };
  };
  const outbox = () => {
    try {
      return readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  /** Log records (JSON lines) of every process that carry `event` or `reason`. */
  const records = (match: (r: Record<string, unknown>) => boolean) =>
    nodes
      .flatMap((n) => n.log)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .filter(match);
  const stop = async () => {
    await Promise.all(
      nodes.map(async (n) => {
        await n.pool.close();
        if (n.child.exitCode !== null || n.child.signalCode !== null) return;
        const exited = new Promise((resolve) => n.child.once("exit", resolve));
        n.child.kill("SIGTERM");
        const timer = setTimeout(() => n.child.kill("SIGKILL"), 8_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    rmSync(dataDir, { recursive: true, force: true });
  };
  running.push(stop);
  return { start, outbox, records };
}

const pumping = (mode: "enforce" | "monitor") => ({
  pumping: { mode, windowSeconds: 3600, minVerifiedRatio: 0.2, minSends: { prefix: 10, country: 1000 } },
});

describe.skipIf(!redisUrl)("pumping and money budgets through `textlock serve` on Redis", () => {
  it("quarantines a prefix hit by a burst of starts from rotating IPs, reports it, and keeps other prefixes working", async () => {
    const c = await cluster(2, pumping("enforce"));
    const results = [];
    for (let i = 0; i < 25; i++) results.push(await c.start(i, `+1415555${String(1000 + i)}`));
    expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(200));
    for (const r of results.slice(10)) {
      expect(r.status).toBe(429);
      expect(r.body).toEqual({
        error: "too_many_requests",
        error_description: "Codes cannot be sent to this phone number right now. Try again later.",
      });
      expect(Number(r.retryAfter)).toBeGreaterThan(3000);
    }
    expect(c.outbox()).toBe(10);
    // One process saw the change and reported it, once, with the evidence and no number.
    // A log line reaches this process through the server's stderr pipe, possibly after the answer it
    // belongs to: wait for it (expect.poll fails if the count passes the expected one and stays there).
    await expect
      .poll(() => c.records((r) => r.event === "pumping.detected"))
      .toEqual([
        expect.objectContaining({
          scope: "prefix",
          prefix: "+1415555",
          sent: 10,
          verified: 0,
          ratio: 0,
          mode: "enforce",
        }),
      ]);
    await expect.poll(() => c.records((r) => r.reason === "pumping").length).toBe(15);
    expect(await c.start(0, "+14155561234")).toMatchObject({ status: 200 });
    expect(await c.start(1, "+14155571234")).toMatchObject({ status: 200 });
    expect(c.outbox()).toBe(12);
  });

  it("in monitor mode reports the same burst but sends every message", async () => {
    const c = await cluster(1, pumping("monitor"));
    for (let i = 0; i < 15; i++) expect((await c.start(i, `+1415555${String(2000 + i)}`)).status).toBe(200);
    expect(c.outbox()).toBe(15);
    await expect
      .poll(() => c.records((r) => r.event === "pumping.detected"))
      .toEqual([expect.objectContaining({ scope: "prefix", prefix: "+1415555", sent: 10, mode: "monitor" })]);
    expect(c.records((r) => r.reason === "pumping")).toHaveLength(0);
  });

  it("stops sends exactly at a money budget across two processes under concurrent requests", async () => {
    const c = await cluster(2, {
      pumping: { mode: "off" },
      budgets: { currency: "USD", prices: { US: 0.05 }, perCountryDaily: { US: 1 }, alertAt: [0.5, 0.8] },
    });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => c.start(i, `+1415${String(5550000 + i * 10_001).slice(0, 7)}`)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(40);
    for (const r of refused)
      expect(r.body.error_description).toBe("Too many messages were sent today. Try again later.");
    expect(c.outbox()).toBe(20);
    await expect.poll(() => c.records((r) => r.event === "budget.threshold").length).toBe(2);
    const alerts = c.records((r) => r.event === "budget.threshold");
    expect(alerts.map((a) => a.threshold).sort()).toEqual([0.5, 0.8]);
    expect(alerts[0]).toMatchObject({ scope: "country", country: "US", limit: 1, currency: "USD" });
    await expect.poll(() => c.records((r) => r.reason === "cost_budget").length).toBe(40);
  });
});
