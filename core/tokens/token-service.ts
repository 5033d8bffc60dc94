import { createHash, randomBytes } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import {
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  REFRESH_TOKEN_STORE,
  SECRET,
  SIGNING_KEYS,
  USER_STORE,
} from "../di-tokens.js";
import type { VerifyResult } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import { extend } from "../extend.js";
import { timeOrderedId } from "../otp/generate-code.js";
import { randomBytesPooled } from "../random-pool.js";
import type { User, UserStore } from "../users/user-store.js";
import { familyOf, type RefreshTokenStore } from "./refresh-token-store.js";
import { resolveSigningThread, type SigningThread, signJwt } from "./sign-jwt.js";
import type { SigningKeys } from "./signing-keys.js";
import { UserinfoTokens } from "./userinfo-token.js";

/** Auth0's token endpoint answer. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

export interface IssueOptions {
  /** `https://{host}/`, with the trailing slash. */
  issuer: string;
  nonce?: string;
  /** Add `at_hash` (the browser's implicit `id_token token` response, which auth0-js checks). */
  atHash?: boolean;
  /** When the person authenticated, epoch ms (the id_token's `auth_time`; default: now). */
  authTime?: number;
  /** The login session (the id_token's `sid`, which `/oidc/logout` accepts as `logout_hint`). */
  sid?: string;
}

/** Claims a hook may not set (Auth0's restricted list): they are dropped, the token is still issued. */
const RESTRICTED_CLAIMS = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "azp",
  "nonce",
  "at_hash",
  "c_hash",
  "auth_time",
  "amr",
  "acr",
  "gty",
  "client_id",
  "cnf",
  "scope",
  "sid",
  "phone_number",
  "phone_number_verified",
  "name",
  "nickname",
  "picture",
  "updated_at",
]);

