import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { Pool } from "undici";
import { describe, expect, inject, it } from "vitest";
import { PostgresUserStore } from "../../core/users/postgres-user-store.js";
import { SqliteUserStore } from "../../core/users/sqlite-user-store.js";
import type { UserStore } from "../../core/users/user-store.js";
import { spawnServe } from "../helpers/serve-process.js";
import { isolatedDatabase } from "../helpers/services.js";

// Group commit: the writes of many concurrent logins share transactions, and a login is only answered
// once its transaction has committed. So a process killed (SIGKILL) the moment the last answer arrives has
// every answered user on disk, each with its login counted.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "group_commit");
const logger = pino({ level: "silent" });
const LOGINS = 60;

async function killAfterConcurrentLogins(users: object, phonePrefix: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-gc-kill-"));
  const configFile = join(dataDir, "textlock.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      secret: "group-commit-secret-group-commit-secret-1",
      dataDir,
      users,
      protection: { enabled: false },
      logging: { level: "error" },
    }),
  );
  const { url, child } = await spawnServe(configFile);
  const pool = new Pool(url, { connections: LOGINS, pipelining: 0 });
  const post = async (path: string, body: object) => {
    const res = await pool.request({
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, body: JSON.parse(await res.body.text()) as Record<string, string> };
  };
  const phones = Array.from({ length: LOGINS }, (_, i) => `${phonePrefix}${String(i).padStart(2, "0")}`);
  try {
    for (const r of await Promise.all(
      phones.map((p) => post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: p })),
    ))
      expect(r.status).toBe(200);
    const codes = new Map<string, string>();
    for (const line of readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n")) {
      const m = JSON.parse(line) as { to: string; body: string };
      codes.set(m.to, m.body.match(/\d{6}/)![0]);
    }
    let answered = 0;
    const subs: Array<{ phone: string; sub: string }> = [];
    await Promise.all(
      phones.map(async (phone) => {
        const res = await post("/oauth/token", {
          grant_type: OTP,
          client_id: "textlock-dev",
          username: phone,
          otp: codes.get(phone),
          realm: "sms",
          scope: "openid",
        });
        expect(res.status).toBe(200);
        const { sub } = JSON.parse(Buffer.from(res.body.id_token!.split(".")[1]!, "base64url").toString());
        subs.push({ phone, sub });
        // The moment the last answer arrives, the process dies without any chance to flush.
        if (++answered === LOGINS) child.kill("SIGKILL");
      }),
    );
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode ? resolve(0) : child.once("exit", resolve),
    );
    expect(child.signalCode).toBe("SIGKILL");
    return { subs, dataDir };
  } finally {
    if (child.exitCode === null && !child.signalCode) child.kill("SIGKILL");
    await pool.destroy();
  }
}

async function expectAllPresent(store: UserStore, subs: Array<{ phone: string; sub: string }>) {
  try {
    expect(subs).toHaveLength(LOGINS);
    for (const { phone, sub } of subs)
      expect(await store.findById(sub), phone).toMatchObject({ phone_number: phone, logins_count: 1 });
  } finally {
    await store.close();
  }
}

describe("group commit: every answered login survives SIGKILL", () => {
  it("SQLite (the embedded default): 60 concurrent first logins, killed right after the last answer", async () => {
    const { subs, dataDir } = await killAfterConcurrentLogins({ type: "sqlite" }, "+141555561");
    await expectAllPresent(new SqliteUserStore(join(dataDir, "users.db")), subs);
  }, 60_000);

  it.skipIf(!postgresUrl)(
    "PostgreSQL: 60 concurrent first logins, killed right after the last answer",
    async () => {
      const { subs } = await killAfterConcurrentLogins({ type: "postgres", url: postgresUrl }, "+141555562");
      await expectAllPresent(await PostgresUserStore.connect({ url: postgresUrl! }, logger), subs);
    },
    60_000,
  );
});

describe.skipIf(!postgresUrl)("PostgresUserStore group commit", () => {
  it("batches 200 concurrent first logins and login records; an unknown user fails alone", async () => {
    const store = await PostgresUserStore.connect({ url: postgresUrl! }, logger);
    try {
      const phone = (i: number) => `+1415556${String(3000 + i)}`;
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create("sms", phone(i))));
      expect(created.every((r) => r.created)).toBe(true);
      const logged = await Promise.allSettled([
        ...created.map((r) => store.recordLogin(r.user.user_id, { at: new Date() })),
        store.recordLogin("sms|000000000000000000000000", { at: new Date() }),
      ]);
      expect(logged.filter((r) => r.status === "fulfilled")).toHaveLength(200);
      expect((logged.at(-1) as PromiseRejectedResult).reason.code).toBe("ERR_MGMT_USER_NOT_FOUND");
      expect(store.writeStats.writes).toBe(401);
      expect(store.writeStats.commits).toBeLessThan(20);
      expect(store.writeStats.largestBatch).toBeGreaterThan(50);
      for (const r of created.slice(0, 20))
        expect(await store.findById(r.user.user_id)).toMatchObject({ logins_count: 1 });
    } finally {
      await store.close();
    }
  });

  it("with the database unreachable, every write of a batch gets its 503 at once (one attempt, not one per write)", async () => {
    const store = await PostgresUserStore.connect({ url: postgresUrl!, timeoutMs: 500 }, logger);
    const created = await store.create("sms", "+14155564999");
    // Every pooled connection is cut, and new ones are refused: the next batch cannot even begin.
    const pool = (store as unknown as { pool: { options: { connectionString: string } } }).pool;
    pool.options.connectionString = "postgres://postgres@127.0.0.1:1/none";
    await new pg.Client({ connectionString: postgresUrl }).connect().then(async (admin) => {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      await admin.end();
    });
    const commitsBefore = store.writeStats.commits;
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => store.recordLogin(created.user.user_id, { at: new Date() })),
    );
    expect(results.every((r) => r.status === "rejected" && r.reason.code === "ERR_STORE_UNAVAILABLE")).toBe(true);
    expect(store.writeStats.commits - commitsBefore).toBe(1);
    await store.close();
  });

  it("two processes' batches locking the same users in opposite orders both commit: locks are taken in one order", async () => {
    const a = await PostgresUserStore.connect({ url: postgresUrl! }, logger);
    const b = await PostgresUserStore.connect({ url: postgresUrl! }, logger);
    try {
      const users = await Promise.all(Array.from({ length: 20 }, (_, i) => a.create("sms", `+1415556${4000 + i}`)));
      const ids = users.map((u) => u.user.user_id);
      const rounds = 3;
      for (let round = 0; round < rounds; round++)
        await Promise.all([
          ...ids.map((id) => a.recordLogin(id, { at: new Date() })),
          ...[...ids].reverse().map((id) => b.recordLogin(id, { at: new Date() })),
        ]);
      for (const id of ids) expect(await a.findById(id)).toMatchObject({ logins_count: 2 * rounds });
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
