import { describe, expect, it } from "vitest";
import { phoneFacts } from "../../../core/phone/phone-facts.js";

describe("phoneFacts", () => {
  it("gives libphonenumber-js's country and line type", () => {
    expect(phoneFacts("+14155550100")).toMatchObject({ country: "US" });
    expect(phoneFacts("+33612345678")).toEqual({ country: "FR", lineType: "MOBILE" });
    // UK premium rate (09…) and an invalid number.
    expect(phoneFacts("+449098790123")).toEqual({ country: "GB", lineType: "PREMIUM_RATE" });
    expect(phoneFacts("+999")).toEqual({ country: undefined, lineType: undefined });
  });

  it("parses a number once and forgets the oldest past 10,000 numbers", () => {
    const first = phoneFacts("+33612345679");
    expect(phoneFacts("+33612345679")).toBe(first);
    for (let i = 0; i < 10_000; i++) phoneFacts(`+1${2_000_000_000 + i}`);
    const again = phoneFacts("+33612345679");
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it("keeps a number that keeps being used, however many others pass through", () => {
    const kept = phoneFacts("+33612345680");
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6_000; i++) phoneFacts(`+1${3_000_000_000 + round * 6_000 + i}`);
      expect(phoneFacts("+33612345680")).toBe(kept);
    }
  });
});
