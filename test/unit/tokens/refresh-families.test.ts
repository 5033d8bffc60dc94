import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { TextlockConfigInput } from "../../../core/config/schema.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const PHONE = "+14155550123";
const ISSUER = "https://auth.example.test/";
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function make(users: "memory" | "sqlite", config: TextlockConfigInput = {}, clock?: () => number) {
  const tl = await createTestTextlock(
    { users: { type: users }, ...config },
    { logger: pino({ level: "silent" }), ...(clock ? { clock } : {}) },
  );
  open.push(tl);
  return tl;
}

async function login(tl: TestTextlock, client_id = "textlock-dev") {
  await tl.api.start({ client_id, connection: "sms", phone_number: PHONE });
  const res = await tl.api.token(
    {
      grant_type: OTP,
      client_id,
      username: PHONE,
      otp: tl.lastCode(PHONE),
      realm: "sms",
      scope: "openid offline_access",
    },
    { issuer: ISSUER },
  );
  return res.refresh_token!;
}

const refresh = (tl: TestTextlock, refresh_token: string, client_id = "textlock-dev") =>
  tl.api.refresh({ client_id, refresh_token }, { issuer: ISSUER });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => toWireError(e),
  );
const TWO_CLIENTS: TextlockConfigInput = {
  clients: [{ client_id: "textlock-dev" }, { client_id: "other" }],
  connections: [{ name: "sms", enabled_clients: ["textlock-dev", "other"] }],
};
const INVALID = {
  status: 403,
  body: { error: "invalid_grant", error_description: "Unknown or invalid refresh token." },
};

describe.each(["memory", "sqlite"] as const)("refresh token families (%s store)", (users) => {
  it("rotates: every refresh gives a new token and the used one stops working", async () => {
    const tl = await make(users);
    const a = await login(tl);
    const b = (await refresh(tl, a)).refresh_token!;
    const c = (await refresh(tl, b)).refresh_token!;
    expect(new Set([a, b, c]).size).toBe(3);
    expect((await refresh(tl, c)).refresh_token).toBeDefined();
  });

  it("reuse of a rotated token revokes the whole family: the newest token fails too", async () => {
    const tl = await make(users);
    const a = await login(tl);
    const b = (await refresh(tl, a)).refresh_token!;
    const c = (await refresh(tl, b)).refresh_token!;
    const reused: unknown[] = [];
    tl.events.on("refresh_token.reused", (e) => reused.push(e));
    expect(await failure(refresh(tl, a))).toMatchObject(INVALID);
    expect(reused).toEqual([{ user_id: expect.stringMatching(/^sms\|/), client_id: "textlock-dev" }]);
    expect(await failure(refresh(tl, c))).toMatchObject(INVALID);
    expect(await failure(refresh(tl, b))).toMatchObject(INVALID);
    // Another login (another family) is untouched by the revocation.
    const other = await login(tl);
    const d = (await refresh(tl, other)).refresh_token!;
    expect(await failure(refresh(tl, a))).toMatchObject(INVALID);
    expect((await refresh(tl, d)).refresh_token).toBeDefined();
  });

  it("two concurrent uses of one token: exactly one succeeds, then the family is revoked", async () => {
    const tl = await make(users);
    const a = await login(tl);
    const settled = await Promise.allSettled([refresh(tl, a), refresh(tl, a)]);
    const won = settled.filter((s) => s.status === "fulfilled");
    expect(won).toHaveLength(1);
    const newest = (won[0] as PromiseFulfilledResult<{ refresh_token?: string }>).value.refresh_token!;
    expect(await failure(refresh(tl, newest))).toMatchObject(INVALID);
  });

  it("a token of another client is refused and does not burn the family", async () => {
    const tl = await make(users, TWO_CLIENTS);
    const a = await login(tl);
    expect(await failure(refresh(tl, a, "other"))).toMatchObject(INVALID);
    expect((await refresh(tl, a)).refresh_token).toBeDefined();
  });

  it("idle lifetime: a token unused for longer stops working; rotation renews it; the absolute one is not extended", async () => {
    let now = Date.UTC(2026, 0, 1);
    const tl = await make(
      users,
      { tokens: { refreshTokenLifetimeSeconds: 10 * 3600, refreshTokenIdleSeconds: 3600 } },
      () => now,
    );
    let t = await login(tl);
    // Used every 50 minutes it keeps working (each rotation renews the idle window)…
    for (let i = 0; i < 11; i++) {
      now += 50 * 60_000;
      t = (await refresh(tl, t)).refresh_token!;
    }
    // …until the family's absolute lifetime (10 h from the login) ends, rotation or not.
    now += 50 * 60_000;
    expect(await failure(refresh(tl, t))).toMatchObject(INVALID);

    const idle = await login(tl);
    now += 3600_000 + 1;
    expect(await failure(refresh(tl, idle))).toMatchObject(INVALID);
  });

  it("a blocked user's refresh is refused, and blocking revokes their tokens", async () => {
    const tl = await make(users);
    const a = await login(tl);
    const b = await login(tl);
    const user = (await tl.users.findByPhone("sms", PHONE))!;
    await tl.users.update(user.user_id, { blocked: true });
    expect(await failure(refresh(tl, a))).toMatchObject({
      status: 403,
      body: { error: "invalid_grant", error_description: expect.stringMatching(/blocked|Unknown or invalid/) },
    });
    await tl.users.update(user.user_id, { blocked: false });
    // Unblocking does not bring the revoked tokens back.
    expect(await failure(refresh(tl, b))).toMatchObject(INVALID);
  });

  it("api.revoke revokes the token's family; an unknown token is fine; another client's token is refused", async () => {
    const tl = await make(users, TWO_CLIENTS);
    const a = await login(tl);
    const b = (await refresh(tl, a)).refresh_token!;
    await expect(tl.api.revoke({ client_id: "textlock-dev", token: "no-such-token" })).resolves.toBeUndefined();
    expect(await failure(tl.api.revoke({ client_id: "other", token: b }))).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    await tl.api.revoke({ client_id: "textlock-dev", token: a });
    expect(await failure(refresh(tl, b))).toMatchObject(INVALID);
    await expect(tl.api.revoke({ client_id: "textlock-dev", token: b })).resolves.toBeUndefined();
  });
});

