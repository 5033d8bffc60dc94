import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { randomBytesPooled } from "../random-pool.js";

const IV = 12;
const TAG = 16;

/**
 * Authenticated encryption for one purpose under the server secret: AES-256-GCM with a key derived by
 * HKDF-SHA256 from the secret and the purpose's label (so a value sealed for one purpose never opens
 * as another), a fresh 96-bit IV per value, and optional associated data that binds a value to where
 * it is kept (a store key, a key id) without being stored in it. A sealed value is
 * `IV (12) ‖ tag (16) ‖ ciphertext`. Used for pending codes kept for a re-send, opaque `/userinfo`
 * access tokens and signing keys at rest.
 */
export class SealedBox {
  private readonly key: Buffer;

  /** `label`: the purpose, part of the key derivation (e.g. `"textlock pending code seal v1"`). */
  constructor(secret: Buffer, label: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), label, 32));
  }

  seal(plain: string | Buffer, aad?: string): Buffer {
    const iv = randomBytesPooled(IV);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    if (aad !== undefined) cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([
      typeof plain === "string" ? cipher.update(plain, "utf8") : cipher.update(plain),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /**
   * The plaintext, or undefined when `sealed` was not sealed by this box (another secret or purpose),
   * with this `aad`, or was altered or cut short.
   */
  open(sealed: Buffer, aad?: string): Buffer | undefined {
    if (sealed.length < IV + TAG) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(0, IV));
      if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(sealed.subarray(IV, IV + TAG));
      return Buffer.concat([decipher.update(sealed.subarray(IV + TAG)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
