import { createHmac, timingSafeEqual } from "node:crypto";

/** What a code is issued for: it is redeemable only for the same connection, client and phone. */
export interface CodeBinding {
  connection: string;
  /** The client the code was requested through; redeeming it as another client is a wrong code. */
  clientId: string;
  phone: string;
}

/**
 * The stored form of a code: HMAC-SHA-256 keyed with the server secret over connection, client id,
 * phone and code, NUL-separated so no two bindings share an input. A dump of the store is not enough
 * to find a code without the secret, and a code is bound to the number, connection and client it was
 * sent for.
 */
export function hashCode(secret: Buffer, binding: CodeBinding, code: string): string {
  return createHmac("sha256", secret)
    .update(`${binding.connection}\0${binding.clientId}\0${binding.phone}\0${code}`)
    .digest("base64url");
}

/** Constant-time comparison of two stored hashes (equal-length digests; different lengths never match). */
export function hashesMatch(a: string, b: string): boolean {
  const left = Buffer.from(a, "base64url");
  const right = Buffer.from(b, "base64url");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