describe("a blocked user at refresh time", () => {
  it("is refused with invalid_grant 'user is blocked' even when blocked behind textlock's back", async () => {
    const tl = await createTestTextlock({}, {});
    open.push(tl);
    const a = await login(tl);
    const user = (await tl.users.findByPhone("sms", PHONE))!;
    // The user store changed directly (another process, the admin CLI): the tokens are still there.
    const { containerOf } = await import("../../../core/container/internals.js");
    const { USER_STORE } = await import("../../../core/di-tokens.js");
    await containerOf(tl).resolve(USER_STORE).update(user.user_id, { blocked: true });
    expect(await failure(refresh(tl, a))).toMatchObject({
      status: 403,
      body: { error: "invalid_grant", error_description: "user is blocked" },
    });
  });
});

describe.each(["memory", "sqlite"] as const)("the %s refresh token store", (kind) => {
  const store = async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { MemoryRefreshTokenStore, SqliteRefreshTokenStore } = await import(
      "../../../core/tokens/refresh-token-store.js"
    );
    const s =
      kind === "memory"
        ? new MemoryRefreshTokenStore()
        : new SqliteRefreshTokenStore(join(mkdtempSync(join(tmpdir(), "textlock-rt-")), "rt.db"));
    open.push(s);
    return s;
  };
  const record = { user_id: "sms|1", client_id: "c", connection: "sms", scope: "offline_access", expiresAt: 2e12 };

  it("a record saved before families existed is its own family: revoking it deletes it", async () => {
    const s = await store();
    await s.save("legacy", record);
    expect(await s.find("legacy")).toMatchObject({ user_id: "sms|1" });
    await s.revokeFamily("legacy", record.expiresAt);
    expect(await s.find("legacy")).toBeUndefined();
  });

  it("a token saved into a family after it was revoked does not survive", async () => {
    const s = await store();
    await s.save("h1", { ...record, family: "f" });
    expect(await s.use("h1")).toMatchObject({ reused: false });
    expect(await s.use("h1")).toMatchObject({ reused: true });
    await s.save("h2", { ...record, family: "f" });
    expect(await s.find("h2")).toBeUndefined();
    expect(await s.use("h2")).toBeUndefined();
  });

  it("revokeUser revokes every family of the user and no other user's", async () => {
    const s = await store();
    await s.save("a1", { ...record, family: "fa" });
    await s.save("a2", { ...record, family: "fb" });
    await s.save("b1", { ...record, user_id: "sms|2", family: "fc" });
    await s.revokeUser("sms|1");
    expect(await s.find("a1")).toBeUndefined();
    expect(await s.find("a2")).toBeUndefined();
    expect(await s.find("b1")).toBeDefined();
  });
});

describe.each(["memory", "sqlite"] as const)("purging the %s refresh token store", (kind) => {
  it("deletes tokens and revoked markers of expired families only; live families keep working", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { MemoryRefreshTokenStore, SqliteRefreshTokenStore } = await import(
      "../../../core/tokens/refresh-token-store.js"
    );
    const s =
      kind === "memory"
        ? new MemoryRefreshTokenStore()
        : new SqliteRefreshTokenStore(join(mkdtempSync(join(tmpdir(), "textlock-rt-")), "rt.db"));
    open.push(s);
    const base = { user_id: "sms|1", client_id: "c", connection: "sms", scope: "offline_access" };
    await s.save("old-used", { ...base, family: "old", expiresAt: 1_000 });
    await s.use("old-used");
    await s.save("old-2", { ...base, family: "old", expiresAt: 1_000 });
    await s.revokeFamily("gone", 1_500);
    await s.save("live", { ...base, family: "live", expiresAt: 5_000 });
    await s.revokeFamily("revoked-live", 5_000);
    expect(await s.purgeExpired!(2_000)).toBe(3);
    expect(await s.find("old-used")).toBeUndefined();
    expect(await s.find("old-2")).toBeUndefined();
    expect(await s.use("live")).toMatchObject({ reused: false });
    // The marker of a family that could still be alive stays: a late save into it is still refused.
    await s.save("late", { ...base, family: "revoked-live", expiresAt: 5_000 });
    expect(await s.find("late")).toBeUndefined();
    expect(await s.purgeExpired!(2_000)).toBe(0);
  });
});
