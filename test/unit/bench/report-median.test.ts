import { describe, expect, it } from "vitest";
import { median } from "../../../bench/report.js";

// The bench judges its peer and bare ratios by the median of alternating rounds.
describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones, whatever the order", () => {
    expect(median([3])).toBe(3);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([6.3, 3.9, 4.4])).toBe(4.4);
  });

  it("does not reorder the rounds it is given", () => {
    const rounds = [3, 1, 2];
    median(rounds);
    expect(rounds).toEqual([3, 1, 2]);
  });
});
