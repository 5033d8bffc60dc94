/**
 * `textlock/stores`: the store contracts and implementations, for hosts that build or wrap their own
 * (pass one with `createTextlock(config, { userStore })` or `provide(tokens.USER_STORE, store)`).
 * Redis and PostgreSQL stores are opened from config (`store`, `users`) by textlock itself.
 */

export type { OneTimeStore } from "../core/browser/one-time-store.js";
export { MemoryOtpStore } from "../core/otp/memory-otp-store.js";
export type { OtpStore, PendingCode, RedeemResult } from "../core/otp/otp-store.js";
export type { LoginSession, SessionStore } from "../core/sessions/session-store.js";
export { MemorySessionStore, RedisSessionStore, SqliteSessionStore } from "../core/sessions/session-store.js";
export type {
  RedeemResult as RefreshRedeemResult,
  RefreshRecord,
  RefreshTokenStore,
} from "../core/tokens/refresh-token-store.js";
export { MemoryRefreshTokenStore, SqliteRefreshTokenStore } from "../core/tokens/refresh-token-store.js";
export { MemoryUserStore } from "../core/users/memory-user-store.js";
export { SqliteUserStore } from "../core/users/sqlite-user-store.js";
export type {
  ListUsersOptions,
  NewUserFields,
  User,
  UserIdentity,
  UserPatch,
  UserStore,
} from "../core/users/user-store.js";
