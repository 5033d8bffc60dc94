import type { ProviderDescriptor } from "../core/plugin/index.js";
import { actionProvider } from "./action/descriptor.js";
import { consoleProvider } from "./console/descriptor.js";
import { smsGatewayProvider } from "./sms-gateway/descriptor.js";
import { twilioProvider, twilioVerifyProvider } from "./twilio/descriptor.js";
import { vonageProvider } from "./vonage/descriptor.js";

/**
 * The providers every textlock instance knows by name. Each descriptor loads its module (and vendor
 * SDK) only when a connection first sends through it.
 */
export const builtinProviders: readonly ProviderDescriptor[] = [
  consoleProvider,
  twilioProvider,
  twilioVerifyProvider,
  vonageProvider,
  smsGatewayProvider,
  actionProvider,
] as readonly ProviderDescriptor[];
