import { SealedBox } from "../crypto/sealed-box.js";

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

/** The token's first byte: `version ‖ sealed grant`. */
const VERSION = 1;

/**
 * The access token of a login that asks for no `audience`: Auth0 gives such a login an **opaque** token
 * that only its `/userinfo` accepts (a JWT access token is for an API, named by `audience`). textlock's
 * is the grant (issuer, user, client, scope, lifetime) sealed with AES-256-GCM under a key derived
 * (HKDF) from the server secret: every process sharing the secret opens it, nobody else can read or
 * forge it, and making one costs microseconds where a second RS256 signature per login cost ~0.3 ms.
 */
export class UserinfoTokens {
  private readonly box: SealedBox;

  constructor(secret: Buffer) {
    this.box = new SealedBox(secret, "textlock userinfo access token v1");
  }

  seal(grant: UserinfoGrant): string {
    return Buffer.concat([Buffer.of(VERSION), this.box.seal(JSON.stringify(grant))]).toString("base64url");
  }

  /**
   * The grant, when `token` is one of these sealed under this secret, issued by `issuer` and not
   * expired at `nowSeconds`; else undefined (a JWT, a forged or altered value, another issuer's).
   */
  open(token: string, issuer: string, nowSeconds: number): UserinfoGrant | undefined {
    if (token.includes(".")) return undefined;
    const raw = Buffer.from(token, "base64url");
    if (raw[0] !== VERSION) return undefined;
    const plain = this.box.open(raw.subarray(1));
    if (!plain) return undefined;
    let grant: UserinfoGrant;
    try {
      grant = JSON.parse(plain.toString("utf8"));
    } catch {
      return undefined;
    }
    if (grant.iss !== issuer || typeof grant.exp !== "number" || grant.exp <= nowSeconds) return undefined;
    return grant;
  }
}
