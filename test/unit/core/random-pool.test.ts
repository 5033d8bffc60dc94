import { describe, expect, it } from "vitest";
import { randomBytesPooled } from "../../../core/random-pool.js";

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
