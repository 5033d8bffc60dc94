import { extend } from "../extend.js";
import { objectIdHex } from "../otp/generate-code.js";
import type { NewUserFields, User, UserPatch, UserSortField } from "./user-store.js";

/** A new SMS user in Auth0's profile shape: `sms|<24 hex>`, name = phone, verified by the code just used. */
export function newUserProfile(connection: string, phone: string, fields: NewUserFields = {}, now = new Date()): User {
  const id = objectIdHex(now.getTime());
  const at = now.toISOString();
  const user: User = {
    user_id: `sms|${id}`,
    connection,
    phone_number: phone,
    phone_verified: true,
    name: phone,
    nickname: phone,
    created_at: at,
    updated_at: at,
    logins_count: 0,
    blocked: false,
    identities: [{ provider: "sms", connection, user_id: id, isSocial: false }],
    user_metadata: { ...(fields.user_metadata ?? {}) },
    app_metadata: { ...(fields.app_metadata ?? {}) },
  };
  return fields.login ? applyLogin(user, fields.login) : user;
}

/** Shallow merge where `null` deletes a key and `{}` empties the object (Auth0 Management API semantics). */
export function mergeMetadata(
  current: Record<string, unknown>,
  patch: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!patch) return current;
  if (Object.keys(patch).length === 0) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Applies a patch to a profile (pure). */
export function applyPatch(user: User, patch: UserPatch, now = new Date()): User {
  return extend(user, {
    user_metadata: mergeMetadata(user.user_metadata, patch.user_metadata),
    app_metadata: mergeMetadata(user.app_metadata, patch.app_metadata),
    blocked: patch.blocked ?? user.blocked,
    phone_number: patch.phone_number ?? user.phone_number,
    phone_verified: patch.phone_verified ?? user.phone_verified,
    name: patch.name ?? user.name,
    nickname: patch.nickname ?? user.nickname,
    ...(patch.picture !== undefined || user.picture !== undefined ? { picture: patch.picture ?? user.picture } : {}),
    updated_at: now.toISOString(),
  });
}

/** Counts a login on a profile (pure); the number is verified by the login's code. */
export function applyLogin(user: User, facts: { ip?: string; at: Date }): User {
  const at = facts.at.toISOString();
  return extend(user, {
    logins_count: user.logins_count + 1,
    // The code just used proves the number (an imported or changed number starts unverified).
    phone_verified: true,
    last_login: at,
    updated_at: at,
    ...(facts.ip ? { last_ip: facts.ip } : {}),
  });
}

/** The sort key of a profile for {@link UserSearchOptions.sort} (memory store). */
export function sortKey(user: User, field: UserSortField): string | number {
  const v = user[field];
  return typeof v === "number" ? v : (v ?? "");
}
