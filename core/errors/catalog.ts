/**
 * The one table of textlock errors. Each stable `ERR_*` code maps to an HTTP status, the Auth0 wire
 * `error` and a default `error_description`. Descriptions are Auth0's exact strings where Auth0 has
 * one (see shared/reference/auth0-contract.md); clients compare them, so do not reword them.
 *
 * Every code here must be documented in docs/reference/errors.md (a test enforces it).
 */
export interface ErrorSpec {
  /** HTTP status sent on the wire. */
  readonly status: number;
  /** The Auth0 `error` field. */
  readonly error: string;
  /** The default `error_description`; a thrown error may replace it where `detail` is true. */
  readonly description: string;
  /** When true the thrown error's own message is sent as the description (it was written for the caller). */
  readonly detail?: boolean;
  /** Extra fields written beside `error` and `error_description`. */
  readonly extra?: Readonly<Record<string, string>>;
  /** Response headers every error of this code carries (a thrown error's own headers are added to them). */
  readonly headers?: Readonly<Record<string, string>>;
}

const OTP_GRANT = "http://auth0.com/oauth/grant-type/passwordless/otp";

export const errorCatalog = {
  // --- request shape (POST /passwordless/start) ---
  ERR_MISSING_CLIENT_ID: { status: 400, error: "bad.client_id", description: "Missing required property: client_id" },
  ERR_MISSING_CONNECTION: {
    status: 400,
    error: "bad.connection",
    description: "Missing required property: connection",
  },
  ERR_UNKNOWN_CONNECTION: { status: 400, error: "bad.connection", description: "Connection does not exist" },
  ERR_CONNECTION_DISABLED: { status: 400, error: "bad.connection", description: "Connection is disabled" },
  ERR_CONNECTION_STRATEGY: {
    status: 400,
    error: "bad.connection",
    description: "Invalid connection strategy. It must either be a passwordless connection",
  },
  ERR_BAD_AUTH_PARAMS: {
    status: 400,
    error: "bad.authParams",
    description: "error in authParams - invalid type: string (expected object)",
  },
  ERR_UNKNOWN_PROPERTIES: {
    status: 400,
    error: "bad.request",
    description: "the following properties are not allowed",
    detail: true,
  },
  ERR_UNSUPPORTED_SEND: {
    status: 400,
    error: "bad.request",
    description: "SMS connections only support send: 'code'",
  },
  ERR_BAD_DELIVERY_METHOD: {
    status: 400,
    error: "bad.request",
    description: "delivery_method must be one of: text, voice, whatsapp",
  },
  ERR_CHANNEL_NOT_ALLOWED: {
    status: 400,
    error: "bad.request",
    description: "The connection does not deliver codes by this delivery_method",
    detail: true,
  },
  ERR_MISSING_PHONE: { status: 400, error: "bad.phone_number", description: "Missing required property: phone_number" },
  ERR_BAD_PHONE: {
    status: 400,
    error: "bad.phone_number",
    description: "String does not match pattern: ^\\+[0-9]{1,15}$",
  },
  // --- bot checks (POST /passwordless/start; Auth0 Bot Detection's `invalid_captcha`) ---
  ERR_CAPTCHA_REQUIRED: {
    status: 400,
    error: "invalid_captcha",
    description: "Missing captcha value: solve the bot check and send its token in `captcha`",
  },
  ERR_CAPTCHA_INVALID: { status: 400, error: "invalid_captcha", description: "Invalid captcha value" },
  ERR_CAPTCHA_UNAVAILABLE: {
    status: 503,
    error: "temporarily_unavailable",
    description: "The bot check could not be verified. Please try again later.",
  },
  ERR_PHONE_REFUSED: {
    status: 400,
    error: "bad.phone_number",
    description: "The phone number is not allowed",
    detail: true,
  },

  // --- delivery ---
  ERR_PROVIDER_BAD_PHONE: {
    status: 400,
    error: "bad.phone_number",
    description: "The phone number is invalid",
    detail: true,
  },
  ERR_PROVIDER_FAILED: {
    status: 400,
    error: "sms_provider_error",
    description: "The message could not be delivered. Please try again later.",
    detail: true,
  },
  ERR_PROVIDER_LIMITED: {
    status: 429,
    error: "too_many_requests",
    description: "Too many codes were sent to this phone number. Try again later.",
  },
  ERR_RECEIPT_UNSIGNED: {
    status: 401,
    error: "unauthorized",
    description: "The status callback is not signed.",
  },
  ERR_RECEIPT_FORGED: {
    status: 403,
    error: "access_denied",
    description: "The status callback's signature is not valid.",
  },

  // --- client authentication ---
  ERR_CLIENT_AUTH_REQUIRED: {
    status: 401,
    error: "unauthorized_client",
    description: "Client authentication is required",
  },
  ERR_INVALID_CLIENT: { status: 401, error: "invalid_client", description: "Client authentication failed" },
  ERR_GRANT_NOT_ALLOWED: {
    status: 403,
    error: "unauthorized_client",
    description: `Grant type '${OTP_GRANT}' not allowed for the client.`,
    detail: true,
    extra: { error_uri: "https://auth0.com/docs/clients/client-grant-types" },
  },

  // --- code verification ---
  ERR_WRONG_CODE: { status: 403, error: "invalid_grant", description: "Wrong phone number or verification code." },
  ERR_MAX_ATTEMPTS: {
    status: 403,
    error: "invalid_grant",
    description: "You've reached the maximum number of attempts. Please try to login again.",
  },
  ERR_TOO_MANY_ATTEMPTS: {
    status: 429,
    error: "too_many_attempts",
    description: "Your account has been blocked after multiple consecutive login attempts.",
  },
  ERR_PHONE_LOCKED: {
    status: 429,
    error: "too_many_requests",
    description: "Too many failed attempts for this phone number. Try again later.",
  },
  ERR_INVALID_GRANT: { status: 403, error: "invalid_grant", description: "Invalid grant", detail: true },
  // RFC 6750 §3: a Bearer-protected resource names the scheme (and, for a bad token, the error) in WWW-Authenticate.
  ERR_INVALID_TOKEN: {
    status: 401,
    error: "invalid_token",
    description: "The access token is invalid or has expired",
    headers: {
      "www-authenticate":
        'Bearer error="invalid_token", error_description="The access token is invalid or has expired"',
    },
  },
  ERR_MISSING_TOKEN: {
    status: 401,
    error: "invalid_token",
    description: "An access token is required (Authorization: Bearer <token>)",
    headers: { "www-authenticate": "Bearer" },
  },
  ERR_LEGACY_WRONG_CODE: {
    status: 401,
    error: "invalid_user_password",
    description: "Wrong phone number or verification code.",
    detail: true,
  },
  ERR_USER_BLOCKED: { status: 401, error: "unauthorized", description: "user is blocked" },
  ERR_ACCESS_DENIED: { status: 403, error: "access_denied", description: "Access denied", detail: true },
  ERR_RISK_REFUSED: { status: 403, error: "access_denied", description: "The request was refused." },

  ERR_HOOK_FAILED: {
    status: 400,
    error: "extensibility_error",
    description: "A hook failed, so the login could not be completed.",
  },

  // --- browser flow (/authorize, /co/authenticate, authorization_code grant) ---
  ERR_CO_NOT_ALLOWED: { status: 401, error: "unauthorized_client", description: "Cross origin login not allowed." },
  ERR_CO_INVALID_BODY: {
    status: 400,
    error: "invalid_request",
    description: "Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.",
  },
  ERR_UNSUPPORTED_CREDENTIAL_TYPE: {
    status: 400,
    error: "unsupported_credential_type",
    description: "Unknown credential type parameter.",
  },
  ERR_UNKNOWN_REALM: { status: 400, error: "invalid_request", description: "Unknown realm.", detail: true },
  ERR_CO_WRONG_CODE: {
    status: 403,
    error: "access_denied",
    description: "Wrong phone number or verification code.",
    detail: true,
  },
  ERR_CO_BLOCKED_USER: { status: 403, error: "blocked_user", description: "Blocked user" },
  ERR_UNSUPPORTED_RESPONSE_TYPE: {
    status: 400,
    error: "unsupported_response_type",
    description: "Unsupported response type.",
    detail: true,
  },
  ERR_UNAUTHORIZED_CLIENT: {
    status: 403,
    error: "unauthorized_client",
    description: "The client is not allowed to do this.",
    detail: true,
  },
  ERR_LOGIN_REQUIRED: { status: 400, error: "login_required", description: "Login required" },
  ERR_LOGIN_TICKET: {
    status: 403,
    error: "access_denied",
    description: "The login ticket is invalid, expired or was already used.",
    detail: true,
  },
  ERR_INVALID_AUTH_CODE: { status: 403, error: "invalid_grant", description: "Invalid authorization code" },
  ERR_PKCE_FAILED: { status: 403, error: "invalid_grant", description: "Failed to verify code verifier" },

  // --- generic request errors ---
  ERR_INVALID_REQUEST: { status: 400, error: "invalid_request", description: "Invalid request", detail: true },
  ERR_INVALID_BODY: {
    status: 400,
    error: "invalid_request",
    description: "The request body could not be parsed",
    detail: true,
  },
  ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    error: "invalid_request",
    description: "Content-Type must be application/json or application/x-www-form-urlencoded",
  },
  ERR_BODY_TOO_LARGE: { status: 413, error: "invalid_request", description: "The request body is too large" },
  ERR_UNSUPPORTED_GRANT: { status: 400, error: "unsupported_grant_type", description: "Grant type not supported" },
  ERR_NOT_FOUND: { status: 404, error: "not_found", description: "Not found" },
  ERR_METHOD_NOT_ALLOWED: { status: 405, error: "method_not_allowed", description: "Method not allowed" },
  ERR_RATE_LIMITED: {
    status: 429,
    error: "too_many_requests",
    description: "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
    // Each send limit has its own stable text (core/protection/protection.ts RATE_LIMIT_DESCRIPTIONS).
    detail: true,
  },

  // --- Management API (/api/v2/*): written as {statusCode, error, message, errorCode}, errorCode = `error` ---
  ERR_MGMT_MISSING_TOKEN: {
    status: 401,
    error: "unauthorized",
    description: "Missing authentication",
    headers: { "www-authenticate": "Bearer" },
  },
  ERR_MGMT_INVALID_TOKEN: {
    status: 401,
    error: "invalid_token",
    description: "Invalid token",
    detail: true,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  },
  ERR_MGMT_INSUFFICIENT_SCOPE: {
    status: 403,
    error: "insufficient_scope",
    description: "Insufficient scope",
    detail: true,
  },
  ERR_MGMT_INVALID_QUERY: {
    status: 400,
    error: "invalid_query_string",
    description: "Query validation error",
    detail: true,
  },
  ERR_MGMT_INVALID_BODY: { status: 400, error: "invalid_body", description: "Payload validation error", detail: true },
  ERR_MGMT_USER_NOT_FOUND: { status: 404, error: "inexistent_user", description: "The user does not exist." },
  ERR_MGMT_PHONE_CONFLICT: {
    status: 409,
    error: "auth0_idp_error",
    description: "The specified new phone_number already exists",
  },
  ERR_MGMT_USER_EXISTS: { status: 409, error: "auth0_idp_error", description: "The user already exists." },
  ERR_MGMT_UNKNOWN_CONNECTION: {
    status: 400,
    error: "inexistent_connection",
    description: "The connection does not exist.",
  },
  ERR_MGMT_NOT_FOUND: { status: 404, error: "not_found", description: "Not Found", detail: true },

  // --- server side ---
  ERR_STORE_UNAVAILABLE: {
    status: 503,
    error: "temporarily_unavailable",
    description: "The service is temporarily unavailable. Please try again later.",
  },
  ERR_INTERNAL: { status: 500, error: "server_error", description: "Internal server error" },
} as const satisfies Record<string, ErrorSpec>;

/** Every stable error code textlock can produce. */
export type ErrorCode = keyof typeof errorCatalog;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return errorCatalog[code];
}
