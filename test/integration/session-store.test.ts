import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, inject, it } from "vitest";
import { RedisOtpStore } from "../../core/otp/redis-otp-store.js";
import {
  type LoginSession,
  MemorySessionStore,
  RedisSessionStore,
  type SessionStore,
  SqliteSessionStore,
} from "../../core/sessions/session-store.js";
import { PostgresUserStore } from "../../core/users/postgres-user-store.js";

// The session store's contract in every store: memory, SQLite, PostgreSQL (where the sessions of several
// processes meet) and Redis (a host's option).
const redisUrl = inject("redisUrl");
const postgresUrl = inject("postgresUrl");
const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const store of opened) await store.close();
});

const session = (sid: string, userId: string, lifeMs: number, now = Date.now()): LoginSession => ({
  sid: sid.padEnd(22, "x"),
  secretHash: "h",
  userId,
  connection: "sms",
  authTime: now,
  claims: { idToken: { "https://x/role": "admin" }, accessToken: {} },
  expiresAt: now + lifeMs,
  idleExpiresAt: now + lifeMs,
  clients: ["spa"],
});

const makers: Array<[string, () => Promise<SessionStore>]> = [
  ["memory", async () => new MemorySessionStore()],
  [
    "sqlite",
    async () => {
      const store = new SqliteSessionStore(join(mkdtempSync(join(tmpdir(), "textlock-sess-")), "sessions.db"));
      opened.push(store);
      return store;
    },
  ],
];
if (postgresUrl)
  makers.push([
    "postgres",
    async () => {
      const users = await PostgresUserStore.connect({ url: postgresUrl }, pino({ level: "silent" }));
      opened.push(users);
      const store = users.sessionStore();
      // Each run starts from an empty table (the shared test database outlives runs).
      await store.deleteByUser("victim");
      return store;
    },
  ]);
if (redisUrl)
  makers.push([
    "redis",
    async () => {
      const codes = await RedisOtpStore.connect(
        { url: redisUrl, namespace: `sess-${process.pid}-${opened.length}`, commandTimeoutMs: 1_000 },
        pino({ level: "silent" }),
      );
      opened.push(codes);
      return new RedisSessionStore(codes.rawClient as never, `sess-${process.pid}-${opened.length}`);
    },
  ]);

describe.each(makers)("%s session store", (_name, make) => {
  it("saves, finds, replaces and deletes a session", async () => {
    const store = await make();
    const s = session("a1", "u1", 60_000);
    await store.save(s);
    expect(await store.get(s.sid)).toEqual(s);
    await store.save({ ...s, clients: ["spa", "web"] });
    expect((await store.get(s.sid))?.clients).toEqual(["spa", "web"]);
    expect(await store.delete(s.sid)).toBe(true);
    expect(await store.delete(s.sid)).toBe(false);
    expect(await store.get(s.sid)).toBeUndefined();
  });

  it("a session is gone at the earlier of its idle and absolute ends", async () => {
    const store = await make();
    const now = Date.now();
    // 400 ms: long enough that a busy machine still reads b1 before its idle end.
    await store.save({ ...session("b1", "u2", 60_000, now), idleExpiresAt: now + 400 });
    await store.save({ ...session("b2", "u2", 400, now), idleExpiresAt: now + 60_000 });
    expect(await store.get("b1".padEnd(22, "x"))).toBeDefined();
    await new Promise((r) => setTimeout(r, Math.max(0, now + 550 - Date.now())));
    expect(await store.get("b1".padEnd(22, "x"))).toBeUndefined();
    expect(await store.get("b2".padEnd(22, "x"))).toBeUndefined();
  });

  it("deleteByUser ends every session of that user and no one else's", async () => {
    const store = await make();
    for (const sid of ["c1", "c2", "c3"]) await store.save(session(sid, "victim", 60_000));
    await store.save(session("c4", "bystander", 60_000));
    await store.delete("c2".padEnd(22, "x"));
    expect(await store.deleteByUser("victim")).toBe(2);
    for (const sid of ["c1", "c2", "c3"]) expect(await store.get(sid.padEnd(22, "x"))).toBeUndefined();
    expect(await store.get("c4".padEnd(22, "x"))).toBeDefined();
    expect(await store.deleteByUser("victim")).toBe(0);
  });

  it("purges ended sessions only (stores that expire entries themselves have no purge)", async () => {
    const store = await make();
    if (!store.purgeExpired) return expect(store).toBeInstanceOf(RedisSessionStore);
    const now = Date.now();
    await store.save(session("d1", "u9", 60_000, now - 120_000));
    await store.save(session("d2", "u9", 60_000, now));
    expect(await store.purgeExpired(now)).toBeGreaterThanOrEqual(1);
    expect(await store.get("d2".padEnd(22, "x"))).toBeDefined();
    expect(await store.purgeExpired(now)).toBe(0);
  });
});
