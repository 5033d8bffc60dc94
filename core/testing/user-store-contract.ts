import type { UserStore } from "../users/user-store.js";
import type { ContractRunner } from "./runner.js";

/** The UserStore contract, run against every implementation (memory, SQLite here; PostgreSQL in test/integration). */
export function runUserStoreContract(name: string, create: () => Promise<UserStore>, t: ContractRunner): void {
  const { describe, it, expect, beforeEach, afterEach } = t;
  describe(`UserStore contract: ${name}`, () => {
    let store: UserStore;
    const phone = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => store.close());

    it("creates Auth0-shaped users and finds them by phone and id", async () => {
      const p = phone();
      const { user, created } = await store.create("sms", p, { user_metadata: { a: 1 } });
      expect(created).toBe(true);
      expect(user).toMatchObject({
        user_id: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
        phone_number: p,
        phone_verified: true,
        name: p,
        logins_count: 0,
        blocked: false,
        identities: [{ provider: "sms", connection: "sms", user_id: user.user_id.slice(4), isSocial: false }],
        user_metadata: { a: 1 },
        app_metadata: {},
      });
      expect(await store.findByPhone("sms", p)).toEqual(user);
      expect(await store.findById(user.user_id)).toEqual(user);
      expect(await store.findByPhone("other", p)).toBeUndefined();
    });

    it("is unique per (connection, phone) and idempotent", async () => {
      const p = phone();
      const a = await store.create("sms", p);
      const b = await store.create("sms", p);
      const c = await store.create("sms2", p);
      expect(b).toEqual({ user: a.user, created: false });
      expect(c.created).toBe(true);
      expect(c.user.user_id).not.toBe(a.user.user_id);
    });

    it("converges 20 concurrent first logins on one user", async () => {
      const p = phone();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.create("sms", p)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.user.user_id)).size).toBe(1);
    });

    it("counts logins without losing concurrent updates", async () => {
      const { user } = await store.create("sms", phone());
      const at = new Date("2026-01-02T03:04:05.000Z");
      await Promise.all(Array.from({ length: 25 }, () => store.recordLogin(user.user_id, { ip: "203.0.113.9", at })));
      const after = await store.findById(user.user_id);
      expect(after).toMatchObject({
        logins_count: 25,
        last_login: at.toISOString(),
        last_ip: "203.0.113.9",
        updated_at: at.toISOString(),
      });
    });

    it("merges metadata (null deletes) and blocks", async () => {
      const { user } = await store.create("sms", phone(), { app_metadata: { plan: "free", keep: true } });
      const next = await store.update(user.user_id, {
        app_metadata: { plan: "pro", keep: null },
        user_metadata: { x: 1 },
        blocked: true,
      });
      expect(next).toMatchObject({ app_metadata: { plan: "pro" }, user_metadata: { x: 1 }, blocked: true });
      expect(await store.findById(user.user_id)).toEqual(next);
      await expect(store.update("sms|000000000000000000000000", { blocked: true })).rejects.toThrow();
    });

    it("lists users by connection with paging", async () => {
      const conn = `c${Math.floor(Math.random() * 1e9)}`;
      for (let i = 0; i < 5; i++) await store.create(conn, phone());
      const all = await store.list({ connection: conn });
      expect(all).toHaveLength(5);
      expect(await store.list({ connection: conn, limit: 2, offset: 1 })).toEqual(all.slice(1, 3));
    });
  });
}
