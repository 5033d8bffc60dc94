import { describe, expect, it } from "vitest";
import { generateCode, objectIdHex, randomHexId, timeOrderedId } from "../../../core/otp/generate-code.js";

describe("generateCode", () => {
  it("returns zero-padded decimal codes of the asked length", () => {
    for (const length of [4, 6, 8, 10]) {
      for (let i = 0; i < 200; i++) expect(generateCode(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    }
  });

  it("refuses lengths outside 4–10", () => {
    for (const bad of [0, 3, 11, 6.5, Number.NaN]) expect(() => generateCode(bad)).toThrow(RangeError);
  });

  it("uses the whole keyspace uniformly (chi-square over all 10^4 four-digit codes)", () => {
    // 400,000 draws over 10,000 cells: 40 expected per cell. With 9,999 degrees of freedom the
    // statistic has mean 9,999 and sd ≈ 141; a generator that skipped leading zeros (10% of cells
    // empty) or 9999 would land thousands above. Bounds are ±6 sd: a correct CSPRNG fails ~1e-9.
    const cells = 10_000;
    const draws = 400_000;
    const counts = new Uint32Array(cells);
    for (let i = 0; i < draws; i++) counts[Number(generateCode(4))]++;
    const expected = draws / cells;
    let chi = 0;
    for (const c of counts) chi += (c - expected) ** 2 / expected;
    const sd = Math.sqrt(2 * (cells - 1));
    expect(chi).toBeGreaterThan(cells - 1 - 6 * sd);
    expect(chi).toBeLessThan(cells - 1 + 6 * sd);
    // The edges of the keyspace are reachable: a leading zero and the top value.
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[9999]).toBeGreaterThan(0);
    expect(counts.slice(0, 1000).reduce((a, b) => a + b, 0)).toBeGreaterThan(draws * 0.09);
  });

  it("each digit position of 6-digit codes is uniform", () => {
    const draws = 100_000;
    const positions = Array.from({ length: 6 }, () => new Uint32Array(10));
    for (let i = 0; i < draws; i++) {
      const code = generateCode(6);
      for (let p = 0; p < 6; p++) positions[p]![code.charCodeAt(p) - 48]++;
    }
    for (const counts of positions) {
      // 9 degrees of freedom: the 1e-6 critical value is about 47.
      const chi = [...counts].reduce((sum, c) => sum + (c - draws / 10) ** 2 / (draws / 10), 0);
      expect(chi).toBeLessThan(47);
    }
  });

  it("makes 24-hex ids", () => {
    const ids = new Set(Array.from({ length: 1000 }, randomHexId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe("objectIdHex", () => {
  it("is 24 hex digits led by the creation second, so later ids sort after earlier ones; same-second ids differ", () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0);
    const id = objectIdHex(at);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(Number.parseInt(id.slice(0, 8), 16)).toBe(at / 1000);
    const ids = [0, 999, 1_000, 60_000, 86_400_000].map((ms) => objectIdHex(at + ms));
    // 0 and 999 ms share a second (random order between them); each later second sorts after.
    expect(ids[1]!.slice(0, 8)).toBe(ids[0]!.slice(0, 8));
    expect(ids[2]! > ids[0]! && ids[3]! > ids[2]! && ids[4]! > ids[3]!).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => objectIdHex(at))).size).toBe(1000);
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
