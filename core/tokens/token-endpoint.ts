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
    const grant = requireParam("grant_type", params.grant_type);
    if (grant === OTP_GRANT) {
      const result = await engine.verify(
        {
          client_id: str(params.client_id),
          client_secret: str(params.client_secret),
          realm: str(params.realm),
          username: str(params.username),
          otp: typeof params.otp === "number" ? String(params.otp) : str(params.otp),
          scope: str(params.scope),
          audience: str(params.audience),
        },
        request,
      );
      return tokens.issueForLogin(result, { issuer: request.issuer, nonce: str(params.nonce) });
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
