import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The stored form of a code: HMAC-SHA-256 keyed with the server secret over connection, phone and
 * code, NUL-separated so no two triples share an input. A dump of the store is not enough to find a
 * code without the secret, and a code is bound to the number and connection it was sent for.
 */
export function hashCode(secret: Buffer, connection: string, phone: string, code: string): string {
  return createHmac("sha256", secret).update(`${connection}\0${phone}\0${code}`).digest("base64url");
}

/** Constant-time comparison of two stored hashes (equal-length digests; different lengths never match). */
export function hashesMatch(a: string, b: string): boolean {
  const left = Buffer.from(a, "base64url");
  const right = Buffer.from(b, "base64url");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
