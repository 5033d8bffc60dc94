import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { AuditStore } from "../../core/audit/audit-store.js";
import { MemoryAuditStore } from "../../core/audit/memory-audit-store.js";
import { PostgresAuditStore } from "../../core/audit/postgres-audit-store.js";
import { SqliteAuditStore } from "../../core/audit/sqlite-audit-store.js";
import type { TextlockConfigInput } from "../../core/config/schema.js";
import { type FakeLogReceiver, signatureValid, startLogReceiver } from "../fakes/fake-log-receiver.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { isolatedDatabase } from "../helpers/services.js";

// The audit log and log streams in-process, on SQLite and on PostgreSQL (its own database), with a
// loopback receiver playing the webhook endpoint.
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "audit_log");
const STREAM_SECRET = "stream-secret-stream-secret-0123456789";
const CLIENT_SECRET = "client-secret-client-secret-0123456789";
const AUTH = "Splunk 0a1b2c3d";
// Each test its own number: the PostgreSQL database (and its users) is shared by this file's tests.
let PHONE = "+14155550123";
const freshPhone = () => `+1415555${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}`;
beforeEach(() => {
  PHONE = freshPhone();
});
const masked = (phone: string) => `+*******${phone.slice(-4)}`;

const backends: Array<{ name: string; users: () => TextlockConfigInput["users"] }> = [
  { name: "sqlite", users: () => ({ type: "sqlite", file: join(mkdtempSync(join(tmpdir(), "audit-")), "users.db") }) },
  ...(postgresUrl ? [{ name: "postgres", users: () => ({ type: "postgres" as const, url: postgresUrl }) }] : []),
];

let tl: TestTextlock | undefined;
let receiver: FakeLogReceiver | undefined;
afterEach(async () => {
  await tl?.close();
  await receiver?.close();
  tl = undefined;
  receiver = undefined;
});

const stream = (url: string, extra: Record<string, unknown> = {}) => ({
  name: `s${Math.random().toString(36).slice(2, 8)}`,
  url,
  authorization: AUTH,
  secret: STREAM_SECRET,
  pollMs: 50,
  initialBackoffMs: 100,
  maxBackoffMs: 2_000,
  leaseSeconds: 2,
  ...extra,
});

async function open(users: TextlockConfigInput["users"], streams: object[], audit: object = {}) {
  return createTestTextlock({
    users,
    clients: [
      { client_id: "textlock-dev", name: "dev" },
      { client_id: "backend", name: "Backend App", client_secret: CLIENT_SECRET },
    ],
    connections: [{ name: "sms", enabled_clients: ["textlock-dev", "backend"] }],
    audit: { streams: streams as never, ...audit },
  });
}

async function login(t: TestTextlock, phone = PHONE) {
  const facts = { ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux) Chrome/120.0", host: "auth.example.com" };
  await t.api.start(
    { client_id: "backend", client_secret: CLIENT_SECRET, connection: "sms", phone_number: phone },
    facts,
  );
  const code = t.lastCode(phone);
  await t.api.login(
    { client_id: "backend", client_secret: CLIENT_SECRET, phone_number: phone, code, scope: "openid" },
    facts,
  );
  return code;
}

