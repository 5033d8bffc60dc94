import { describe, expect, it } from "vitest";
import { type CodeBinding, hashCode, hashesMatch } from "../../../core/otp/hash-code.js";

const key = Buffer.from("k".repeat(32));
const bound: CodeBinding = { connection: "sms", clientId: "spa", phone: "+14155550100" };

describe("hashCode", () => {
  it("is a keyed HMAC: another secret gives another hash", () => {
    expect(hashCode(key, bound, "123456")).not.toBe(hashCode(Buffer.from("j".repeat(32)), bound, "123456"));
  });

  it("binds the code to its connection, client and phone", () => {
    const base = hashCode(key, bound, "123456");
    expect(hashCode(key, { ...bound, connection: "sms2" }, "123456")).not.toBe(base);
    expect(hashCode(key, { ...bound, phone: "+14155550101" }, "123456")).not.toBe(base);
    expect(hashCode(key, { ...bound, clientId: "other" }, "123456")).not.toBe(base);
    // Field boundaries cannot be shifted between connection, client and phone.
    expect(hashCode(key, { ...bound, connection: "sms\0spa", clientId: "" }, "123456")).not.toBe(base);
    expect(hashCode(key, { ...bound, clientId: "spa+1", phone: "4155550100" }, "123456")).not.toBe(
      hashCode(key, { ...bound, phone: "+14155550100" }, "123456"),
    );
  });

  it("never contains the code", () => {
    const hash = hashCode(key, bound, "987654");
    expect(hash).not.toContain("987654");
    expect(Buffer.from(hash, "base64url")).toHaveLength(32);
  });
});

describe("hashesMatch", () => {
  it("matches equal digests only", () => {
    const a = hashCode(key, bound, "1");
    expect(hashesMatch(a, a)).toBe(true);
    expect(hashesMatch(a, hashCode(key, bound, "2"))).toBe(false);
    expect(hashesMatch(a, a.slice(0, 10))).toBe(false);
    expect(hashesMatch("", "")).toBe(false);
  });
});
