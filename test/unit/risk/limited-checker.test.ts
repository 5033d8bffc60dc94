import { describe, expect, it } from "vitest";
import { limitedChecker, type RiskChecker } from "../../../core/risk/risk-checker.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function counting(answer: () => Promise<{ refuse?: string }>, ready?: () => Promise<void>) {
  const calls: string[] = [];
  const checker: RiskChecker = {
    name: "test",
    check: async (phone) => {
      calls.push(phone);
      return answer();
    },
    ...(ready ? { ready } : {}),
  };
  return { checker, calls };
}

describe("limitedChecker (timeout and cache of a risk checker)", () => {
  it("rejects a lookup past its timeout and aborts it; loading (ready) does not count", async () => {
    let aborted = false;
    const slow: RiskChecker = {
      name: "slow",
      check: (_phone, signal) =>
        new Promise((_, reject) =>
          signal?.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          }),
        ),
    };
    await expect(limitedChecker(slow, 100, 60_000, Date.now).check("+1")).rejects.toThrow("no answer within 100 ms");
    expect(aborted).toBe(true);

    const { checker } = counting(
      async () => ({}),
      () => sleep(300),
    );
    await expect(limitedChecker(checker, 100, 60_000, Date.now).check("+1")).resolves.toEqual({});
  });

  it("caches answers per number until the TTL passes, never failures; concurrent checks share one lookup", async () => {
    let now = 1_000;
    let fail = true;
    const { checker, calls } = counting(async () => {
      await sleep(20);
      if (fail) throw new Error("down");
      return { refuse: "swapped" };
    });
    const limited = limitedChecker(checker, 1_000, 60_000, () => now);
    await expect(limited.check("+1")).rejects.toThrow("down");
    fail = false;
    const [a, b] = await Promise.all([limited.check("+1"), limited.check("+1")]);
    expect([a, b]).toEqual([{ refuse: "swapped" }, { refuse: "swapped" }]);
    expect(calls).toEqual(["+1", "+1"]);
    now += 59_000;
    await limited.check("+1");
    expect(calls).toHaveLength(2);
    now += 2_000;
    await limited.check("+1");
    expect(calls).toHaveLength(3);
  });
});