describe.each(backends)("audit log on $name", ({ users }) => {
  it("records a sign-up login as cs, ss, s with masked phone and request facts, and never a code or secret", async () => {
    tl = await open(users(), []);
    const t = tl;
    await t.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
    await expect(
      t.api.login({
        client_id: "textlock-dev",
        phone_number: PHONE,
        code: "000000" === t.lastCode(PHONE) ? "111111" : "000000",
      }),
    ).rejects.toThrow();
    const code = await login(t);
    await t.audit.flush();
    const { logs, total } = await t.audit.search({ order: 1 });
    expect(logs.map((l) => l.type)).toEqual(["cs", "fepotpft", "cs", "ss", "s"]);
    expect(total).toBe(5);
    const s = logs.at(-1)!;
    expect(s).toMatchObject({
      type: "s",
      client_id: "backend",
      client_name: "Backend App",
      connection: "sms",
      strategy: "sms",
      strategy_type: "passwordless",
      ip: "203.0.113.7",
      user_agent: "Mozilla/5.0 (X11; Linux) Chrome/120.0",
      hostname: "auth.example.com",
      user_name: masked(PHONE),
    });
    expect(s.user_id).toMatch(/^sms\|/);
    expect(s.log_id).toMatch(/^\d{56}$/);
    expect(logs[1]).toMatchObject({ type: "fepotpft", description: "Wrong phone number or verification code." });
    const text = JSON.stringify(logs);
    expect(text).not.toContain(code);
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain(PHONE.slice(1));
    // Filters and the per-user view.
    expect((await t.audit.search({ filter: { type: ["fepotpft"] } })).total).toBe(1);
    expect((await t.audit.search({ filter: { user_id: s.user_id } })).logs.map((l) => l.type)).toEqual(["s", "ss"]);
  });

  it("pages from/take by log_id, and purges records past the retention", async () => {
    tl = await open(users(), [], { retentionDays: 1 });
    const t = tl;
    const before = (await t.audit.search({ limit: 1 })).logs[0]?.log_id;
    const phones = [freshPhone(), freshPhone(), freshPhone()];
    for (const phone of phones)
      await t.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone });
    await t.audit.flush();
    // PostgreSQL pages only settled rows (older than every transaction still running on the server, where
    // other test files run theirs): they may take a moment to show.
    await expect
      .poll(async () => (await t.audit.after(before, 3)).map((l) => l.user_name), { timeout: 10_000 })
      .toEqual(phones.map(masked));
    const first = await t.audit.after(before, 2);
    expect(first.map((l) => l.user_name)).toEqual(phones.slice(0, 2).map(masked));
    const rest = await t.audit.after(first[1]!.log_id, 2);
    expect(rest.map((l) => l.user_name)).toEqual([masked(phones[2]!)]);
    expect(await t.audit.after(rest[0]!.log_id, 2)).toEqual([]);
    await expect(t.audit.after("123", 2)).rejects.toThrow();
    expect(await t.audit.purge()).toBe(0);
  });

  it("delivers every event of a login in order to the stream, signed, with the Authorization header verbatim", async () => {
    receiver = await startLogReceiver();
    tl = await open(users(), [stream(receiver.url)]);
    await login(tl);
    await expect.poll(() => receiver!.accepted().length).toBe(3);
    const events = receiver.accepted();
    expect(events.map((e) => e.data.type)).toEqual(["cs", "ss", "s"]);
    expect(events.map((e) => e.log_id)).toEqual([...events.map((e) => e.log_id)].sort());
    for (const e of events) expect(e.data.log_id).toBe(e.log_id);
    for (const b of receiver.batches) {
      expect(b.headers.authorization).toBe(AUTH);
      expect(b.headers["content-type"]).toBe("application/json");
      expect(signatureValid(STREAM_SECRET, b)).toBe(true);
      expect(signatureValid("another-secret-another-secret-0123456", b)).toBe(false);
    }
    await expect
      .poll(async () => (await tl!.audit.streams())[0])
      .toMatchObject({ pending: 0, deadLetters: 0, delivered: 3 });
  });

  it("retries a batch the receiver refuses, with exponential backoff, then delivers it once accepted", async () => {
    receiver = await startLogReceiver();
    receiver.status = 500;
    tl = await open(users(), [stream(receiver.url, { initialBackoffMs: 200, filters: ["user.notification"] })]);
    await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
    await expect.poll(() => receiver!.batches.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    receiver.status = 200;
    await expect.poll(() => receiver!.accepted().length, { timeout: 10_000 }).toBe(1);
    const at = receiver.batches.map((b) => b.at);
    // 200 ms, then 400 ms: each wait at least the backoff (less a poll's slack), and growing.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(180);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(380);
    // Every attempt carried the same event.
    expect(new Set(receiver.batches.map((b) => b.events[0]!.log_id)).size).toBe(1);
    expect(receiver.accepted()[0]!.data.type).toBe("cs");
  });

  it("dead-letters a batch after maxAttempts, counts it, and moves on to the next events", async () => {
    receiver = await startLogReceiver();
    receiver.status = 503;
    tl = await open(users(), [stream(receiver.url, { maxAttempts: 3, initialBackoffMs: 20, batchSize: 1 })]);
    await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
    await expect.poll(async () => (await tl!.audit.streams())[0]!.deadLetters, { timeout: 10_000 }).toBe(1);
    expect(receiver.batches).toHaveLength(3);
    const [status] = await tl.audit.streams();
    expect(status).toMatchObject({ pending: 0, lastError: "HTTP 503" });
    expect(await tl.metrics.prometheus()).toMatch(/textlock_log_stream_dead_letters_total\{stream="s\w+"\} 1/);
    expect(await tl.metrics.prometheus()).toMatch(/textlock_log_stream_dead_letter_events\{stream="s\w+"\} 1/);
    receiver.status = 200;
    const next = freshPhone();
    await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: next });
    await expect.poll(() => receiver!.accepted().length).toBe(1);
    expect(receiver.accepted()[0]!.data.user_name).toBe(masked(next));
  });
});

