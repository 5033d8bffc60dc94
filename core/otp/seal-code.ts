import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { randomBytesPooled } from "../random-pool.js";

/** What a sealed code carries: the code and the client it was issued through (its hash binds both). */
export interface SealedCodeContents {
  code: string;
  clientId: string;
}

/**
 * Seals a live code so the same code can be sent again over another channel (a channel switch, an
 * escalation) while the store never holds it in the clear: AES-256-GCM under a key derived (HKDF)
 * from the server secret, bound to the store key and the code's id, so a sealed value copied to
 * another phone or code does not open. A dump of the code store without the secret reveals nothing.
 */
export class CodeSealer {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "textlock pending code seal v1", 32));
  }

  seal(storeKey: string, codeId: string, contents: SealedCodeContents): string {
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(`${storeKey}\0${codeId}`));
    const body = Buffer.concat([cipher.update(`${contents.clientId}\0${contents.code}`, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** The contents, or undefined when the value was not sealed for this key and code (or not with this secret). */
  open(storeKey: string, codeId: string, sealed: string): SealedCodeContents | undefined {
    try {
      const raw = Buffer.from(sealed, "base64url");
      if (raw.length < 29) return undefined;
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${storeKey}\0${codeId}`));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      const cut = text.indexOf("\0");
      if (cut < 0) return undefined;
      return { clientId: text.slice(0, cut), code: text.slice(cut + 1) };
    } catch {
      return undefined;
    }
  }
}
