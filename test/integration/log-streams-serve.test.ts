import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { type FakeLogReceiver, signatureValid, startLogReceiver } from "../fakes/fake-log-receiver.js";
import { spawnServe } from "../helpers/serve-process.js";
import { freePort, isolatedDatabase } from "../helpers/services.js";

// Log streams through the real command line (`textlock serve`): events committed to the outbox survive
// a SIGKILL of the sender and are delivered after a restart; two processes on one PostgreSQL share a
// stream without sending an event twice. SQLite and PostgreSQL both.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "log_streams_serve");
const STREAM_SECRET = "stream-secret-stream-secret-0123456789";

const children: ChildProcess[] = [];
const receivers: FakeLogReceiver[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const r of receivers.splice(0)) await r.close();
});

function writeConfig(users: object, streamUrl: string, streamName: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-streams-"));
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      secret: "stream-test-secret-stream-test-secret-01",
      dataDir,
      users,
      protection: { enabled: false },
      logging: { level: "error" },
      audit: {
        streams: [
          {
            name: streamName,
            url: streamUrl,
            authorization: "Bearer receiver-token",
            secret: STREAM_SECRET,
            pollMs: 50,
            initialBackoffMs: 100,
            maxBackoffMs: 300,
            maxAttempts: 1000,
            leaseSeconds: 1,
          },
        ],
      },
    }),
  );
  return { file, dataDir };
}

async function serve(file: string) {
  const { url, child } = await spawnServe(file);
  children.push(child);
  return { url, child };
}

async function post(base: string, path: string, body: object) {
  const res = await fetch(new URL(path, base), {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "stream-test/1.0" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

function lastCode(dataDir: string, phone: string): string {
  const lines = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n");
  const msg = lines
    .map((l) => JSON.parse(l))
    .filter((m) => m.to === phone)
    .at(-1);
  return msg.body.match(/\d{6}/)[0];
}

async function login(base: string, dataDir: string, phone: string) {
  expect(
    (await post(base, "/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone }))
      .status,
  ).toBe(200);
  const code = lastCode(dataDir, phone);
  const res = await post(base, "/oauth/token", {
    grant_type: OTP,
    client_id: "textlock-dev",
    username: phone,
    otp: code,
    realm: "sms",
    scope: "openid",
  });
  expect(res.status).toBe(200);
  return code;
}

const waitExit = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve()),
  );

const backends = [
  {
    name: "sqlite",
    users: () => ({ type: "sqlite" }),
    pending: (dataDir: string, stream: string) => {
      const db = new Database(join(dataDir, "audit.db"), { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM log_stream_outbox WHERE stream = ?").get(stream) as { n: number })
          .n;
      } finally {
        db.close();
      }
    },
  },
  ...(postgresUrl
    ? [
        {
          name: "postgres",
          users: () => ({ type: "postgres", url: postgresUrl }),
          pending: async (_dataDir: string, stream: string) => {
            const client = new pg.Client({ connectionString: postgresUrl });
            await client.connect();
            try {
              const { rows } = await client.query(
                "SELECT count(*) AS n FROM textlock_log_stream_outbox WHERE stream = $1",
                [stream],
              );
              return Number(rows[0].n);
            } finally {
              await client.end();
            }
          },
        },
      ]
    : []),
];

describe.each(backends)("log streams through textlock serve on $name", ({ users, pending }) => {
  it("delivers every event of a login committed before a SIGKILL after a restart, in order, none lost", {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    const streamName = `kill-${Date.now()}`;
    const phone = `+1415555${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}`;
    const { file, dataDir } = writeConfig(users(), `http://127.0.0.1:${port}/logs`, streamName);
    const first = await serve(file);
    // The receiver is down: the events stay in the outbox, retried with backoff.
    const code = await login(first.url, dataDir, phone);
    await expect.poll(() => pending(dataDir, streamName)).toBe(3);
    first.child.kill("SIGKILL");
    await waitExit(first.child);

    const receiver = await startLogReceiver(port);
    receivers.push(receiver);
    await serve(file);
    await expect.poll(() => receiver.accepted().length, { timeout: 15_000 }).toBe(3);
    const events = receiver.accepted();
    expect(events.map((e) => e.data.type)).toEqual(["cs", "ss", "s"]);
    expect(events.map((e) => e.log_id)).toEqual([...events.map((e) => e.log_id)].sort());
    expect(events[2]!.data).toMatchObject({
      user_name: `+*******${phone.slice(-4)}`,
      user_agent: "stream-test/1.0",
      ip: "127.0.0.1",
    });
    for (const b of receiver.batches) {
      expect(b.headers.authorization).toBe("Bearer receiver-token");
      expect(signatureValid(STREAM_SECRET, b)).toBe(true);
      expect(b.raw).not.toContain(code);
      expect(b.raw).not.toContain(phone);
    }
    await expect.poll(() => pending(dataDir, streamName)).toBe(0);
  });
});

describe.runIf(postgresUrl)("two textlock serve processes on one PostgreSQL", () => {
  it("deliver one stream between them: every event once, in log_id order", { timeout: 90_000 }, async () => {
    const receiver = await startLogReceiver();
    receivers.push(receiver);
    receiver.delayMs = 30;
    const streamName = `shared-${Date.now()}`;
    const { file, dataDir } = writeConfig({ type: "postgres", url: postgresUrl }, receiver.url, streamName);
    // Long enough that no lease lapses while both run: any duplicate would be a bug, not at-least-once.
    const config = JSON.parse(readFileSync(file, "utf8"));
    config.audit.streams[0].leaseSeconds = 30;
    writeFileSync(file, JSON.stringify(config));
    const nodes = await Promise.all([serve(file), serve(file)]);
    const phones = Array.from({ length: 8 }, (_, i) => `+1415556${String(i).padStart(4, "0")}`);
    await Promise.all(phones.map((phone, i) => login(nodes[i % 2]!.url, dataDir, phone)));
    await expect.poll(() => receiver.accepted().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(24);
    await new Promise((r) => setTimeout(r, 500));
    const ids = receiver.accepted().map((e) => e.log_id);
    expect(ids).toHaveLength(24);
    expect(new Set(ids).size).toBe(24);
    expect(ids).toEqual([...ids].sort());
    const types = receiver.accepted().map((e) => e.data.type);
    expect(types.filter((t) => t === "s")).toHaveLength(8);
  });
});
