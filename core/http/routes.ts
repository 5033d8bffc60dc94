import { OTP_GRANT } from "../config/schema.js";
import type { RevokeInput } from "../create-textlock.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import { extend } from "../extend.js";
import type { Route, RouteContext } from "./handler.js";
import { json } from "./response.js";

const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };
const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * The body's parameters with the client's credentials (from the body or HTTP Basic) in `client_id` and
 * `client_secret`.
 */
const withCredentials = (params: Record<string, unknown>, creds: { client_id?: unknown; client_secret?: unknown }) =>
  extend(params, { client_id: creds.client_id, client_secret: creds.client_secret });

/**
 * A code exchange for the legacy endpoints: the passwordless OTP grant with `connection` as the realm
 * and `openid` as the default scope; code failures become Auth0's legacy `invalid_user_password`.
 */
async function legacyLogin(ctx: RouteContext, b: Record<string, unknown>, username: unknown, otp: unknown) {
  const creds = ctx.credentials(b);
  try {
    return await ctx.textlock.api.token(
      {
        grant_type: OTP_GRANT,
        client_id: creds.client_id,
        client_secret: creds.client_secret,
        realm: b.connection,
        username,
        otp,
        scope: str(b.scope) ?? "openid",
      },
      { issuer: ctx.issuer, ...ctx.facts },
    );
  } catch (err) {
    if (isTextlockError(err) && (err.code === "ERR_WRONG_CODE" || err.code === "ERR_MAX_ATTEMPTS")) {
      throw new TextlockError("ERR_LEGACY_WRONG_CODE", { description: err.message, cause: err });
    }
    throw err;
  }
}

/** The Auth0 Authentication API routes (see docs/reference/http-api.md). */
export const builtinRoutes: Route[] = [
  {
    method: "POST",
    path: "/passwordless/start",
    cors: true,
    async handle(_req, { textlock, body, facts, credentials }) {
      const input = { ...body() };
      const basic = credentials(input);
      if (basic.client_secret !== undefined && input.client_secret === undefined)
        input.client_secret = basic.client_secret;
      if (input.client_id === undefined && basic.client_id !== undefined) input.client_id = basic.client_id;
      return json(200, await textlock.api.start(input, facts), NO_STORE);
    },
  },
  {
    method: "POST",
    path: "/oauth/token",
    cors: true,
    async handle(_req, { textlock, body, facts, issuer, credentials }) {
      const params = body();
      const creds = credentials(params);
      const tokens = await textlock.api.token(withCredentials(params, creds), { issuer, ...facts });
      return json(200, tokens, NO_STORE);
    },
  },
  {
    // RFC 7009 revocation of a refresh token (and its family): 200 with an empty body, also for an unknown token.
    method: "POST",
    path: "/oauth/revoke",
    cors: true,
    async handle(_req, { textlock, body, credentials }) {
      const params = body();
      const creds = credentials(params);
      await textlock.api.revoke(withCredentials(params, creds) as unknown as RevokeInput);
      return { status: 200, headers: { ...NO_STORE }, body: "" };
    },
  },
  {
    method: ["GET", "POST"],
    path: "/userinfo",
    cors: true,
    async handle(req, { tokens, issuer }) {
      const auth = req.headers.authorization ?? "";
      const token = /^bearer /i.test(auth) ? auth.slice(7).trim() : "";
      if (!token) throw new TextlockError("ERR_MISSING_TOKEN");
      return json(200, await tokens.userinfo(token, issuer), NO_STORE);
    },
  },
  {
    method: "GET",
    path: "/.well-known/jwks.json",
    // Public keys: browser SDKs (auth0-js parseHash) fetch them cross-origin to check id_tokens.
    cors: true,
    // Cached for half the key reload interval (15 s by default): a verifier's copy is never older than
    // the time every process takes to pick up a rotation or retirement (docs/reference/tokens.md).
    handle: (_req, { tokens, textlock }) =>
      json(200, tokens.jwks(), {
        "cache-control": `public, max-age=${jwksMaxAge(textlock.config.tokens.keyReloadSeconds)}`,
      }),
  },
  {
    method: "GET",
    path: "/.well-known/openid-configuration",
    cors: true,
    handle: (_req, { textlock, issuer }) =>
      json(
        200,
        {
          issuer,
          authorization_endpoint: `${issuer}authorize`,
          token_endpoint: `${issuer}oauth/token`,
          userinfo_endpoint: `${issuer}userinfo`,
          revocation_endpoint: `${issuer}oauth/revoke`,
          jwks_uri: `${issuer}.well-known/jwks.json`,
          end_session_endpoint: `${issuer}oidc/logout`,
          scopes_supported: ["openid", "profile", "phone", "offline_access"],
          response_types_supported: ["code", "token", "id_token", "id_token token"],
          response_modes_supported: ["query", "fragment", "form_post", "web_message"],
          grant_types_supported: [OTP_GRANT, "refresh_token", "authorization_code", "client_credentials"],
          code_challenge_methods_supported: ["S256"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: [textlock.config.tokens.algorithm],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
          claims_supported: [
            "aud",
            "auth_time",
            "exp",
            "iat",
            "iss",
            "name",
            "nickname",
            "nonce",
            "phone_number",
            "phone_number_verified",
            "picture",
            "sub",
            "updated_at",
          ],
          request_uri_parameter_supported: false,
        },
        { "cache-control": "public, max-age=300" },
      ),
  },
  {
    // Legacy resource-owner endpoint (old Lock, auth0.js v7/8, node-auth0 v2/3): password = the code.
    method: "POST",
    path: "/oauth/ro",
    cors: true,
    async handle(_req, ctx) {
      const b = ctx.body();
      for (const name of ["client_id", "username", "password", "connection"] as const) {
        if (b[name] === undefined || b[name] === "")
          throw new TextlockError("ERR_INVALID_REQUEST", { description: `missing ${name} parameter` });
      }
      if (b.scope !== undefined && typeof b.scope !== "string") {
        throw new TextlockError("ERR_INVALID_REQUEST", { description: "scope parameter must be a string" });
      }
      const tokens = await legacyLogin(ctx, b, b.username, b.password);
      return json(
        200,
        {
          access_token: tokens.access_token,
          id_token: tokens.id_token,
          token_type: "Bearer",
          ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
        },
        NO_STORE,
      );
    },
  },
  {
    // Legacy `/passwordless/verify`: the documented `grant_type: password` shape and auth0.js's
    // `{connection, verification_code, phone_number}` shape.
    method: "POST",
    path: "/passwordless/verify",
    cors: true,
    async handle(_req, ctx) {
      const b = ctx.body();
      return json(
        200,
        await legacyLogin(ctx, b, b.username ?? b.phone_number, b.password ?? b.verification_code),
        NO_STORE,
      );
    },
  },
];

/** The JWKS `max-age`: half the key reload interval, whole seconds, at most 300. */
export function jwksMaxAge(keyReloadSeconds: number): number {
  return Math.min(300, Math.floor(keyReloadSeconds / 2));
}
