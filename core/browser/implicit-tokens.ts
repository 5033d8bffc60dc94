import type { TokenService } from "../tokens/token-service.js";
import type { AuthorizeRequest } from "./authorize-request.js";
import type { Login } from "./login-record.js";

/** The implicit flow's answer: the tokens the response type asked for, as callback parameters. */
export async function implicitTokenValues(
  tokens: TokenService,
  request: AuthorizeRequest,
  login: Login,
  issuer: string,
): Promise<Record<string, string>> {
  const types = new Set(request.response_type.split(" "));
  const issued = await tokens.issueForLogin(
    {
      ...login,
      created: false,
      client: request.client,
      scope: request.scope,
      ...(request.audience ? { audience: request.audience } : {}),
    },
    {
      issuer,
      ...(request.nonce ? { nonce: request.nonce } : {}),
      atHash: types.has("token"),
      ...(login.authTime !== undefined ? { authTime: login.authTime } : {}),
      ...(login.sid ? { sid: login.sid } : {}),
    },
  );
  const values: Record<string, string> = {};
  if (types.has("token")) {
    values.access_token = issued.access_token;
    values.token_type = "Bearer";
    values.expires_in = String(issued.expires_in);
    if (issued.scope) values.scope = issued.scope;
  }
  if (types.has("id_token") && issued.id_token) values.id_token = issued.id_token;
  return values;
}
