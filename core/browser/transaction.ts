import { createHmac } from "node:crypto";
import { secretsEqual } from "../engine/steps.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import { sha256 } from "./hashing.js";

/** The state of one hosted-page login, sealed into the page's forms instead of kept on the server. */
export interface Transaction {
  /** The `/authorize` parameters. */
  params: Record<string, string>;
  /** Hash of the browser-binding cookie: a form posted from another browser is refused. */
  bindingHash: string;
  /** Epoch ms. */
  expiresAt: number;
  /** The code step's number (E.164), when its code was sent, epoch ms (for the resend countdown), and over which channel. */
  codeSent?: CodeSent;
}

/** The code step's state: the number, when its code was last sent (epoch ms), and the channel it went over. */
export interface CodeSent {
  phone: string;
  at: number;
  /** Absent: the connection's default channel. */
  channel?: DeliveryChannel;
}

/**
 * Seals and opens transactions with an HMAC: the browser carries them, cannot change them, and cannot
 * replay them from another browser or after they expire.
 */
export class TransactionSealer {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {
    // v2: the fields got their names; a v1 transaction sealed before the upgrade fails its MAC, as an expired one would.
    this.key = createHmac("sha256", secret).update("textlock hosted-login transaction v2").digest();
  }

  /** A transaction for these parameters, bound to this browser's cookie, optionally at the code step. */
  create(params: Record<string, string>, bindingCookie: string, codeSent?: CodeSent): string {
    return this.seal({
      params,
      bindingHash: sha256(bindingCookie),
      expiresAt: this.now() + this.lifetimeMs,
      ...(codeSent ? { codeSent } : {}),
    });
  }

  seal(tx: Transaction): string {
    const payload = Buffer.from(JSON.stringify(tx)).toString("base64url");
    return `${payload}.${this.mac(payload)}`;
  }

  /** The transaction of a posted form, or undefined when forged, expired or from another browser. */
  open(sealed: unknown, bindingCookie: string | undefined): Transaction | undefined {
    if (typeof sealed !== "string" || !bindingCookie) return undefined;
    const [payload = "", mac = ""] = sealed.split(".");
    if (!secretsEqual(mac, this.mac(payload))) return undefined;
    try {
      const tx = JSON.parse(Buffer.from(payload, "base64url").toString()) as Transaction;
      if (tx.expiresAt <= this.now() || !secretsEqual(tx.bindingHash, sha256(bindingCookie))) return undefined;
      return tx;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }
}
