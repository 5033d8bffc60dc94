import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealedBox } from "../../../core/crypto/sealed-box.js";

const secret = Buffer.from("sealed-box-secret-sealed-box-secret-0123");

describe("SealedBox", () => {
  it("opens what it sealed, with the same associated data, and hides the plaintext", () => {
    const box = new SealedBox(secret, "textlock test v1");
    const sealed = box.seal("the code is 123456", "store-key\0code-id");
    expect(sealed.toString("latin1")).not.toContain("123456");
    expect(box.open(sealed, "store-key\0code-id")?.toString("utf8")).toBe("the code is 123456");
    // A fresh IV each time: the same plaintext never seals the same way twice.
    expect(box.seal("the code is 123456", "store-key\0code-id").equals(sealed)).toBe(false);
  });

  it("refuses another associated data, secret or purpose, an altered byte and a cut value", () => {
    const box = new SealedBox(secret, "textlock test v1");
    const sealed = box.seal("payload", "aad");
    expect(box.open(sealed, "other")).toBeUndefined();
    expect(box.open(sealed)).toBeUndefined();
    expect(
      new SealedBox(Buffer.from("another-secret-another-secret-0123456789"), "textlock test v1").open(sealed, "aad"),
    ).toBeUndefined();
    expect(new SealedBox(secret, "textlock other purpose v1").open(sealed, "aad")).toBeUndefined();
    for (const i of [0, 12, 28, sealed.length - 1]) {
      const altered = Buffer.from(sealed);
      altered[i]! ^= 1;
      expect(box.open(altered, "aad"), `byte ${i}`).toBeUndefined();
    }
    expect(box.open(sealed.subarray(0, 27), "aad")).toBeUndefined();
  });

  it("keeps the format values already at rest were sealed in: IV ‖ tag ‖ ciphertext under HKDF-SHA256(secret, label)", () => {
    // Sealed the way signing keys and pending codes were before this helper existed.
    const key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "textlock signing keys v1", 32));
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from("kid-1"));
    const body = Buffer.concat([cipher.update("-----BEGIN PRIVATE KEY-----", "utf8"), cipher.final()]);
    const stored = Buffer.concat([iv, cipher.getAuthTag(), body]);
    const box = new SealedBox(secret, "textlock signing keys v1");
    expect(box.open(stored, "kid-1")?.toString("utf8")).toBe("-----BEGIN PRIVATE KEY-----");
  });
});
