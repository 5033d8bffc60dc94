import { describe, expect, it } from "vitest";
import { randomBytesPooled, timeOrderedId } from "../../../core/random-pool.js";

describe("randomBytesPooled", () => {
  it("hands out fresh bytes of the asked size, across pool refills, never the same twice", () => {
    const seen = new Set<string>();
    // 3,000 × 32 bytes: the 4 KiB pool is refilled about 23 times.
    for (let i = 0; i < 3000; i++) {
      const b = randomBytesPooled(32);
      expect(b).toHaveLength(32);
      seen.add(b.toString("hex"));
    }
    expect(seen.size).toBe(3000);
    // Not a view of the pool: changing it changes nothing later.
    const a = randomBytesPooled(16);
    a.fill(0);
    expect(randomBytesPooled(16).equals(Buffer.alloc(16))).toBe(false);
    // Roughly uniform bytes (a zero-filled or repeating pool would fail this).
    const counts = new Array(256).fill(0);
    for (const byte of randomBytesPooled(4096)) counts[byte]++;
    expect(Math.max(...counts)).toBeLessThan(45);
    expect(() => randomBytesPooled(4097)).toThrow(RangeError);
  });
});

describe("timeOrderedId", () => {
  it("sorts by creation time as a plain string, and ids made in the same millisecond still differ", () => {
    const times = [0, 1, 35, 36, 1_700_000_000_000, 1_700_000_000_001, 4_102_444_800_000];
    const ids = times.map((t) => timeOrderedId(t));
    expect([...ids].reverse().sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(same.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{9}[A-Za-z0-9_-]{16}$/);
  });
});
