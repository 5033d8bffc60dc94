import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PostgresUserStore } from "../../core/users/postgres-user-store.js";
import { spawnServe } from "../helpers/serve-process.js";
import { isolatedDatabase, type RunningService, startRedis } from "../helpers/services.js";

// Two textlock processes (the real command line, `textlock serve`) share one Redis and one PostgreSQL;
// requests are spread over both, fired concurrently over pre-opened connections.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
// Its own database: see isolatedDatabase.
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "two_processes");

interface Node {
  url: string;
  child: ChildProcess;
  pool: Pool;
}

async function startNode(configFile: string): Promise<Node> {
  const { url, child } = await spawnServe(configFile);
  return { url, child, pool: new Pool(url, { connections: 60, pipelining: 0 }) };
}

async function cluster(redisUrl: string, namespace: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-2p-"));
  const configFile = join(dataDir, "textlock.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      secret: "shared-secret-shared-secret-shared-0001",
      dataDir,
      store: { type: "redis", url: redisUrl, namespace, commandTimeoutMs: 500 },
      users: { type: "postgres", url: postgresUrl },
      otp: { failureCeiling: { max: 100, windowSeconds: 3600 } },
      protection: { enabled: false },
      logging: { level: "error" },
    }),
  );
  const nodes = await Promise.all([startNode(configFile), startNode(configFile)]);
  const codeFor = (phone: string) => {
    const lines = readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    return lines
      .filter((m) => m.to === phone)
      .at(-1)
      .body.match(/\d{6}/)[0] as string;
  };
  const call = async (i: number, path: string, body: object) => {
    const res = await nodes[i % 2]!.pool.request({
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: JSON.parse(text) as Record<string, string> };
  };
  const start = (i: number, phone: string) =>
    call(i, "/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone });
  const token = (i: number, phone: string, otp: string) =>
    call(i, "/oauth/token", {
      grant_type: OTP,
      client_id: "textlock-dev",
      username: phone,
      otp,
      realm: "sms",
      scope: "openid",
    });
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
  };
  return { nodes, codeFor, start, token, stop };
}

describe.skipIf(!postgresUrl)("two textlock processes on Redis and PostgreSQL", () => {
  let redis: RunningService;
  let c: Awaited<ReturnType<typeof cluster>>;

  beforeAll(async () => {
    redis = await startRedis();
    c = await cluster(redis.url, `two-${process.pid}`);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    await redis?.stop();
  });

  it("charges at most 3 of a burst of 100 concurrent wrong codes in total", async () => {
    const phone = "+14155550201";
    await c.start(0, phone);
    const code = c.codeFor(phone);
    const wrong = String((Number(code) + 1) % 1e6).padStart(6, "0");
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.token(i, phone, wrong)));
    const charged = results.filter((r) => r.body.error_description === "Wrong phone number or verification code.");
    expect(charged.length).toBeLessThanOrEqual(3);
    expect(results.every((r) => r.status === 403)).toBe(true);
    // The right code is dead now: the code is killed and the 100 failures also reached the per-phone ceiling.
    const after = await c.token(0, phone, code);
    expect(after.status).not.toBe(200);
    expect([
      "You've reached the maximum number of attempts. Please try to login again.",
      "Your account has been blocked after multiple consecutive login attempts.",
    ]).toContain(after.body.error_description);
  });

  it("gives exactly one token for 50 concurrent correct codes", async () => {
    const phone = "+14155550202";
    await c.start(1, phone);
    const code = c.codeFor(phone);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => c.token(i, phone, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status >= 500)).toHaveLength(0);
  });

  it("creates one user per phone across both processes, for logins through either", async () => {
    const phone = "+14155550203";
    const subs = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await c.start(i, phone);
      const res = await c.token(i + 1, phone, c.codeFor(phone));
      expect(res.status).toBe(200);
      subs.add(JSON.parse(Buffer.from(res.body.id_token!.split(".")[1]!, "base64url").toString()).sub);
    }
    expect(subs.size).toBe(1);
  });

  it("20 concurrent first logins across both processes create exactly one user", async () => {
    // Only one code is valid per phone, so the race is on the creation path: 20 concurrent creations of
    // one phone from two other processes (each with its own connection pool) on the same database.
    const phone = "+14155550204";
    const script = `
      import { pino } from "pino";
      import { PostgresUserStore } from "./core/users/postgres-user-store.ts";
      const store = await PostgresUserStore.connect({ url: process.env.PG_URL }, pino({ level: "silent" }));
      const results = await Promise.all(Array.from({ length: 10 }, () => store.create("sms", process.env.PHONE)));
      console.log(JSON.stringify(results.map((r) => [r.user.user_id, r.created])));
      await store.close();`;
    const root = new URL("../..", import.meta.url).pathname;
    const run = () =>
      new Promise<Array<[string, boolean]>>((resolve, reject) => {
        const child = spawn(join(root, "node_modules", ".bin", "tsx"), ["--input-type=module", "-e", script], {
          cwd: root,
          env: { ...process.env, PG_URL: postgresUrl, PHONE: phone },
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.once("exit", (code) =>
          code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`exit ${code}`)),
        );
      });
    const [a, b] = await Promise.all([run(), run()]);
    const all = [...a, ...b];
    expect(new Set(all.map(([id]) => id)).size).toBe(1);
    expect(all.filter(([, created]) => created)).toHaveLength(1);
  }, 30_000);

  it("keeps a user whose login was acknowledged even if the process is killed right after", async () => {
    const phone = "+14155550205";
    await c.start(0, phone);
    const res = await c.token(0, phone, c.codeFor(phone));
    expect(res.status).toBe(200);
    c.nodes[0]!.child.kill("SIGKILL");
    const sub = JSON.parse(Buffer.from(res.body.id_token!.split(".")[1]!, "base64url").toString()).sub;
    const store = await PostgresUserStore.connect({ url: postgresUrl! }, pino({ level: "silent" }));
    try {
      expect(await store.findById(sub)).toMatchObject({ phone_number: phone, logins_count: 1 });
    } finally {
      await store.close();
    }
  });

  it("answers only 503 temporarily_unavailable while Redis is down, then recovers without a restart", async () => {
    const phones = Array.from({ length: 20 }, (_, i) => `+141555503${String(i).padStart(2, "0")}`);
    // Node 0 was killed by the previous test; node 1 serves on.
    for (const p of phones) await c.start(1, p);
    await redis.stop();
    const during = await Promise.all(phones.flatMap((p) => [c.start(1, p), c.token(1, p, "123456")]));
    for (const r of during)
      expect(r).toEqual({
        status: 503,
        body: { error: "temporarily_unavailable", error_description: expect.any(String) },
      });
    redis = await startRedis(redis.port);
    await expect
      .poll(async () => (await c.start(1, "+14155550399")).status, { timeout: 15_000, interval: 200 })
      .toBe(200);
    const phone = "+14155550398";
    await c.start(1, phone);
    expect((await c.token(1, phone, c.codeFor(phone))).status).toBe(200);
  }, 40_000);
});
