import { describe, expect, inject, it } from "vitest";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const redisUrl = inject("redisUrl");
const postgresUrl = inject("postgresUrl");
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
      // Rotated: the first token is spent everywhere.
      await expect(
        a.api.refresh({ client_id: "textlock-dev", refresh_token: login.refresh_token! }),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_/),
      });
      await expect(
        b.api.refresh({ client_id: "textlock-dev", refresh_token: renewed.refresh_token! }),
      ).resolves.toBeTruthy();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
