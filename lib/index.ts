/**
 * `textlock`: create an instance, define providers, recognise errors.
 * Adapters live at `textlock/express`, `textlock/koa`, `textlock/fastify`, `textlock/standalone` and
 * the framework-free `textlock/http`; providers at `textlock/providers/<name>`; store implementations
 * at `textlock/stores`; the plugin kit at `textlock/plugin`; conformance suites at `textlock/testing`;
 * hook script types at `textlock/hooks`.
 */
import "reflect-metadata";
import { validateConfig as validateWith } from "../core/config/load-config.js";
import type { TextlockOptions } from "../core/config/options.js";
import type { TextlockConfig, TextlockConfigInput } from "../core/config/schema.js";
import { provide } from "../core/container/compose.js";
import { createTextlockWith, type Textlock, type TextlockOverrides } from "../core/create-textlock.js";
import { RISK_PLUGINS } from "../core/di-tokens.js";
import { builtinProviders } from "../providers/builtin.js";
import { builtinRiskPlugins } from "../providers/risk.js";

/**
 * Creates a textlock instance: validates the whole configuration (one `TextlockConfigError` lists
 * every problem), opens its stores and composes its parts. Built-in providers (`console`, `twilio`,
 * `vonage`, `sms_gateway`, `action`) are registered; plugins come through `options.providers`.
 */
export function createTextlock(options: TextlockOptions = {}, overrides: TextlockOverrides = {}): Promise<Textlock> {
  // The host's own provisions come after, so a provided RISK_PLUGINS wins.
  const provisions = [provide(RISK_PLUGINS, builtinRiskPlugins), ...(overrides.provide ?? [])];
  return createTextlockWith(builtinProviders, options as TextlockConfigInput, { ...overrides, provide: provisions });
}

/** Validates a configuration and applies defaults, with the built-in providers registered. */
export function validateConfig(options: TextlockOptions = {}, env: NodeJS.ProcessEnv = process.env): TextlockConfig {
  return validateWith(options as TextlockConfigInput, env, builtinProviders);
}

export { readConfigFile } from "../core/config/load-config.js";
export type {
  CaptchaOptions,
  CaptchaPolicy,
  ClientGrantOptions,
  ClientOptions,
  ConnectionOptions,
  ResourceServerOptions,
  TextlockOptions,
} from "../core/config/options.js";
export type { TextlockConfig } from "../core/config/schema.js";
export { OTP_GRANT } from "../core/config/schema.js";
export type { Provision } from "../core/container/compose.js";
export { provide } from "../core/container/compose.js";
export type {
  HealthReport,
  InProcessRequest,
  LoginInput,
  RefreshInput,
  RevokeInput,
  Textlock,
  TextlockApi,
  TextlockHealth,
  TextlockKeys,
  TextlockMetrics,
  TextlockOverrides,
  TextlockUsers,
  UserSearchInput,
  UserSearchPage,
} from "../core/create-textlock.js";
export * as tokens from "../core/di-tokens.js";
export type {
  RequestFacts,
  ResendInput,
  ResendResult,
  StartInput,
  StartResult,
  VerifyInput,
  VerifyResult,
} from "../core/engine/types.js";
export type { ErrorCode } from "../core/errors/catalog.js";
export { errorCatalog } from "../core/errors/catalog.js";
export {
  isTextlockConfigError,
  isTextlockError,
  TextlockConfigError,
  TextlockError,
} from "../core/errors/textlock-error.js";
export type { WireError } from "../core/errors/to-wire-error.js";
export { toWireError } from "../core/errors/to-wire-error.js";
export type { TextlockEventMap } from "../core/events/events.js";
export { TextlockEvents } from "../core/events/events.js";
export type {
  DeliveryChannel,
  ProviderContext,
  ProviderDescriptor,
  ProviderErrorKind,
  SendContext,
  SendResult,
  SmsMessage,
  SmsProvider,
} from "../core/plugin/index.js";
export {
  abortable,
  defineProvider,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  TEXTLOCK_VERSION,
} from "../core/plugin/index.js";
export type { GrantHandler } from "../core/tokens/token-endpoint.js";
export type { TokenResponse } from "../core/tokens/token-service.js";
export type { User, UserPatch } from "../core/users/user-store.js";
