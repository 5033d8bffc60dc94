import type { OtpStore, PendingCode } from "../otp/otp-store.js";
import type { ContractRunner } from "./runner.js";

/**
 * The OtpStore contract, run against every implementation (memory here; Redis in test/integration).
 * Concurrency cases fire real parallel calls; a store that reads and writes in two steps fails them.
 */
export function runOtpStoreContract(name: string, create: () => Promise<OtpStore>, t: ContractRunner): void {
  const { describe, it, expect, beforeEach, afterEach } = t;
  describe(`OtpStore contract: ${name}`, () => {
    let store: OtpStore;
    let n = 0;
    let key: string;
    const now = Date.now();
    const code = (over: Partial<PendingCode> = {}): PendingCode => ({
      codeId: `c${++n}`,
      hash: "aGFzaA",
      expiresAt: now + 60_000,
      maxAttempts: 3,
      ...over,
    });

    beforeEach(async () => {
      store = await create();
      key = `sms:+1415555${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}:${n++}`;
    });
    afterEach(async () => store.close());

    it("reports a missing code", async () => {
      expect(await store.attempt(key, now)).toEqual({ status: "missing" });
    });

    it("counts attempts and kills the code past maxAttempts", async () => {
      const c = code();
      await store.issue(key, c);
      for (let i = 1; i <= 3; i++)
        expect(await store.attempt(key, now)).toMatchObject({
          status: "ok",
          attempts: i,
          codeId: c.codeId,
          hash: c.hash,
        });
      expect(await store.attempt(key, now)).toEqual({ status: "exhausted" });
      expect(await store.attempt(key, now)).toEqual({ status: "exhausted" });
      await store.issue(key, code());
      expect(await store.attempt(key, now)).toMatchObject({ status: "ok", attempts: 1 });
    });

    it("keeps only the last code issued", async () => {
      const first = code();
      const second = code({ hash: "b3RoZXI" });
      await store.issue(key, first);
      await store.issue(key, second);
      expect(await store.attempt(key, now)).toMatchObject({ status: "ok", codeId: second.codeId, attempts: 1 });
      expect(await store.consume(key, first.codeId)).toBe(false);
      expect(await store.consume(key, second.codeId)).toBe(true);
      expect(await store.consume(key, second.codeId)).toBe(false);
    });

    it("expires codes", async () => {
      await store.issue(key, code({ expiresAt: now + 1_000 }));
      expect(await store.attempt(key, now + 1_000)).toEqual({ status: "expired" });
      expect(await store.attempt(key, now)).toEqual({ status: "missing" });
    });

    it("discard removes only the named code", async () => {
      const old = code();
      const current = code();
      await store.issue(key, old);
      await store.issue(key, current);
      await store.discard(key, old.codeId);
      expect(await store.attempt(key, now)).toMatchObject({ status: "ok", codeId: current.codeId });
      await store.discard(key, current.codeId);
      expect(await store.attempt(key, now)).toEqual({ status: "missing" });
    });

    it("counts failures within a window and clears them", async () => {
      expect(await store.failureCount(key, now)).toBe(0);
      expect(await store.recordFailure(key, 10_000, now)).toBe(1);
      expect(await store.recordFailure(key, 10_000, now + 1)).toBe(2);
      expect(await store.failureCount(key, now + 2)).toBe(2);
      expect(await store.failureCount(key, now + 10_001)).toBe(0);
      await store.clearFailures(key);
      expect(await store.failureCount(key, now)).toBe(0);
    });

    it("reports when a failure window ends (the lock's Retry-After)", async () => {
      expect(await store.failureWindow(key, now)).toEqual({ count: 0, resetAt: now });
      await store.recordFailure(key, 10_000, now);
      await store.recordFailure(key, 10_000, now + 5);
      expect(await store.failureWindow(key, now + 6)).toEqual({ count: 2, resetAt: now + 10_000 });
      expect(await store.failureWindow(key, now + 10_000)).toEqual({ count: 0, resetAt: now + 10_000 });
    });

    it("charges at most maxAttempts of 200 concurrent attempts", async () => {
      await store.issue(key, code());
      const results = await Promise.all(Array.from({ length: 200 }, () => store.attempt(key, now)));
      const ok = results.filter((r) => r.status === "ok");
      expect(ok).toHaveLength(3);
      expect(new Set(ok.map((r) => (r.status === "ok" ? r.attempts : 0)))).toEqual(new Set([1, 2, 3]));
    });

    it("lets exactly one of 200 concurrent consumers win", async () => {
      const c = code();
      await store.issue(key, c);
      const wins = await Promise.all(Array.from({ length: 200 }, () => store.consume(key, c.codeId)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it("counts 100 concurrent failures exactly", async () => {
      const counts = await Promise.all(Array.from({ length: 100 }, () => store.recordFailure(key, 60_000, now)));
      expect(new Set(counts).size).toBe(100);
      expect(await store.failureCount(key, now)).toBe(100);
    });
  });
}
