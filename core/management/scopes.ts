/**
 * The Management API's scopes textlock knows (Auth0's names). A client grant for the Management API
 * may name only these; each route accepts any one of the scopes Auth0 accepts for it.
 */
export const MANAGEMENT_SCOPES = [
  "read:users",
  "update:users",
  "delete:users",
  "create:users",
  "read:users_app_metadata",
  "update:users_app_metadata",
  "delete:users_app_metadata",
  "create:users_app_metadata",
  "read:logs",
  "read:logs_users",
  "read:log_streams",
  "create:log_streams",
  "update:log_streams",
  "delete:log_streams",
  "delete:refresh_tokens",
  "delete:sessions",
  "read:sessions",
  "read:refresh_tokens",
] as const;

export type ManagementScope = (typeof MANAGEMENT_SCOPES)[number];

/** The Management API's audience for an issuer: `https://<host>/api/v2/` (the issuer ends with a slash). */
export function managementAudience(issuer: string): string {
  return `${issuer}api/v2/`;
}

/** True for an audience that names a Management API (`…/api/v2/`), whatever the host. */
export function isManagementAudience(audience: string): boolean {
  return /^https?:\/\/[^/]+\/(?:.*\/)?api\/v2\/$/.test(audience);
}
