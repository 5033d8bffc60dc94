/**
 * `textlock/plugin`: everything a provider plugin needs, and nothing else. Built-in providers import
 * only this entry, exactly as third-party plugins do.
 *
 * ```ts
 * import { defineProvider, defineSmsProvider, ProviderError } from "textlock/plugin";
 * ```
 */

export type { ProviderContext, ProviderDescriptor } from "../providers/provider-descriptor.js";
export { checkProviderDescriptor, defineProvider } from "../providers/provider-descriptor.js";
export type { DeliveryStatus, ReceiptRequest, ReceiptVerdict, VendorReceipt } from "../providers/receipts.js";
export type {
  DeliveryChannel,
  ProviderErrorKind,
  ProviderErrorOptions,
  SendContext,
  SendResult,
  SmsMessage,
  SmsProvider,
} from "../providers/sms-provider.js";
export {
  abortable,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  parseRetryAfter,
} from "../providers/sms-provider.js";
export type { StandardSchemaV1 } from "../providers/standard-schema.js";
export type { CodeVerification, VerificationOutcome, VerificationRequest } from "../providers/verification.js";
export type { RiskChecker, RiskPlugins, RiskVerdict } from "../risk/risk-checker.js";
export { TEXTLOCK_VERSION } from "../version.js";
