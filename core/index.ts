/**
 * `textlock`: create an instance, define providers, and the public types.
 * Adapters live at `textlock/express`, `textlock/koa`, `textlock/fastify`, `textlock/standalone`;
 * providers at `textlock/providers/<name>`.
 */
import "reflect-metadata";

export { createTextlock } from "./create-textlock.js";
export type { Textlock, TextlockApi, TextlockOverrides } from "./create-textlock.js";
export { validateConfig, readConfigFile, BUILTIN_PROVIDERS } from "./config/load-config.js";
export { configSchema, OTP_GRANT, DEV_CLIENT_ID } from "./config/schema.js";
export type { TextlockConfig, TextlockConfigInput, ClientConfig, ConnectionConfig } from "./config/schema.js";
export { errorCatalog } from "./errors/catalog.js";
export type { ErrorCode, ErrorSpec } from "./errors/catalog.js";
export { TextlockError, TextlockConfigError, isTextlockError } from "./errors/textlock-error.js";
export { toWireError } from "./errors/to-wire-error.js";
export type { WireError } from "./errors/to-wire-error.js";
export { defineSmsProvider, ProviderError, isSmsProvider, abortable } from "./providers/sms-provider.js";
export type {
  SmsProvider,
  SmsMessage,
  SendContext,
  SendResult,
  DeliveryChannel,
  ProviderErrorKind,
} from "./providers/sms-provider.js";
export type { OtpStore, PendingCode, AttemptResult } from "./otp/otp-store.js";
export { MemoryOtpStore } from "./otp/memory-otp-store.js";
export type { UserStore, User, UserIdentity, UserPatch, NewUserFields, ListUsersOptions } from "./users/user-store.js";
export { MemoryUserStore } from "./users/memory-user-store.js";
export { SqliteUserStore } from "./users/sqlite-user-store.js";
export type { RequestFacts, StartInput, StartResult, VerifyInput, VerifyResult } from "./engine/types.js";
export { TokenService } from "./tokens/token-service.js";
export type { TokenResponse, IssueOptions } from "./tokens/token-service.js";
export { MemoryRefreshTokenStore, SqliteRefreshTokenStore } from "./tokens/refresh-token-store.js";
export type { RefreshTokenStore, RefreshRecord } from "./tokens/refresh-token-store.js";
export type { SigningAlgorithm } from "./tokens/signing-keys.js";
export type { GrantHandler } from "./tokens/token-endpoint.js";
export type { TextlockEventMap } from "./events/events.js";
export { TextlockEvents } from "./events/events.js";
export type { HookRunner, HookContext, PreUserRegistrationResult, PostLoginResult } from "./hooks/hook-runner.js";
export type { BrowserFlow, AuthorizeRequest, AuthorizeTarget, ResponseMode } from "./browser/browser-flow.js";
export type { OneTimeStore } from "./browser/one-time-store.js";
