import { SealedBox } from "../crypto/sealed-box.js";

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
  private readonly box: SealedBox;

  constructor(secret: Buffer) {
    this.box = new SealedBox(secret, "textlock pending code seal v1");
  }

  seal(storeKey: string, codeId: string, contents: SealedCodeContents): string {
    return this.box.seal(`${contents.clientId}\0${contents.code}`, `${storeKey}\0${codeId}`).toString("base64url");
  }

  /** The contents, or undefined when the value was not sealed for this key and code (or not with this secret). */
  open(storeKey: string, codeId: string, sealed: string): SealedCodeContents | undefined {
    const text = this.box.open(Buffer.from(sealed, "base64url"), `${storeKey}\0${codeId}`)?.toString("utf8");
    const cut = text?.indexOf("\0") ?? -1;
    if (!text || cut < 0) return undefined;
    return { clientId: text.slice(0, cut), code: text.slice(cut + 1) };
  }
}
