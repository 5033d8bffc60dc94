import type { ClientConfig, ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { AuthorizeRequest, ResponseMode } from "./authorize-request.js";
import { webOrigin } from "./web-origin.js";

/** Response types textlock answers (hybrid `code id_token` would need `c_hash`; it is refused). */
const RESPONSE_TYPES = new Set(["code", "token", "id_token", "id_token token"]);
const OPTIONAL_PARAMS = [
  "nonce",
  "audience",
  "code_challenge",
  "prompt",
  "ui_locales",
  "login_hint",
  "login_ticket",
] as const;
type OptionalParams = Pick<AuthorizeRequest, (typeof OPTIONAL_PARAMS)[number]>;

const invalid = (description: string) => new TextlockError("ERR_INVALID_REQUEST", { description });

/** A parameter's value when it is a non-empty string. */
export const nonEmpty = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

const isImplicit = (responseType: string) => responseType !== "code";

/** `redirect_uri`, or the client's only callback when it has exactly one. */
export function redirectUriOf(client: ClientConfig, redirectUri: string | undefined): string {
  if (redirectUri) return redirectUri;
  if (client.callbacks.length !== 1) throw invalid("Missing required parameter: redirect_uri");
  return client.callbacks[0]!;
}

/** The callback must be registered; a web_message answer needs only its origin to be one of the client's. */
export function checkRedirectUri(client: ClientConfig, redirectUri: string, mode: ResponseMode): void {
  if (mode === "web_message") {
    // web_message answers with postMessage to the page's origin: it must be a web origin of the client.
    const origin = webOrigin(redirectUri);
    const allowed = [...client.web_origins, ...client.callbacks].map(webOrigin);
    if (!origin || !allowed.includes(origin)) {
      throw invalid(`The origin of redirect_uri "${redirectUri}" is not in the client's Allowed Web Origins.`);
    }
  } else if (!client.callbacks.includes(redirectUri)) {
    throw invalid(`The redirect_uri "${redirectUri}" is not in the list of allowed callback URLs of the client.`);
  }
}

/** `response_type`, normalized to the order `code id_token token`; unknown and hybrid types are refused. */
export function responseTypeOf(raw: string | undefined): string {
  if (!raw) throw invalid("Missing required parameter: response_type");
  const types = new Set(raw.split(" ").filter(Boolean));
  const normalized = ["code", "id_token", "token"].filter((t) => types.has(t)).join(" ");
  if (!RESPONSE_TYPES.has(normalized) || types.size !== normalized.split(" ").length) {
    throw new TextlockError("ERR_UNSUPPORTED_RESPONSE_TYPE", { description: `Unsupported response type: ${raw}` });
  }
  return normalized;
}

/** Tokens in a query string end up in server logs and Referer headers. */
export function checkModeFitsResponseType(responseType: string, mode: ResponseMode): void {
  if (isImplicit(responseType) && mode === "query")
    throw invalid("response_mode query is not allowed for tokens; use fragment or form_post.");
}

/** The client must have the grant the response type stands for. */
export function checkGrantAllowed(client: ClientConfig, responseType: string): void {
  const grant = isImplicit(responseType) ? "implicit" : "authorization_code";
  if (!client.grant_types.includes(grant)) {
    throw new TextlockError("ERR_UNAUTHORIZED_CLIENT", {
      description: `Grant type '${grant}' not allowed for the client.`,
    });
  }
}

/** An id_token through the front channel needs a nonce against replay. */
export function checkNonce(responseType: string, nonce: string | undefined): void {
  if (responseType.split(" ").includes("id_token") && !nonEmpty(nonce))
    throw invalid("Nonce is required for an id_token response (implicit flow).");
}

/** Only S256 challenges, in their exact shape. */
export function checkCodeChallenge(challenge: string | undefined, method: string | undefined): void {
  if (challenge === undefined) return;
  if ((method ?? "plain") !== "S256") throw invalid("code_challenge_method must be S256.");
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    throw invalid("code_challenge must be a base64url SHA-256 (43 characters).");
}

/** A public client's code is only safe with PKCE (a login ticket is bound to the browser another way). */
export function checkPublicClientUsesPkce(
  client: ClientConfig,
  responseType: string,
  params: Record<string, string>,
): void {
  if (
    !isImplicit(responseType) &&
    client.token_endpoint_auth_method === "none" &&
    !params.code_challenge &&
    !params.login_ticket
  ) {
    throw invalid("A public client must use PKCE: code_challenge and code_challenge_method=S256 are required.");
  }
}

/** The named connection, or the client's first enabled one. */
export function resolveAuthorizeConnection(
  config: TextlockConfig,
  client: ClientConfig,
  name: string | undefined,
): ConnectionConfig {
  const enabled = config.connections.filter((c) => c.enabled_clients.includes(client.client_id));
  const connection = name ? enabled.find((c) => c.name === name) : enabled[0];
  if (!connection)
    throw invalid(
      name ? `The connection "${name}" is not enabled for this client.` : "No connection is enabled for this client.",
    );
  return connection;
}

/** The granted scope: `openid` by default and for id_tokens, never `offline_access` in the front channel. */
export function scopeOf(responseType: string, raw: string | undefined): string {
  let scope = (raw ?? "openid").split(" ").filter(Boolean);
  if (responseType.split(" ").includes("id_token") && !scope.includes("openid")) scope = ["openid", ...scope];
  // Refresh tokens never travel through the browser's front channel.
  if (isImplicit(responseType)) scope = scope.filter((s) => s !== "offline_access");
  return scope.join(" ");
}

/** The optional parameters that were sent with a value. */
export function optionalParamsOf(params: Record<string, string>): OptionalParams {
  const found: OptionalParams = {};
  for (const key of OPTIONAL_PARAMS) {
    const value = nonEmpty(params[key]);
    if (value) found[key] = value;
  }
  return found;
}

const PROMPTS = new Set(["none", "login", "consent", "select_account"]);

/** The values of `prompt` (space-separated). */
export const promptsOf = (prompt: string | undefined) => new Set((prompt ?? "").split(" ").filter(Boolean));

/** `prompt` holds known values, and `none` alone (OIDC Core 3.1.2.1). */
export function checkPrompt(prompt: string | undefined): void {
  const prompts = promptsOf(prompt);
  for (const p of prompts) if (!PROMPTS.has(p)) throw invalid(`Unsupported prompt: ${p}`);
  if (prompts.has("none") && prompts.size > 1) throw invalid("prompt=none cannot be combined with other values.");
}

/** `max_age` in seconds (a non-negative integer): a login older than this must be done again. */
export function maxAgeOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw invalid("max_age must be a non-negative integer number of seconds.");
  return Number(raw);
}
