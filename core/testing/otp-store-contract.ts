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
    // Taken again before each test: a store that expires keys by wall time (Redis) must see live codes
    // as live, however long the suite took to reach the test.
    let now = Date.now();
    const code = (over: Partial<PendingCode> = {}): PendingCode => ({
      codeId: `c${++n}`,
      hash: "aGFzaA",
      expiresAt: now + 60_000,
      maxAttempts: 3,
      ...over,
    });

    beforeEach(async () => {
      now = Date.now();
      store = await create();
      key = `sms:+1415555${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}:${n++}`;
    });
    afterEach(async () => store.close());

    const RIGHT = "aGFzaA";
    const WRONG = "d3Jvbmc";

    it("reports a missing code", async () => {
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "missing" });
    });

    it("charges wrong attempts and kills the code past maxAttempts", async () => {
      await store.issue(key, code());
      for (let i = 1; i <= 3; i++)
        expect(await store.redeem(key, WRONG, now)).toEqual({ status: "wrong", attempts: i, maxAttempts: 3 });
      // Even the right code cannot be redeemed once the code is dead.
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "exhausted" });
      expect(await store.redeem(key, WRONG, now)).toEqual({ status: "exhausted" });
      await store.issue(key, code());
      expect(await store.redeem(key, WRONG, now)).toEqual({ status: "wrong", attempts: 1, maxAttempts: 3 });
    });

    it("verifies the right hash once; a replay is `used` and charged nothing", async () => {
      const c = code();
      await store.issue(key, c);
      expect(await store.redeem(key, WRONG, now)).toMatchObject({ status: "wrong", attempts: 1 });
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "verified", codeId: c.codeId });
      for (let i = 0; i < 5; i++) expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "used" });
      // A guess against a used code is not told it hit a used code.
      expect(await store.redeem(key, WRONG, now)).toEqual({ status: "missing" });
      expect(await store.redeem(key, RIGHT, now + 60_000)).toEqual({ status: "expired" });
    });

    it("keeps only the last code issued", async () => {
      const first = code();
      const second = code({ hash: "b3RoZXI" });
      await store.issue(key, first);
      await store.issue(key, second);
      expect(await store.redeem(key, first.hash, now)).toMatchObject({ status: "wrong", attempts: 1 });
      expect(await store.redeem(key, second.hash, now)).toEqual({ status: "verified", codeId: second.codeId });
      // A new code replaces a used one.
      const third = code();
      await store.issue(key, third);
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "verified", codeId: third.codeId });
    });

    it("expires codes", async () => {
      await store.issue(key, code({ expiresAt: now + 1_000 }));
      expect(await store.redeem(key, RIGHT, now + 1_000)).toEqual({ status: "expired" });
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "missing" });
    });

    it("discard removes only the named code", async () => {
      const old = code();
      const current = code();
      await store.issue(key, old);
      await store.issue(key, current);
      await store.discard(key, old.codeId);
      expect(await store.redeem(key, WRONG, now)).toMatchObject({ status: "wrong" });
      await store.discard(key, current.codeId);
      expect(await store.redeem(key, RIGHT, now)).toEqual({ status: "missing" });
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

    it("charges at most maxAttempts of 200 concurrent wrong attempts", async () => {
      await store.issue(key, code());
      const results = await Promise.all(Array.from({ length: 200 }, () => store.redeem(key, WRONG, now)));
      const wrong = results.filter((r) => r.status === "wrong");
      expect(wrong).toHaveLength(3);
      expect(new Set(wrong.map((r) => (r.status === "wrong" ? r.attempts : 0)))).toEqual(new Set([1, 2, 3]));
      expect(results.filter((r) => r.status === "exhausted")).toHaveLength(197);
    });

    it("lets exactly one of 200 concurrent right submissions win; the others are `used`, never exhausted", async () => {
      const c = code();
      await store.issue(key, c);
      const results = await Promise.all(Array.from({ length: 200 }, () => store.redeem(key, RIGHT, now)));
      expect(results.filter((r) => r.status === "verified")).toEqual([{ status: "verified", codeId: c.codeId }]);
      expect(results.filter((r) => r.status === "used")).toHaveLength(199);
    });

    it("charges vendor-checked codes up to maxAttempts, then consumes one exactly once", async () => {
      const c = code();
      await store.issue(key, c);
      const charges = await Promise.all(Array.from({ length: 20 }, () => store.charge(key, now)));
      expect(charges.filter((r) => r.status === "charged")).toHaveLength(3);
      expect(charges.filter((r) => r.status === "exhausted")).toHaveLength(17);
      const other = `${key}:b`;
      await store.issue(other, c);
      expect(await store.charge(other, now)).toEqual({
        status: "charged",
        codeId: c.codeId,
        attempts: 1,
        maxAttempts: 3,
      });
      const consumed = await Promise.all(Array.from({ length: 20 }, () => store.consume(other, c.codeId)));
      expect(consumed.filter(Boolean)).toHaveLength(1);
      expect(await store.charge(other, now)).toEqual({ status: "used" });
      expect(await store.consume(other, "another-code")).toBe(false);
      expect(await store.charge(`${key}:none`, now)).toEqual({ status: "missing" });
      await store.issue(`${key}:old`, code());
      expect(await store.charge(`${key}:old`, now + 60_000)).toEqual({ status: "expired" });
    });

    it("claims each channel of a live code once; attempts carry over; a dead, used or replaced code is `none`", async () => {
      const c = code({ sealed: "c2VhbGVk", channel: "sms" });
      await store.issue(key, c);
      expect(await store.claimChannel(key, "sms", now)).toEqual({ status: "already_sent", codeId: c.codeId });
      expect(await store.redeem(key, WRONG, now)).toMatchObject({ status: "wrong", attempts: 1 });
      expect(await store.claimChannel(key, "voice", now)).toEqual({
        status: "claimed",
        codeId: c.codeId,
        sealed: "c2VhbGVk",
        expiresAt: c.expiresAt,
      });
      expect(await store.claimChannel(key, "voice", now)).toEqual({ status: "already_sent", codeId: c.codeId });
      // The same code: its attempts are not reset by the switch.
      expect(await store.redeem(key, WRONG, now)).toMatchObject({ status: "wrong", attempts: 2 });
      await store.releaseChannel(key, c.codeId, "voice");
      await store.releaseChannel(key, "another-code", "sms");
      expect(await store.claimChannel(key, "voice", now)).toMatchObject({ status: "claimed" });
      expect(await store.claimChannel(key, "sms", now)).toMatchObject({ status: "already_sent" });
      expect(await store.claimChannel(key, "whatsapp", now + 60_000)).toEqual({ status: "none" });
      expect(await store.redeem(key, WRONG, now)).toMatchObject({ status: "wrong", attempts: 3 });
      expect(await store.claimChannel(key, "whatsapp", now)).toEqual({ status: "none" });
      // A code issued without a sealed copy cannot be sent again; nor can a used one.
      const plain = code();
      await store.issue(key, plain);
      expect(await store.claimChannel(key, "voice", now)).toEqual({ status: "none" });
      await store.issue(key, code({ sealed: "eA", channel: "sms" }));
      expect(await store.redeem(key, RIGHT, now)).toMatchObject({ status: "verified" });
      expect(await store.claimChannel(key, "voice", now)).toEqual({ status: "none" });
      expect(await store.claimChannel(`${key}:other`, "voice", now)).toEqual({ status: "none" });
    });

    it("lets exactly one of 50 concurrent claims of a channel win", async () => {
      await store.issue(key, code({ sealed: "c2VhbGVk", channel: "sms" }));
      const results = await Promise.all(Array.from({ length: 50 }, () => store.claimChannel(key, "whatsapp", now)));
      expect(results.filter((r) => r.status === "claimed")).toHaveLength(1);
      expect(results.filter((r) => r.status === "already_sent")).toHaveLength(49);
    });

    it("counts 100 concurrent failures exactly", async () => {
      const counts = await Promise.all(Array.from({ length: 100 }, () => store.recordFailure(key, 60_000, now)));
      expect(new Set(counts).size).toBe(100);
      expect(await store.failureCount(key, now)).toBe(100);
    });
  });
}
