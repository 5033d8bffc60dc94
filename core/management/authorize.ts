import type { JWTPayload } from "jose";
import type { TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { RouteContext } from "../http/handler.js";
import type { HttpRequest } from "../http/types.js";
import { grantedScopes } from "../tokens/client-credentials.js";
import type { TokenService } from "../tokens/token-service.js";
import { managementAudience } from "./scopes.js";

/** Who called the Management API: the machine-to-machine client behind the access token. */
export interface ManagementCaller {
  client_id: string;
  /** The token's scopes that the client's grant still allows. */
  scopes: ReadonlySet<string>;
  /** The verified token claims. */
  claims: JWTPayload;
}

/** The Bearer token of a request, or undefined. */
export function bearerToken(req: Pick<HttpRequest, "headers">): string | undefined {
  const auth = req.headers.authorization ?? "";
  const token = /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, "").trim() : "";
  return token || undefined;
}

/**
 * Authenticates a Management API access token without HTTP: signed by this instance for
 * `<issuer>api/v2/`, not expired, a `client_credentials` token (`gty`, `sub` `<client_id>@clients`)
 * of a client whose grant still exists (a grant removed from the configuration stops its tokens).
 * The caller's scopes are the token's that the grant still allows. Throws `ERR_MGMT_MISSING_TOKEN`
 * or `ERR_MGMT_INVALID_TOKEN` (401).
 */
export async function authenticateManagementToken(
  o: { config: TextlockConfig; tokens: TokenService; issuer: string },
  token: string | undefined,
): Promise<ManagementCaller> {
  if (!token) throw new TextlockError("ERR_MGMT_MISSING_TOKEN");
  const audience = managementAudience(o.issuer);
  const claims = await o.tokens.verifyAccessToken(token, { issuer: o.issuer, audience });
  const clientId = typeof claims.azp === "string" ? claims.azp : undefined;
  // A user's access token can name this audience too; only machine-to-machine tokens manage.
  if (claims.gty !== "client-credentials" || !clientId || claims.sub !== `${clientId}@clients`) {
    throw new TextlockError("ERR_MGMT_INVALID_TOKEN", { description: "Invalid token" });
  }
  const granted = grantedScopes(o.config, clientId, audience, true);
  if (!granted) throw new TextlockError("ERR_MGMT_INVALID_TOKEN", { description: "Invalid token" });
  const scopes = new Set(
    String(claims.scope ?? "")
      .split(" ")
      .filter((s) => granted.has(s)),
  );
  return { client_id: clientId, scopes, claims };
}

/** Refuses a caller that has none of `anyOf`: 403 `insufficient_scope` with Auth0's message. */
export function checkManagementScope(caller: ManagementCaller, anyOf: string | readonly string[]): void {
  const wanted = [anyOf].flat();
  if (!wanted.some((s) => caller.scopes.has(s))) {
    throw new TextlockError("ERR_MGMT_INSUFFICIENT_SCOPE", {
      description: `Insufficient scope, expected any of: ${wanted.join(",")}`,
    });
  }
}

/** {@link authenticateManagementToken} then {@link checkManagementScope}. */
export async function authorizeManagementToken(
  o: { config: TextlockConfig; tokens: TokenService; issuer: string },
  token: string | undefined,
  anyOf: string | readonly string[],
): Promise<ManagementCaller> {
  const caller = await authenticateManagementToken(o, token);
  checkManagementScope(caller, anyOf);
  return caller;
}

/**
 * The check every `/api/v2/*` route makes first: the request's Bearer token must be a valid
 * Management API token with any one of `anyOf` (Auth0 accepts any one of an endpoint's scopes).
 * Missing token → 401 `Missing authentication`; bad/expired token → 401; missing scope → 403
 * `insufficient_scope`. Write its errors with `managementErrorResponse` (or use `managementRoute`,
 * which does both).
 */
export function requireManagementScope(
  req: HttpRequest,
  ctx: RouteContext,
  anyOf: string | readonly string[],
): Promise<ManagementCaller> {
  return authorizeManagementToken(
    { config: ctx.textlock.config, tokens: ctx.tokens, issuer: ctx.issuer },
    bearerToken(req),
    anyOf,
  );
}