/** OIDC `at_hash`: the left half of the token's hash, with the hash of the signing algorithm. */
function leftHalfHash(token: string, alg: string): string {
  const digest = createHash(alg === "EdDSA" ? "sha512" : "sha256")
    .update(token)
    .digest();
  return digest.subarray(0, digest.length / 2).toString("base64url");
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/**
 * Issues and checks tokens: the RS256 (or ES256/EdDSA) id_token with Auth0's claims, the access token
 * (a JWT for an API when `audience` is asked for; otherwise, as Auth0 does, an opaque token only
 * `/userinfo` accepts: {@link UserinfoTokens}), and refresh tokens that are stored hashed and rotated on
 * every use.
 */
@injectable()
export class TokenService {
  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(SIGNING_KEYS) private readonly keys: SigningKeys,
    @inject(REFRESH_TOKEN_STORE) private readonly refreshTokens: RefreshTokenStore,
    @inject(USER_STORE) private readonly users: UserStore,
    @inject(CLOCK) private readonly now: Clock,
    @inject(EVENTS) private readonly events: TextlockEvents,
    @inject(SECRET) secret: Buffer,
  ) {
    this.userinfoTokens = new UserinfoTokens(secret);
    this.signingThread = resolveSigningThread(config.tokens.signing);
  }

  private readonly userinfoTokens: UserinfoTokens;
  /** Where tokens are signed (`tokens.signing`; see {@link resolveSigningThread}). */
  private readonly signingThread: SigningThread;

  jwks() {
    return this.keys.jwks();
  }

  /** Makes a new signing key; earlier ones stay in the JWKS. */
  async rotateKeys(): Promise<{ kid: string }> {
    const key = await this.keys.rotate(this.config.tokens.algorithm);
    return { kid: key.kid };
  }

  /** Removes a key from the JWKS; the signing key is refused. */
  async retireKey(kid: string): Promise<void> {
    await this.keys.retire(kid);
  }

  /** Tokens for a verified login. */
  async issueForLogin(result: VerifyResult, options: IssueOptions): Promise<TokenResponse> {
    return this.issue(
      result.user,
      result.client,
      extend(options, {
        scope: result.scope ?? "",
        audience: result.audience,
        connection: result.connection.name,
        idClaims: result.claims.idToken,
        accessClaims: result.claims.accessToken,
      }),
    );
  }

  /** The refresh_token grant: redeems the token once and returns new tokens with a new refresh token. */
  async refresh(client: ClientConfig, refreshToken: string, options: IssueOptions): Promise<TokenResponse> {
    if (!client.grant_types.includes("refresh_token")) {
      throw new TextlockError("ERR_GRANT_NOT_ALLOWED", {
        description: "Grant type 'refresh_token' not allowed for the client.",
      });
    }
    const invalid = () => new TextlockError("ERR_INVALID_GRANT", { description: "Unknown or invalid refresh token." });
    const hash = hashToken(refreshToken);
    // A token of another client is refused before it is marked used, so it cannot burn the family.
    const found = await this.refreshTokens.find(hash);
    if (!found || found.client_id !== client.client_id) throw invalid();
    const redeemed = await this.refreshTokens.use(hash);
    // A reuse of a rotated token: the store has revoked the whole family (Auth0's reuse detection).
    if (!redeemed) throw invalid();
    if (redeemed.reused) {
      this.events.emit("refresh_token.reused", { user_id: redeemed.record.user_id, client_id: client.client_id });
      throw invalid();
    }
    const { record } = redeemed;
    const now = this.now();
    if (record.expiresAt <= now || (record.idleExpiresAt !== undefined && record.idleExpiresAt <= now)) throw invalid();
    const user = await this.users.findById(record.user_id);
    if (!user) throw invalid();
    if (user.blocked) {
      // This family is done; the user's other devices each hear "user is blocked" at their next refresh
      // (auth0-spa-js logs out on that text), and an unblock revokes whatever is left.
      await this.refreshTokens.revokeFamily(familyOf(hash, record), record.expiresAt);
      throw new TextlockError("ERR_INVALID_GRANT", { description: "user is blocked" });
    }
    return this.issue(
      user,
      client,
      extend(options, {
        scope: record.scope,
        audience: record.audience,
        connection: record.connection,
        // A refreshed id_token still describes the login: its auth_time (max_age checks) and its session.
        ...(record.authTime !== undefined ? { authTime: record.authTime } : {}),
        ...(record.sid ? { sid: record.sid } : {}),
        family: { id: familyOf(hash, record), expiresAt: record.expiresAt },
      }),
    );
  }

  /**
   * `POST /oauth/revoke` (RFC 7009): revokes the family of a refresh token of this client. An unknown
   * (or already revoked) token is not an error. A token of another client is refused (400
   * `invalid_request`) and nothing is revoked.
   */
  async revoke(client: ClientConfig, refreshToken: string): Promise<void> {
    const hash = hashToken(refreshToken);
    const record = await this.refreshTokens.find(hash);
    if (!record) return;
    if (record.client_id !== client.client_id) {
      throw new TextlockError("ERR_INVALID_REQUEST", {
        description: "The refresh token was not issued to this client.",
      });
    }
    await this.refreshTokens.revokeFamily(familyOf(hash, record), record.expiresAt);
  }

  /** Revokes every refresh token of a user (a blocked user). */
  async revokeUser(userId: string): Promise<void> {
    await this.refreshTokens.revokeUser(userId);
  }

  /**
   * A machine-to-machine access token (`client_credentials`): an RS256 (the configured algorithm) JWT
   * with Auth0's claims — `sub` `<client_id>@clients`, `aud`, `scope`, `gty` `client-credentials`, `azp`.
   * No id_token, no refresh token.
   */
  async issueClientToken(
    client: ClientConfig,
    o: { issuer: string; audience: string; scope: string; lifetimeSeconds: number },
  ): Promise<TokenResponse> {
    const iat = Math.floor(this.now() / 1000);
    const key = this.keys.current;
    const access_token = await signJwt(
      {
        scope: o.scope,
        gty: "client-credentials",
        azp: client.client_id,
        iss: o.issuer,
        sub: `${client.client_id}@clients`,
        aud: o.audience,
        iat,
        exp: iat + o.lifetimeSeconds,
        jti: randomBytes(16).toString("base64url"),
      },
      key,
      this.signingThread,
    );
    return { access_token, token_type: "Bearer", expires_in: o.lifetimeSeconds, scope: o.scope };
  }

  /**
   * Checks an access token signed by this instance for `audience` (signature, issuer, audience,
   * expiry). Throws `ERR_MGMT_INVALID_TOKEN` with Auth0's messages (`Invalid token`, `Expired token
   * received for JSON Web Token validation`); never says more about why.
   */
  async verifyAccessToken(token: string, o: { issuer: string; audience: string }): Promise<JWTPayload> {
    try {
      const { kid } = decodeProtectedHeader(token);
      if (kid && !this.keys.find(kid)) await this.keys.reloadForUnknownKid(kid);
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.keys.jwks()), {
        issuer: o.issuer,
        audience: o.audience,
        currentDate: new Date(this.now()),
        algorithms: ["RS256", "ES256", "EdDSA"],
      });
      return payload;
    } catch (err) {
      const expired = (err as { code?: string }).code === "ERR_JWT_EXPIRED";
      throw new TextlockError("ERR_MGMT_INVALID_TOKEN", {
        description: expired ? "Expired token received for JSON Web Token validation" : "Invalid token",
      });
    }
  }

  /** `/userinfo`: the claims of the user behind an access token. */
  async userinfo(accessToken: string, issuer: string): Promise<Record<string, unknown>> {
    let payload: { sub?: unknown; scope?: unknown } | undefined = this.userinfoTokens.open(
      accessToken,
      issuer,
      Math.floor(this.now() / 1000),
    );
    // Or a JWT for an API that also named /userinfo (`audience` with `openid`).
    if (!payload)
      try {
        // A key made by another process a moment ago: read the shared keys again (rate-limited).
        const { kid } = decodeProtectedHeader(accessToken);
        if (kid && !this.keys.find(kid)) await this.keys.reloadForUnknownKid(kid);
        ({ payload } = await jwtVerify(accessToken, createLocalJWKSet(this.keys.jwks()), {
          issuer,
          audience: `${issuer}userinfo`,
          currentDate: new Date(this.now()),
        }));
      } catch {
        throw new TextlockError("ERR_INVALID_TOKEN");
      }
    const user = typeof payload.sub === "string" ? await this.users.findById(payload.sub) : undefined;
    if (!user) throw new TextlockError("ERR_INVALID_TOKEN");
    return { sub: user.user_id, ...profileClaims(user, String(payload.scope ?? "")) };
  }

  /**
   * An `id_token_hint` (`/oidc/logout`): signed by one of this instance's keys and issued by it. An
   * expired token is still a valid hint (OIDC RP-Initiated Logout); anything else is `undefined`.
   */
  async verifyIdTokenHint(idToken: string, issuer: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(this.keys.jwks()), {
        issuer,
        currentDate: new Date(this.now()),
      });
      return payload;
    } catch (err) {
      // jose checks the signature and the issuer before the expiry: an expired hint is otherwise sound.
      const code = (err as { code?: string }).code;
      const payload = (err as { payload?: JWTPayload }).payload;
      return code === "ERR_JWT_EXPIRED" && payload?.iss === issuer ? payload : undefined;
    }
  }

  private async issue(
    user: User,
    client: ClientConfig,
    o: IssueOptions & {
      scope: string;
      audience?: string;
      connection: string;
      idClaims?: Record<string, unknown>;
      accessClaims?: Record<string, unknown>;
      /** The family a rotated token continues (a login starts a new one). */
      family?: { id: string; expiresAt: number };
    },
  ): Promise<TokenResponse> {
    const scopes = new Set(o.scope.split(" ").filter(Boolean));
    const iat = Math.floor(this.now() / 1000);
    const key = this.keys.current;
    const accessLifetime = this.config.tokens.accessTokenLifetimeSeconds;
    const scope = [...scopes].join(" ");
    // The refresh token is stored first, so its group commit (and fsync) runs while the tokens are
    // signed; the answer waits for both.
    let refresh: { token: string; saving: Promise<void> } | undefined;
    if (scopes.has("offline_access") && client.grant_types.includes("refresh_token")) {
      const token = randomBytesPooled(32).toString("base64url");
      const now = this.now();
      const expiresAt = o.family?.expiresAt ?? now + this.config.tokens.refreshTokenLifetimeSeconds * 1000;
      const idle = this.config.tokens.refreshTokenIdleSeconds;
      const saving = this.refreshTokens.save(hashToken(token), {
        user_id: user.user_id,
        client_id: client.client_id,
        connection: o.connection,
        scope: o.scope,
        ...(o.audience ? { audience: o.audience } : {}),
        // Time-ordered: the family index of a new login's token grows at its end (one page per batch).
        family: o.family?.id ?? timeOrderedId(now),
        authTime: o.authTime ?? iat * 1000,
        ...(o.sid ? { sid: o.sid } : {}),
        expiresAt,
        ...(idle !== undefined ? { idleExpiresAt: Math.min(expiresAt, now + idle * 1000) } : {}),
      });
      // Awaited below; a signing failure first must not leave it an unhandled rejection.
      saving.catch(() => undefined);
      refresh = { token, saving };
    }
    // Without an audience the token is for /userinfo only: opaque, as Auth0's (custom access-token
    // claims go to APIs, so there are none to carry). With one, a JWT for that API (and /userinfo too
    // when `openid` is asked for: aud is then [api, userinfo]).
    const access_token = o.audience
      ? await signJwt(
          withClaims(customClaims(o.accessClaims), {
            scope,
            azp: client.client_id,
            iss: o.issuer,
            sub: user.user_id,
            aud: scopes.has("openid") ? [o.audience, `${o.issuer}userinfo`] : o.audience,
            iat,
            exp: iat + accessLifetime,
          }),
          key,
          this.signingThread,
        )
      : this.userinfoTokens.seal({
          iss: o.issuer,
          sub: user.user_id,
          azp: client.client_id,
          scope,
          iat,
          exp: iat + accessLifetime,
        });

    const response: TokenResponse = { access_token, token_type: "Bearer", expires_in: accessLifetime };
    if (scopes.has("openid")) {
      const claims = withClaims(customClaims(o.idClaims), profileClaims(user, o.scope));
      if (o.nonce) claims.nonce = o.nonce;
      if (o.atHash) claims.at_hash = leftHalfHash(access_token, key.alg);
      claims.auth_time = o.authTime !== undefined ? Math.floor(o.authTime / 1000) : iat;
      if (o.sid) claims.sid = o.sid;
      response.id_token = await signJwt(
        withClaims(claims, {
          iss: o.issuer,
          sub: user.user_id,
          aud: client.client_id,
          iat,
          exp: iat + client.jwt_configuration.lifetime_in_seconds,
        }),
        key,
        this.signingThread,
      );
    }
    if (refresh) {
      await refresh.saving;
      response.refresh_token = refresh.token;
    }
    if (scopes.size) response.scope = [...scopes].join(" ");
    return response;
  }
}

/** Standard claims by scope: `profile` → name, nickname, picture, updated_at; `phone` → phone_number(_verified). */
export function profileClaims(user: User, scope: string): Record<string, unknown> {
  const scopes = new Set(scope.split(" "));
  const claims: Record<string, unknown> = {};
  if (scopes.has("profile")) {
    claims.name = user.name;
    claims.nickname = user.nickname;
    if (user.picture) claims.picture = user.picture;
    claims.updated_at = user.updated_at;
  }
  if (scopes.has("phone") || scopes.has("profile")) {
    claims.phone_number = user.phone_number;
    claims.phone_number_verified = user.phone_verified;
  }
  return claims;
}

/**
 * `claims` (a fresh object) with `more` set on it, later keys winning as in `{ ...claims, ...more }`;
 * not that literal, which on Node 20 gets a hidden class of its own on every call (docs/performance.md).
 * `more` is textlock's own (no "__proto__" key).
 */
function withClaims(claims: Record<string, unknown>, more: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(claims, more);
}

function customClaims(claims: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!claims) return {};
  return Object.fromEntries(Object.entries(claims).filter(([k]) => !RESTRICTED_CLAIMS.has(k)));
}
