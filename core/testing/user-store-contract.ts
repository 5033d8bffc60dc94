import { parseUserQuery } from "../users/user-query.js";
import type { User, UserStore } from "../users/user-store.js";
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

    it("counts the creating login in the insert; an existing user comes back unchanged", async () => {
      const p = phone();
      const at = new Date("2026-03-04T05:06:07.000Z");
      const first = await store.create("sms", p, { login: { ip: "203.0.113.7", at } });
      expect(first.created).toBe(true);
      expect(first.user).toMatchObject({ logins_count: 1, last_login: at.toISOString(), last_ip: "203.0.113.7" });
      expect(await store.findById(first.user.user_id)).toEqual(first.user);
      const again = await store.create("sms", p, { login: { ip: "198.51.100.1", at: new Date() } });
      expect(again).toEqual({ user: first.user, created: false });
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
      await expect(store.update("sms|000000000000000000000000", { blocked: true })).rejects.toMatchObject({
        code: "ERR_MGMT_USER_NOT_FOUND",
      });
      const emptied = await store.update(user.user_id, { app_metadata: {} });
      expect(emptied.app_metadata).toEqual({});
    });

    it("merges 20 concurrent metadata changes without losing one", async () => {
      const { user } = await store.create("sms", phone());
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.update(user.user_id, { app_metadata: { [`k${i}`]: i } })),
      );
      const after = await store.findById(user.user_id);
      expect(Object.keys(after!.app_metadata)).toHaveLength(20);
    });

    it("changes a number, keeping (connection, phone) unique", async () => {
      const conn = `c${Math.floor(Math.random() * 1e9)}`;
      const [a, b] = [phone(), phone()];
      const { user } = await store.create(conn, a);
      const other = (await store.create(conn, b)).user;
      await expect(store.update(user.user_id, { phone_number: b })).rejects.toMatchObject({
        code: "ERR_MGMT_PHONE_CONFLICT",
      });
      const c = phone();
      const moved = await store.update(user.user_id, { phone_number: c, phone_verified: false });
      expect(moved).toMatchObject({ phone_number: c, phone_verified: false, user_id: user.user_id });
      expect(await store.findByPhone(conn, c)).toEqual(moved);
      expect(await store.findByPhone(conn, a)).toBeUndefined();
      expect((await store.create(conn, a)).created).toBe(true);
      // Two users racing for one free number: exactly one gets it.
      const d = phone();
      const results = await Promise.allSettled([
        store.update(user.user_id, { phone_number: d }),
        store.update(other.user_id, { phone_number: d }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.find((r) => r.status === "rejected")).toMatchObject({
        reason: { code: "ERR_MGMT_PHONE_CONFLICT" },
      });
    });

    it("deletes users; their number signs up again as a new user", async () => {
      const conn = `c${Math.floor(Math.random() * 1e9)}`;
      const p = phone();
      const { user } = await store.create(conn, p);
      expect(await store.delete(user.user_id)).toBe(true);
      expect(await store.delete(user.user_id)).toBe(false);
      expect(await store.findById(user.user_id)).toBeUndefined();
      expect(await store.findByPhone(conn, p)).toBeUndefined();
      const again = await store.create(conn, p);
      expect(again.created).toBe(true);
      expect(again.user.user_id).not.toBe(user.user_id);
    });

    it("searches with Lucene-style queries, totals, paging and sorting", async () => {
      const conn = `c${Math.floor(Math.random() * 1e9)}`;
      const made: User[] = [];
      for (let i = 0; i < 6; i++) {
        const { user } = await store.create(conn, `+1628555${String(1000 + i)}`, {
          app_metadata: { plan: i % 2 ? "pro" : "free", n: i, flag: i === 3 },
          ...(i === 5 ? { user_metadata: { nick: "Zed*Star" } } : {}),
        });
        made.push(user);
      }
      await store.update(made[1]!.user_id, { blocked: true });
      await store.update(made[4]!.user_id, { blocked: true });
      const search = async (q: string, page: { offset?: number; limit?: number } = {}) => {
        const query = parseUserQuery(q);
        return store.search({
          connection: conn,
          ...(query ? { query } : {}),
          offset: page.offset ?? 0,
          limit: page.limit ?? 50,
        });
      };
      // Users made in one millisecond tie on created_at: compare sets, and page in phone order.
      const ids = (r: { users: Array<{ user_id: string }> }) => r.users.map((u) => u.user_id).sort();
      const idsOf = (...i: number[]) => i.map((n) => made[n]!.user_id).sort();

      expect(ids(await search(`phone_number:"+16285551002"`))).toEqual(idsOf(2));
      expect(ids(await search("phone_number:+16285551002"))).toEqual(idsOf(2));
      expect(ids(await search("blocked:true"))).toEqual(idsOf(1, 4));
      expect(ids(await search("blocked:false AND app_metadata.plan:pro"))).toEqual(idsOf(3, 5));
      expect(ids(await search("app_metadata.n:4 OR app_metadata.flag:true"))).toEqual(idsOf(3, 4));
      expect(ids(await search("NOT app_metadata.plan:free"))).toEqual(idsOf(1, 3, 5));
      expect(ids(await search("phone_number:*55510*"))).toHaveLength(6);
      expect(ids(await search("phone_number:+1628555100*"))).toHaveLength(6);
      expect(ids(await search("_exists_:user_metadata.nick"))).toEqual(idsOf(5));
      expect(ids(await search('user_metadata.nick:"Zed*Star"'))).toEqual(idsOf(5));
      expect(ids(await search("user_metadata.nick:Zed\\*St*"))).toEqual(idsOf(5));
      expect(ids(await search("user_metadata.nick:zed*"))).toEqual([]);
      expect(ids(await search(`user_id:"${made[0]!.user_id}"`))).toEqual(idsOf(0));
      expect(ids(await search("(app_metadata.plan:pro OR app_metadata.n:0) AND blocked:false"))).toEqual(
        idsOf(0, 3, 5),
      );

      const page = await store.search({ connection: conn, sort: { field: "phone_number" }, offset: 2, limit: 3 });
      expect(page.total).toBe(6);
      expect(page.users.map((u) => u.user_id)).toEqual([2, 3, 4].map((n) => made[n]!.user_id));
      expect((await search("", { offset: 6, limit: 3 })).users).toEqual([]);
      expect((await search("", { offset: 0, limit: 50 })).total).toBe(6);
      const desc = await store.search({
        connection: conn,
        sort: { field: "phone_number", descending: true },
        offset: 0,
        limit: 2,
      });
      expect(desc.users.map((u) => u.user_id)).toEqual([5, 4].map((n) => made[n]!.user_id));
      expect(desc.total).toBe(6);
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
