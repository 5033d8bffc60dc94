import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { randomBytesPooled } from "../random-pool.js";

/** What an opaque `/userinfo` access token carries (never readable without the server secret). */
export interface UserinfoGrant {
  iss: string;
  sub: string;
  azp: string;
  scope: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

const VERSION = 1;
/** version (1) + IV (12) + tag (16). */
const OVERHEAD = 29;

/**
 * The access token of a login that asks for no `audience`: Auth0 gives such a login an **opaque** token
 * that only its `/userinfo` accepts (a JWT access token is for an API, named by `audience`). textlock's
 * is the grant (issuer, user, client, scope, lifetime) sealed with AES-256-GCM under a key derived
 * (HKDF) from the server secret: every process sharing the secret opens it, nobody else can read or
 * forge it, and making one costs microseconds where a second RS256 signature per login cost ~0.3 ms.
 */
export class UserinfoTokens {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "textlock userinfo access token v1", 32));
  }

  seal(grant: UserinfoGrant): string {
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(grant), "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /**
   * The grant, when `token` is one of these sealed under this secret, issued by `issuer` and not
   * expired at `nowSeconds`; else undefined (a JWT, a forged or altered value, another issuer's).
   */
  open(token: string, issuer: string, nowSeconds: number): UserinfoGrant | undefined {
    if (token.includes(".")) return undefined;
    const raw = Buffer.from(token, "base64url");
    if (raw.length <= OVERHEAD || raw[0] !== VERSION) return undefined;
    let grant: UserinfoGrant;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(1, 13));
      decipher.setAuthTag(raw.subarray(13, OVERHEAD));
      grant = JSON.parse(Buffer.concat([decipher.update(raw.subarray(OVERHEAD)), decipher.final()]).toString("utf8"));
    } catch {
      return undefined;
    }
    if (grant.iss !== issuer || typeof grant.exp !== "number" || grant.exp <= nowSeconds) return undefined;
    return grant;
  }
}
