import type { PostLoginResult, PreSendResult, PreUserRegistrationResult } from "./hook-runner.js";
import type { HookTrigger } from "./types.js";

/** One call a hook made on `api`, e.g. `["idToken.setCustomClaim", "k", "v"]`. */
export type ApiCall = [method: string, ...args: unknown[]];

/** The export a script file defines per trigger. */
export const HANDLER_EXPORTS: Record<HookTrigger, string> = {
  "pre-user-registration": "onExecutePreUserRegistration",
  "post-user-registration": "onExecutePostUserRegistration",
  "post-login": "onExecutePostLogin",
  "custom-phone-provider": "onExecuteCustomPhoneProvider",
  "send-phone-message": "onExecuteSendPhoneMessage",
  "pre-send": "onExecutePreSend",
};

/**
 * The `api` of each trigger as `group.method` names (see types.ts). Every method only records its
 * call; what the calls mean is decided afterwards, on the host, from the recorded list.
 */
export const API_METHODS: Record<HookTrigger, readonly string[]> = {
  "pre-user-registration": ["access.deny", "validation.error", "user.setUserMetadata", "user.setAppMetadata"],
  "post-user-registration": [],
  "post-login": [
    "access.deny",
    "idToken.setCustomClaim",
    "accessToken.setCustomClaim",
    "user.setUserMetadata",
    "user.setAppMetadata",
  ],
  "custom-phone-provider": ["notification.drop", "notification.retry"],
  "send-phone-message": [],
  "pre-send": ["access.deny"],
};

/**
 * The host-side `api` for in-process functions; the sandbox builds the same object inside the isolate.
 * Arguments are copied through JSON as they are out of the sandbox, so a function sees the same
 * semantics (and the same failure for a value JSON cannot hold) as a script.
 */
export function recordingApi(
  methods: readonly string[],
  record: (call: ApiCall) => void,
): Record<string, Record<string, (...args: unknown[]) => void>> {
  const api: Record<string, Record<string, (...args: unknown[]) => void>> = {};
  for (const path of methods) {
    const [group, name] = path.split(".") as [string, string];
    api[group] ??= {};
    api[group][name] = (...args: unknown[]) =>
      record([path, ...args.map((a) => (a === undefined ? null : JSON.parse(JSON.stringify(a))))]);
  }
  for (const group of Object.values(api)) Object.freeze(group);
  return Object.freeze(api);
}

const str = (v: unknown, max = 1024) =>
  typeof v === "string" ? v.slice(0, max) : v === undefined || v === null ? "" : String(v).slice(0, max);

export function preUserRegistrationResult(calls: readonly ApiCall[]): PreUserRegistrationResult {
  const result: PreUserRegistrationResult = {};
  for (const [method, a, b] of calls) {
    if (method === "access.deny")
      result.denied = { reason: str(a), userMessage: b === null || b === undefined ? undefined : str(b) };
    if (method === "validation.error") result.denied = { reason: str(b || a) };
    if (method === "user.setUserMetadata") (result.user_metadata ??= {})[str(a, 255)] = b;
    if (method === "user.setAppMetadata") (result.app_metadata ??= {})[str(a, 255)] = b;
  }
  return result;
}

export function postLoginResult(calls: readonly ApiCall[]): PostLoginResult {
  const result: PostLoginResult = { idTokenClaims: {}, accessTokenClaims: {} };
  for (const [method, a, b] of calls) {
    if (method === "access.deny") result.denied = { reason: str(a) || "Access denied" };
    if (method === "idToken.setCustomClaim") result.idTokenClaims[str(a, 255)] = b;
    if (method === "accessToken.setCustomClaim") result.accessTokenClaims[str(a, 255)] = b;
    if (method === "user.setUserMetadata") (result.user_metadata ??= {})[str(a, 255)] = b;
    if (method === "user.setAppMetadata") (result.app_metadata ??= {})[str(a, 255)] = b;
  }
  return result;
}

export function preSendResult(calls: readonly ApiCall[]): PreSendResult {
  const result: PreSendResult = {};
  for (const [method, a] of calls) if (method === "access.deny") result.denied = { reason: str(a) || "denied" };
  return result;
}
