import { randomHexId } from "../otp/generate-code.js";
import type { NewUserFields, User, UserPatch } from "./user-store.js";

/** A new SMS user in Auth0's profile shape: `sms|<24 hex>`, name = phone, verified by the code just used. */
export function newUserProfile(connection: string, phone: string, fields: NewUserFields = {}, now = new Date()): User {
  const id = randomHexId();
  const at = now.toISOString();
  return {
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
}

/** Shallow merge where `null` deletes a key (Auth0 Management API semantics). */
export function mergeMetadata(
  current: Record<string, unknown>,
  patch: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!patch) return current;
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Applies a patch to a profile (pure). */
export function applyPatch(user: User, patch: UserPatch, now = new Date()): User {
  return {
    ...user,
    user_metadata: mergeMetadata(user.user_metadata, patch.user_metadata),
    app_metadata: mergeMetadata(user.app_metadata, patch.app_metadata),
    blocked: patch.blocked ?? user.blocked,
    updated_at: now.toISOString(),
  };
}

/** Counts a login on a profile (pure). */
export function applyLogin(user: User, facts: { ip?: string; at: Date }): User {
  const at = facts.at.toISOString();
  return {
    ...user,
    logins_count: user.logins_count + 1,
    last_login: at,
    updated_at: at,
    ...(facts.ip ? { last_ip: facts.ip } : {}),
  };
}
