import { describe, expect, it } from "vitest";
import { hashCode, hashesMatch } from "../../../core/otp/hash-code.js";

const key = Buffer.from("k".repeat(32));

describe("hashCode", () => {
  it("is a keyed HMAC: another secret gives another hash", () => {
    expect(hashCode(key, "sms", "+14155550100", "123456")).not.toBe(
      hashCode(Buffer.from("j".repeat(32)), "sms", "+14155550100", "123456"),
    );
  });

  it("binds the code to its connection and phone", () => {
    const base = hashCode(key, "sms", "+14155550100", "123456");
    expect(hashCode(key, "sms2", "+14155550100", "123456")).not.toBe(base);
    expect(hashCode(key, "sms", "+14155550101", "123456")).not.toBe(base);
    // Field boundaries cannot be shifted between connection and phone.
    expect(hashCode(key, "sms+1", "4155550100", "123456")).not.toBe(hashCode(key, "sms", "+14155550100", "123456"));
  });

  it("never contains the code", () => {
    const hash = hashCode(key, "sms", "+14155550100", "987654");
    expect(hash).not.toContain("987654");
    expect(Buffer.from(hash, "base64url")).toHaveLength(32);
  });
});

describe("hashesMatch", () => {
  it("matches equal digests only", () => {
    const a = hashCode(key, "sms", "+1", "1");
    expect(hashesMatch(a, a)).toBe(true);
    expect(hashesMatch(a, hashCode(key, "sms", "+1", "2"))).toBe(false);
    expect(hashesMatch(a, a.slice(0, 10))).toBe(false);
    expect(hashesMatch("", "")).toBe(false);
  });
});
