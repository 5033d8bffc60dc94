import { describe, expect, inject, it } from "vitest";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { isolatedDatabase } from "../helpers/services.js";

const redisUrl = inject("redisUrl");
// Its own database: see isolatedDatabase.
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "store_set");
const PHONE = "+14155557001";

// One store set, chosen in one place: with users in PostgreSQL, refresh tokens live there too, so a
// token issued by one process is redeemed by another (they used to fall back to per-process memory).
describe.skipIf(!redisUrl || !postgresUrl)("the store set on Redis + PostgreSQL", () => {
  it("a refresh token issued by one instance is redeemed once, by another", async () => {
    const shared = {
      store: { type: "redis" as const, url: redisUrl!, namespace: `storeset-${process.pid}-${Date.now()}` },
      users: { type: "postgres" as const, url: postgresUrl! },
    };
    const a: TestTextlock = await createTestTextlock(shared);
    const b: TestTextlock = await createTestTextlock(shared);
    try {
      await a.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
      const login = await a.api.login({
        client_id: "textlock-dev",
        phone_number: PHONE,
        code: a.lastCode(PHONE),
        scope: "openid offline_access",
      });
      expect(login.refresh_token).toBeTruthy();
      const renewed = await b.api.refresh({ client_id: "textlock-dev", refresh_token: login.refresh_token! });
      expect(renewed.access_token).toBeTruthy();
      expect(renewed.refresh_token).not.toBe(login.refresh_token);
      // Rotated, and a reuse of the rotated token (on A) revokes the whole family issued on A: the newest
      // token fails on B too.
      await expect(
        a.api.refresh({ client_id: "textlock-dev", refresh_token: login.refresh_token! }),
      ).rejects.toMatchObject({ code: "ERR_INVALID_GRANT" });
      await expect(
        b.api.refresh({ client_id: "textlock-dev", refresh_token: renewed.refresh_token! }),
      ).rejects.toMatchObject({ code: "ERR_INVALID_GRANT" });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("concurrent uses of one token on two instances: one success, then the family is revoked; revoke and blocking reach every instance", async () => {
    const shared = {
      store: { type: "redis" as const, url: redisUrl!, namespace: `storeset-fam-${process.pid}-${Date.now()}` },
      users: { type: "postgres" as const, url: postgresUrl! },
    };
    const a: TestTextlock = await createTestTextlock(shared);
    const b: TestTextlock = await createTestTextlock(shared);
    const phone = "+14155557002";
    const login = async () => {
      await a.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone });
      const res = await a.api.login({
        client_id: "textlock-dev",
        phone_number: phone,
        code: a.lastCode(phone),
        scope: "openid offline_access",
      });
      return res.refresh_token!;
    };
    const refresh = (tl: TestTextlock, refresh_token: string) =>
      tl.api.refresh({ client_id: "textlock-dev", refresh_token });
    try {
      for (let i = 0; i < 5; i++) {
        const token = await login();
        const settled = await Promise.allSettled([refresh(a, token), refresh(b, token)]);
        const won = settled.filter((s) => s.status === "fulfilled");
        expect(won).toHaveLength(1);
        const newest = (won[0] as PromiseFulfilledResult<{ refresh_token?: string }>).value.refresh_token!;
        await expect(refresh(b, newest)).rejects.toMatchObject({ code: "ERR_INVALID_GRANT" });
      }

      // /oauth/revoke on B revokes the family rotated on A.
      const first = await login();
      const second = (await refresh(a, first)).refresh_token!;
      await b.api.revoke({ client_id: "textlock-dev", token: second });
      await expect(refresh(a, second)).rejects.toMatchObject({ code: "ERR_INVALID_GRANT" });

      // Blocking on B revokes the user's tokens issued on A; unblocking does not bring them back.
      const kept = await login();
      const user = (await b.users.findByPhone("sms", phone))!;
      await b.users.update(user.user_id, { blocked: true });
      await b.users.update(user.user_id, { blocked: false });
      await expect(refresh(a, kept)).rejects.toMatchObject({ code: "ERR_INVALID_GRANT" });
      // A new login works again.
      await expect(refresh(b, await login())).resolves.toBeTruthy();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