describe("audit stdout", () => {
  it("writes each committed record as one JSON line {log_id, data}", async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      if (String(chunk).includes('"log_id"')) lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      tl = await createTestTextlock({ audit: { stdout: true } });
      await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
      await tl.audit.flush();
    } finally {
      process.stdout.write = write;
    }
    const records = lines
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ data: { type: "cs", user_name: masked(PHONE) } });
    expect(records[0].log_id).toBe(records[0].data.log_id);
  });
});

// The stores themselves: leases keep a stream with one sender at a time.
const stores: Array<{ name: string; open: () => Promise<{ a: AuditStore; b: AuditStore; done(): Promise<void> }> }> = [
  {
    name: "memory",
    open: async () => {
      const s = new MemoryAuditStore();
      return { a: s, b: s, done: async () => {} };
    },
  },
  {
    name: "sqlite",
    open: async () => {
      const file = join(mkdtempSync(join(tmpdir(), "audit-store-")), "audit.db");
      const a = new SqliteAuditStore(file);
      const b = new SqliteAuditStore(file);
      return { a, b, done: async () => Promise.all([a.close(), b.close()]).then(() => {}) };
    },
  },
  ...(postgresUrl
    ? [
        {
          name: "postgres",
          open: async () => {
            const poolA = new pg.Pool({ connectionString: postgresUrl });
            const poolB = new pg.Pool({ connectionString: postgresUrl });
            const logger = pino({ level: "silent" });
            const a = await PostgresAuditStore.open(poolA, logger);
            const b = await PostgresAuditStore.open(poolB, logger);
            return { a, b, done: async () => Promise.all([poolA.end(), poolB.end()]).then(() => {}) };
          },
        },
      ]
    : []),
];

describe.each(stores)("audit store on $name", ({ open: openStores }) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it("gives a stream to one lease holder at a time; a lapsed lease is taken over", async () => {
    const { a, b, done } = await openStores();
    cleanup.push(done);
    const name = `lease-${Math.random().toString(36).slice(2, 8)}`;
    const date = new Date().toISOString();
    await a.append(
      [1, 2, 3].map((n) => ({ entry: { date, type: "cs" as const, description: `e${n}` }, streams: [name] })),
    );
    const now = Date.now();
    const claims = await Promise.all([
      ...Array.from({ length: 5 }, () => a.claim(name, "owner-a", 1_000, 10, now)),
      ...Array.from({ length: 5 }, () => b.claim(name, "owner-b", 1_000, 10, now)),
    ]);
    const winners = new Set(claims.map((c, i) => (c ? (i < 5 ? "a" : "b") : undefined)).filter(Boolean));
    expect(winners.size).toBe(1);
    const batch = claims.find(Boolean)!;
    expect(batch.entries.map((e) => e.description)).toEqual(["e1", "e2", "e3"]);
    const loser = winners.has("a") ? { store: b, owner: "owner-b" } : { store: a, owner: "owner-a" };
    expect(await loser.store.claim(name, loser.owner, 1_000, 10, now + 500)).toBeUndefined();
    // The holder died: after its lease, the other takes over and gets the same rows (at least once).
    const taken = await loser.store.claim(name, loser.owner, 1_000, 10, now + 1_001);
    expect(taken?.entries.map((e) => e.description)).toEqual(["e1", "e2", "e3"]);
    await loser.store.ack(
      name,
      taken!.entries.slice(0, 2).map((e) => Number(e.log_id.slice(2))),
    );
    const status = await loser.store.status(name);
    expect(status).toMatchObject({ pending: 1, delivered: 2 });
  });
});
