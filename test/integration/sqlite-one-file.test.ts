import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Textlock } from "../../core/create-textlock.js";
import type { LoginSession } from "../../core/sessions/session-store.js";
import { SqliteSessionStore } from "../../core/sessions/session-store.js";
import { importLegacyTable, SqliteFile } from "../../core/storage/sqlite-file.js";
import {
  MemoryRefreshTokenStore,
  type RefreshRecord,
  SqliteRefreshTokenStore,
} from "../../core/tokens/refresh-token-store.js";
import { SqliteUserStore } from "../../core/users/sqlite-user-store.js";
import { createTextlock } from "../../lib/index.js";

// Users, refresh tokens and login sessions live in one SQLite file (users.db): one connection and one
// group commit, so a login's writes share a transaction and an fsync with every other write of the
// moment. Files of the earlier layout (refresh-tokens.db, sessions.db) are imported once.
const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), "textlock-onefile-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const record = (user_id: string, family = "fam-1"): RefreshRecord => ({
  user_id,
  client_id: "textlock-dev",
  connection: "sms",
  scope: "openid offline_access",
  family,
  expiresAt: Date.now() + 86_400_000,
});
const session = (sid: string, userId: string): LoginSession => ({
  sid,
  secretHash: "h",
  userId,
  connection: "sms",
  authTime: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  idleExpiresAt: Date.now() + 3_600_000,
  claims: { idToken: {}, accessToken: {} },
  clients: ["textlock-dev"],
});

