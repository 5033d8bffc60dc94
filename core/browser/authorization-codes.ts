import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import { authenticateClient, requireParam, resolveClient, secretsEqual } from "../engine/steps.js";
import type { RequestFacts } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TokenResponse, TokenService } from "../tokens/token-service.js";
import type { UserStore } from "../users/user-store.js";
import { nonEmpty } from "./authorize-checks.js";
import type { AuthorizeRequest } from "./authorize-request.js";
import { randomToken, sha256 } from "./hashing.js";
import { type Login, type LoginRecord, loginRecordOf, restoreLogin } from "./login-record.js";
import type { OneTimeStore } from "./one-time-store.js";

/** What an authorization code remembers of its `/authorize` request, to issue the tokens it asked for. */
interface CodeRecord extends LoginRecord {
  scope: string;
  redirectUri: string;
  audience?: string;
  nonce?: string;
  codeChallenge?: string;
}

const codeKey = (code: string) => `ac:${sha256(code)}`;

export function checkAuthorizationCodeGrant(client: ClientConfig): void {
  if (!client.grant_types.includes("authorization_code")) {
    throw new TextlockError("ERR_GRANT_NOT_ALLOWED", {
      description: "Grant type 'authorization_code' not allowed for the client.",
    });
  }
}

/** A code belongs to the client it was issued to. */
function checkCodeClient(record: CodeRecord, client: ClientConfig): void {
  if (record.clientId !== client.client_id) throw new TextlockError("ERR_INVALID_AUTH_CODE");
}

/** When the exchange names a redirect_uri, it must be the one the code was sent to. */
function checkRedirectUriMatches(record: CodeRecord, redirectUri: unknown): void {
  if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
    throw new TextlockError("ERR_INVALID_GRANT", {
      description: "The redirect_uri does not match the one of the authorization request.",
    });
  }
}

/** The verifier must hash to the request's challenge; a public client's code without one is never redeemable. */
function checkPkce(record: CodeRecord, client: ClientConfig, codeVerifier: unknown): void {
  if (record.codeChallenge) {
    const verifier = nonEmpty(codeVerifier);
    if (
      !verifier ||
      !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) ||
      !secretsEqual(sha256(verifier), record.codeChallenge)
    ) {
      throw new TextlockError("ERR_PKCE_FAILED");
    }
  } else if (client.token_endpoint_auth_method === "none") {
    throw new TextlockError("ERR_PKCE_FAILED");
  }
}

/** Authorization codes: issued at the end of a browser login, exchanged once at `/oauth/token` (with PKCE). */
export class AuthorizationCodes {
  constructor(
    private readonly config: TextlockConfig,
    private readonly store: OneTimeStore,
    private readonly users: UserStore,
    private readonly tokens: TokenService,
  ) {}

  async issue(request: AuthorizeRequest, login: Login): Promise<string> {
    const code = randomToken(32);
    const record: CodeRecord = {
      ...loginRecordOf(login, request.client.client_id),
      scope: request.scope,
      redirectUri: request.redirect_uri,
      ...(request.audience ? { audience: request.audience } : {}),
      ...(request.nonce ? { nonce: request.nonce } : {}),
      ...(request.code_challenge ? { codeChallenge: request.code_challenge } : {}),
    };
    await this.store.put(codeKey(code), JSON.stringify(record), this.config.login.grantSeconds * 1000);
    return code;
  }

  /** `grant_type=authorization_code`: one redemption per code, PKCE for public clients. */
  async exchange(params: Record<string, unknown>, request: RequestFacts & { issuer: string }): Promise<TokenResponse> {
    const client = resolveClient(this.config, requireParam("client_id", params.client_id));
    checkAuthorizationCodeGrant(client);
    if (client.token_endpoint_auth_method !== "none") authenticateClient(client, nonEmpty(params.client_secret));
    // Taken before any other check: a code met with a wrong verifier is burnt, not left for retries.
    const record = await this.take(requireParam("code", params.code));
    checkCodeClient(record, client);
    checkRedirectUriMatches(record, params.redirect_uri);
    checkPkce(record, client, params.code_verifier);
    const login = await restoreLogin(record, this.config, this.users);
    return this.tokens.issueForLogin(
      {
        ...login,
        created: false,
        client,
        scope: record.scope,
        ...(record.audience ? { audience: record.audience } : {}),
      },
      {
        issuer: request.issuer,
        ...(record.nonce ? { nonce: record.nonce } : {}),
        ...(login.authTime !== undefined ? { authTime: login.authTime } : {}),
        ...(login.sid ? { sid: login.sid } : {}),
      },
    );
  }

  private async take(code: string): Promise<CodeRecord> {
    const raw = await this.store.take(codeKey(code));
    if (!raw) throw new TextlockError("ERR_INVALID_AUTH_CODE");
    return JSON.parse(raw) as CodeRecord;
  }
}
