/**
 * `textlock`: create an instance, define providers, recognise errors.
 * Adapters live at `textlock/express`, `textlock/koa`, `textlock/fastify`, `textlock/standalone` and
 * the framework-free `textlock/http`; providers at `textlock/providers/<name>`; store implementations
 * at `textlock/stores`; the plugin kit at `textlock/plugin`; conformance suites at `textlock/testing`;
 * hook script types at `textlock/hooks`.
 */
import "reflect-metadata";
import { createTextlockWith, type Textlock, type TextlockOverrides } from "../core/create-textlock.js";
import { validateConfig as validateWith } from "../core/config/load-config.js";
import type { TextlockConfig, TextlockConfigInput } from "../core/config/schema.js";
import type { TextlockOptions } from "../core/config/options.js";
import { builtinProviders } from "../providers/builtin.js";

/**
 * Creates a textlock instance: validates the whole configuration (one `TextlockConfigError` lists
 * every problem), opens its stores and composes its parts. Built-in providers (`console`, `twilio`,
 * `vonage`, `sms_gateway`, `action`) are registered; plugins come through `options.providers`.
 */
export function createTextlock(options: TextlockOptions = {}, overrides: TextlockOverrides = {}): Promise<Textlock> {
  return createTextlockWith(builtinProviders, options as TextlockConfigInput, overrides);
}

/** Validates a configuration and applies defaults, with the built-in providers registered. */
export function validateConfig(options: TextlockOptions = {}, env: NodeJS.ProcessEnv = process.env): TextlockConfig {
  return validateWith(options as TextlockConfigInput, env, builtinProviders);
}

export { readConfigFile } from "../core/config/load-config.js";
export { OTP_GRANT } from "../core/config/schema.js";
export type { TextlockConfig } from "../core/config/schema.js";
export type { TextlockOptions, ClientOptions, ConnectionOptions } from "../core/config/options.js";
export { provide } from "../core/container/compose.js";
export type { Provision } from "../core/container/compose.js";
export * as tokens from "../core/di-tokens.js";
export type {
  Textlock,
  TextlockApi,
  TextlockOverrides,
  TextlockUsers,
  TextlockKeys,
  TextlockMetrics,
  LoginInput,
  RefreshInput,
  InProcessRequest,
} from "../core/create-textlock.js";
export type { RequestFacts, StartInput, StartResult, VerifyInput, VerifyResult } from "../core/engine/types.js";
export type { TokenResponse } from "../core/tokens/token-service.js";
export type { GrantHandler } from "../core/tokens/token-endpoint.js";
export type { User, UserPatch } from "../core/users/user-store.js";
export type { TextlockEventMap, TextlockEvents } from "../core/events/events.js";
export { errorCatalog } from "../core/errors/catalog.js";
export type { ErrorCode } from "../core/errors/catalog.js";
export { TextlockError, TextlockConfigError, isTextlockError, isTextlockConfigError } from "../core/errors/textlock-error.js";
export { toWireError } from "../core/errors/to-wire-error.js";
export type { WireError } from "../core/errors/to-wire-error.js";
export {
  defineProvider,
  defineSmsProvider,
  ProviderError,
  isProviderError,
  abortable,
  TEXTLOCK_VERSION,
} from "../core/plugin/index.js";
export type {
  ProviderDescriptor,
  ProviderContext,
  SmsProvider,
  SmsMessage,
  SendContext,
  SendResult,
  DeliveryChannel,
  ProviderErrorKind,
} from "../core/plugin/index.js";