describe("one SQLite file for users, refresh tokens and sessions", () => {
  it("a login's writes to the three stores, made at once, share one transaction that another connection sees whole", async () => {
    const file = join(dir(), "users.db");
    const users = new SqliteUserStore(file);
    const tokens = users.refreshTokenStore();
    const sessions = users.sessionStore();
    const { user } = await users.create("sms", "+14155550100");
    const before = users.writeStats.commits;
    await Promise.all([
      users.recordLogin(user.user_id, { at: new Date(), ip: "203.0.113.1" }),
      tokens.save("hash-1", record(user.user_id)),
      sessions.save(session("sid-1", user.user_id)),
    ]);
    expect(users.writeStats.commits - before).toBe(1);
    expect(tokens.writeStats).toEqual(users.writeStats);
    const reader = new Database(file, { readonly: true });
    try {
      const count = (table: string) => (reader.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect([count("users"), count("refresh_tokens"), count("login_sessions")]).toEqual([1, 1, 1]);
    } finally {
      reader.close();
    }
    await Promise.all([users.close(), tokens.close(), sessions.close()]);
  });

  it("the file stays open until its last store closes; closing one store twice does not close it under the others", async () => {
    const file = SqliteFile.open(join(dir(), "users.db"));
    const users = new SqliteUserStore(file);
    const tokens = new SqliteRefreshTokenStore(file);
    const sessions = new SqliteSessionStore(file);
    await users.close();
    await users.close();
    await tokens.save("hash-2", record("sms|x"));
    expect(await tokens.find("hash-2")).toMatchObject({ user_id: "sms|x" });
    await tokens.close();
    await sessions.save(session("sid-2", "sms|x"));
    expect(await sessions.get("sid-2")).toMatchObject({ userId: "sms|x" });
    expect(file.db.open).toBe(true);
    await sessions.close();
    expect(file.db.open).toBe(false);
  });
});

describe("a store the host replaces", () => {
  it("lets go of the file: textlock.close() still closes users.db (its WAL folded in and removed)", async () => {
    const dataDir = dir();
    const tl = await createTextlock(
      {
        secret: "onefile-secret-onefile-secret-onefile-0",
        dataDir,
        users: { type: "sqlite" },
        store: { type: "memory" },
      },
      { logger: pino({ level: "silent" }), refreshTokenStore: new MemoryRefreshTokenStore() },
    );
    await tl.users.create("sms", "+14155550177");
    expect(existsSync(join(dataDir, "users.db-wal"))).toBe(true);
    await tl.close();
    expect(existsSync(join(dataDir, "users.db-wal"))).toBe(false);
  });
});

describe("importing files of the earlier layout", () => {
  it("moves every row (tokens, used ones, revoked-family markers) once, then renames the old file", async () => {
    const d = dir();
    const legacyFile = join(d, "refresh-tokens.db");
    const legacy = new SqliteRefreshTokenStore(legacyFile);
    await legacy.save("a", record("sms|a", "fam-a"));
    await legacy.save("b", record("sms|b", "fam-b"));
    await legacy.use("b");
    await legacy.revokeFamily("fam-c", Date.now() + 60_000);
    await legacy.close();

    const users = new SqliteUserStore(join(d, "users.db"));
    const tokens = users.refreshTokenStore();
    expect(importLegacyTable(users.database, legacyFile, "refresh_tokens")).toBe(3);
    expect(existsSync(legacyFile)).toBe(false);
    expect(existsSync(`${legacyFile}.imported`)).toBe(true);
    expect(await tokens.find("a")).toMatchObject({ user_id: "sms|a", family: "fam-a" });
    expect(await tokens.find("b")).toMatchObject({ used: true });
    // The revoked family's marker came along: a token of that family saved now is removed again.
    await tokens.save("c", record("sms|c", "fam-c"));
    expect(await tokens.find("c")).toBeUndefined();
    // Read once: nothing left to import.
    expect(importLegacyTable(users.database, legacyFile, "refresh_tokens")).toBe(0);
    await Promise.all([users.close(), tokens.close()]);
  });

  it("rows already in the new file win, and an old file still open elsewhere is read but not renamed", async () => {
    const d = dir();
    const legacyFile = join(d, "sessions.db");
    const legacy = new SqliteSessionStore(legacyFile);
    await legacy.save({ ...session("s1", "sms|old"), connection: "old" });
    await legacy.save(session("s2", "sms|two"));

    const users = new SqliteUserStore(join(d, "users.db"));
    const sessions = users.sessionStore();
    await sessions.save({ ...session("s1", "sms|old"), connection: "new" });
    // `legacy` is still open (an earlier version still running): its WAL holds the rows.
    expect(importLegacyTable(users.database, legacyFile, "login_sessions")).toBe(2);
    expect(existsSync(legacyFile)).toBe(true);
    expect((await sessions.get("s1"))?.connection).toBe("new");
    expect(await sessions.get("s2")).toMatchObject({ userId: "sms|two" });
    await legacy.close();
    expect(importLegacyTable(users.database, legacyFile, "login_sessions")).toBe(2);
    expect(existsSync(legacyFile)).toBe(false);
    await Promise.all([users.close(), sessions.close()]);
  });

  it("a refresh token issued before the upgrade still works after it: textlock imports refresh-tokens.db at start", async () => {
    const dataDir = dir();
    const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
    const PHONE = "+14155550142";
    const ISSUER = "https://auth.example.test/";
    const open = () =>
      createTextlock(
        {
          secret: "onefile-secret-onefile-secret-onefile-0",
          dataDir,
          users: { type: "sqlite" },
          store: { type: "memory" },
          protection: { enabled: false },
        },
        { logger: pino({ level: "silent" }) },
      );
    const code = () => {
      const lines = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n");
      return (JSON.parse(lines.at(-1)!) as { body: string }).body.match(/\d{6}/)![0];
    };
    let tl: Textlock = await open();
    await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
    const issued = await tl.api.token(
      {
        grant_type: OTP,
        client_id: "textlock-dev",
        username: PHONE,
        otp: code(),
        realm: "sms",
        scope: "openid offline_access",
      },
      { issuer: ISSUER },
    );
    await tl.close();

    // Put the token where an earlier version kept it: its own file, not users.db.
    const users = new Database(join(dataDir, "users.db"));
    const rows = users.prepare("SELECT hash, record, expires_at FROM refresh_tokens").all() as Array<{
      hash: string;
      record: string;
      expires_at: number;
    }>;
    expect(rows).toHaveLength(1);
    users.prepare("DELETE FROM refresh_tokens").run();
    users.close();
    const legacy = new SqliteRefreshTokenStore(join(dataDir, "refresh-tokens.db"));
    await legacy.save(rows[0]!.hash, JSON.parse(rows[0]!.record) as RefreshRecord);
    await legacy.close();

    tl = await open();
    try {
      const refreshed = await tl.api.refresh(
        { client_id: "textlock-dev", refresh_token: issued.refresh_token! },
        { issuer: ISSUER },
      );
      expect(refreshed.refresh_token).toBeTruthy();
      expect(refreshed.refresh_token).not.toBe(issued.refresh_token);
      expect(existsSync(join(dataDir, "refresh-tokens.db.imported"))).toBe(true);
    } finally {
      await tl.close();
    }
  });
});
