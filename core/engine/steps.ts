import { createHash, timingSafeEqual } from "node:crypto";
import { type ClientConfig, type ConnectionConfig, OTP_GRANT, type TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";

/** Auth0's phone pattern for `/passwordless/start`. */
export const PHONE_PATTERN = /^\+[0-9]{1,15}$/;

/** Top-level fields `/passwordless/start` accepts; anything else is `bad.request`. */
export const START_FIELDS = new Set([
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "connection",
  "phone_number",
  "send",
  "delivery_method",
  "authParams",
  "captcha",
]);

/** The client named by `client_id`, or 401 `invalid_client`. */
export function resolveClient(config: TextlockConfig, clientId: unknown): ClientConfig {
  const client = typeof clientId === "string" ? config.clients.find((c) => c.client_id === clientId) : undefined;
  if (!client) throw new TextlockError("ERR_INVALID_CLIENT");
  return client;
}

/**
 * Checks the client's credential. Confidential clients must present their secret; a public client
 * presenting a secret it does not have is refused too. Comparison is constant-time over digests.
 */
export function authenticateClient(client: ClientConfig, secret: unknown): void {
  if (client.token_endpoint_auth_method === "none") {
    if (secret !== undefined && secret !== "" && !client.client_secret) throw new TextlockError("ERR_INVALID_CLIENT");
    if (secret === undefined || secret === "") return;
  }
  if (secret === undefined || secret === "") throw new TextlockError("ERR_CLIENT_AUTH_REQUIRED");
  if (typeof secret !== "string" || !client.client_secret || !secretsEqual(secret, client.client_secret)) {
    throw new TextlockError("ERR_INVALID_CLIENT");
  }
}

/** Compares two secrets in constant time (through their SHA-256, so lengths may differ). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Refuses clients without the passwordless OTP grant (Auth0's exact body). */
export function checkOtpGrant(client: ClientConfig): void {
  if (!client.grant_types.includes(OTP_GRANT)) throw new TextlockError("ERR_GRANT_NOT_ALLOWED");
}

/** The connection for `/passwordless/start`, with Auth0's `bad.connection` errors. */
export function resolveStartConnection(config: TextlockConfig, client: ClientConfig, name: unknown): ConnectionConfig {
  if (name === undefined || name === null || name === "") throw new TextlockError("ERR_MISSING_CONNECTION");
  const connection = typeof name === "string" ? config.connections.find((c) => c.name === name) : undefined;
  if (!connection) {
    if (name === "email") throw new TextlockError("ERR_CONNECTION_STRATEGY");
    throw new TextlockError("ERR_UNKNOWN_CONNECTION");
  }
  if (!connection.enabled_clients.includes(client.client_id)) throw new TextlockError("ERR_CONNECTION_DISABLED");
  return connection;
}

/** The connection named by `realm` on a code exchange. */
export function resolveRealm(config: TextlockConfig, client: ClientConfig, realm: unknown): ConnectionConfig {
  if (realm === undefined || realm === "")
    throw new TextlockError("ERR_INVALID_REQUEST", { description: "Missing required parameter: realm" });
  const connection = typeof realm === "string" ? config.connections.find((c) => c.name === realm) : undefined;
  if (!connection) throw new TextlockError("ERR_INVALID_REQUEST", { description: `Unknown realm ${String(realm)}.` });
  if (!connection.enabled_clients.includes(client.client_id)) {
    throw new TextlockError("ERR_INVALID_REQUEST", {
      description: `The connection ${connection.name} is not enabled for this client.`,
    });
  }
  return connection;
}

/** Fields of `/passwordless/start` that must be strings when present. */
const START_STRING_FIELDS = [
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "connection",
  "phone_number",
  "send",
] as const;

/**
 * Refuses top-level fields Auth0 does not accept, and string fields of another JSON type (a number,
 * array, object, boolean or null is `400 invalid_request`, never coerced). A missing field keeps
 * Auth0's own error (`bad.client_id`, `bad.connection`, `bad.phone_number`), raised by the later steps.
 */
export function checkStartFields(input: Record<string, unknown>): void {
  const unknown = Object.keys(input).filter((k) => !START_FIELDS.has(k));
  if (unknown.length) {
    throw new TextlockError("ERR_UNKNOWN_PROPERTIES", {
      description: `the following properties are not allowed: ${unknown.join(", ")}`,
    });
  }
  for (const name of START_STRING_FIELDS) {
    if (input[name] !== undefined && typeof input[name] !== "string") {
      throw new TextlockError("ERR_INVALID_REQUEST", { description: `${name} must be a string` });
    }
  }
  if (
    input.authParams !== undefined &&
    (typeof input.authParams !== "object" || input.authParams === null || Array.isArray(input.authParams))
  ) {
    throw new TextlockError("ERR_BAD_AUTH_PARAMS");
  }
  if (input.send !== undefined && input.send !== "code") throw new TextlockError("ERR_UNSUPPORTED_SEND");
}

/** The phone number of `/passwordless/start`, validated against Auth0's pattern. */
export function requirePhone(value: unknown): string {
  if (value === undefined || value === null || value === "") throw new TextlockError("ERR_MISSING_PHONE");
  if (typeof value !== "string" || !PHONE_PATTERN.test(value)) throw new TextlockError("ERR_BAD_PHONE");
  return value;
}

/** A required string parameter of the token endpoint. */
export function requireParam(name: string, value: unknown): string {
  if (value === undefined || value === null || value === "") {
    throw new TextlockError("ERR_INVALID_REQUEST", { description: `Missing required parameter: ${name}` });
  }
  if (typeof value !== "string")
    throw new TextlockError("ERR_INVALID_REQUEST", { description: `${name} must be a string` });
  return value;
}

/** The store key of a phone's pending code and failure counter. */
export function otpKey(connection: ConnectionConfig, phone: string): string {
  return `${connection.name}:${phone}`;
}

/** The fixed code of a configured test number (`options.test_numbers`), or undefined for a real number. */
export function testNumberCode(connection: ConnectionConfig, phone: string): string | undefined {
  return connection.options.test_numbers.find((t) => t.phone_number === phone)?.code;
}
