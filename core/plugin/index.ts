/**
 * `textlock/plugin`: everything a provider plugin needs, and nothing else. Built-in providers import
 * only this entry, exactly as third-party plugins do.
 *
 * ```ts
 * import { defineProvider, defineSmsProvider, ProviderError } from "textlock/plugin";
 * ```
 */
export { defineProvider, checkProviderDescriptor } from "../providers/provider-descriptor.js";
export type { ProviderDescriptor, ProviderContext } from "../providers/provider-descriptor.js";
export type { StandardSchemaV1 } from "../providers/standard-schema.js";
export { defineSmsProvider, ProviderError, isProviderError, abortable } from "../providers/sms-provider.js";
export type { SmsProvider, SmsMessage, SendContext, SendResult, DeliveryChannel, ProviderErrorKind } from "../providers/sms-provider.js";
export { TEXTLOCK_VERSION } from "../version.js";
