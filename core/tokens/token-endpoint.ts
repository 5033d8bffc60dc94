import { OTP_GRANT, type TextlockConfig } from "../config/schema.js";
import type { Engine } from "../engine/engine.js";
import { authenticateClient, requireParam, resolveClient } from "../engine/steps.js";
import type { RequestFacts } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TokenResponse, TokenService } from "./token-service.js";

/** Extra grants a part of textlock can plug in (the browser flow adds `authorization_code`). */
export type GrantHandler = (
  params: Record<string, unknown>,
  request: RequestFacts & { issuer: string },
) => Promise<TokenResponse>;

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Parameters of the token endpoint that are strings on the wire (RFC 6749 form parameters). A JSON
 * number, array, object, boolean or null in one of them is refused, never coerced: `"otp": 123456`
 * must not be read as the code "123456".
 */
const STRING_PARAMS = [
  "grant_type",
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "username",
  "otp",
  "realm",
  "scope",
  "audience",
  "nonce",
  "refresh_token",
  "code",
  "code_verifier",
  "redirect_uri",
];

/** Refuses a token request whose string parameters are not strings (400 `invalid_request`). */
export function checkStringParams(params: Record<string, unknown>, names: readonly string[] = STRING_PARAMS): void {
  for (const name of names) {
    const value = params[name];
    if (value !== undefined && typeof value !== "string") {
      throw new TextlockError("ERR_INVALID_REQUEST", { description: `${name} must be a string` });
    }
  }
}

/**
 * `POST /oauth/token` without HTTP: dispatches on `grant_type`. Client credentials arrive already
 * extracted (from the body or HTTP Basic) in `client_id` / `client_secret`.
 */
export function createTokenEndpoint(
  config: TextlockConfig,
  engine: Engine,
  tokens: TokenService,
  extraGrants: Map<string, GrantHandler>,
) {
  return async function token(
    params: Record<string, unknown>,
    request: RequestFacts & { issuer: string },
  ): Promise<TokenResponse> {
    checkStringParams(params);
    const grant = requireParam("grant_type", params.grant_type);
    if (grant === OTP_GRANT) {
      // The tokens are issued while the login's write commits; the answer waits for both.
      return engine.verify(
        {
          client_id: str(params.client_id),
          client_secret: str(params.client_secret),
          realm: str(params.realm),
          username: str(params.username),
          otp: str(params.otp),
          scope: str(params.scope),
          audience: str(params.audience),
        },
        request,
        (result) => tokens.issueForLogin(result, { issuer: request.issuer, nonce: str(params.nonce) }),
      );
    }
    if (grant === "refresh_token") {
      const client = resolveClient(config, requireParam("client_id", params.client_id));
      authenticateClient(client, str(params.client_secret));
      return tokens.refresh(client, requireParam("refresh_token", params.refresh_token), { issuer: request.issuer });
    }
    const extra = extraGrants.get(grant);
    if (extra) return extra(params, request);
    throw new TextlockError("ERR_UNSUPPORTED_GRANT");
  };
}

/**
 * `POST /oauth/revoke` without HTTP (RFC 7009, Auth0's shape): checks the client (its secret for a
 * confidential one), then revokes the token's family. Answers nothing, also for an unknown token.
 */
export function createRevokeEndpoint(config: TextlockConfig, tokens: TokenService) {
  return async function revoke(params: Record<string, unknown>): Promise<void> {
    checkStringParams(params, ["client_id", "client_secret", "token", "token_type_hint"]);
    const client = resolveClient(config, requireParam("client_id", params.client_id));
    authenticateClient(client, str(params.client_secret));
    await tokens.revoke(client, requireParam("token", params.token));
  };
}
