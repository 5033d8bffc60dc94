import parsePhoneNumber, { getCountries, getCountryCallingCode } from "libphonenumber-js/max";
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

  it("types a number as libphonenumber-js's isValid() and getType() together do, in every calling code", () => {
    // phoneFacts asks getType() alone: with the full metadata isValid() is getType() !== undefined.
    const codes = [...new Set(getCountries().map((c) => getCountryCallingCode(c))), "800", "808", "870", "882", "883"];
    let seed = 7;
    const digit = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return String(seed % 10);
    };
    const typed = new Set<string>();
    let compared = 0;
    for (let i = 0; i < 30_000; i++) {
      let national = "";
      for (let d = 0; d < 5 + (i % 9); d++) national += digit();
      const phone = `+${codes[i % codes.length]}${national}`;
      const parsed = parsePhoneNumber(phone);
      const expected = parsed?.isValid() ? parsed.getType() : undefined;
      expect(phoneFacts(phone).lineType, phone).toBe(expected);
      if (expected) typed.add(expected);
      compared++;
    }
    expect(compared).toBe(30_000);
    // The generated numbers reach several line types, valid and invalid alike.
    expect(typed.size).toBeGreaterThanOrEqual(5);
  });
});
