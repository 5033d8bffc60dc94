import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import type { HookRunner } from "../hooks/hook-runner.js";
import type { Logger } from "../logger.js";
import type { SmsProvider } from "./sms-provider.js";

export interface ProviderFactoryContext {
  config: TextlockConfig;
  connection: ConnectionConfig;
  logger: Logger;
  /** The instance's hook runner (the `action` provider runs its delivery script there). */
  hooks: HookRunner;
}

export type ProviderFactory = (ctx: ProviderFactoryContext) => Promise<SmsProvider>;

/**
 * Built-in providers by config name. Each loads its module (and vendor SDK) only when a connection
 * uses it, so an app that never sends through Twilio never loads the Twilio SDK.
 */
export const builtinProviderFactories: Record<string, ProviderFactory> = {
  console: async ({ config }) => {
    const { createConsoleProvider } = await import("../../providers/console/index.js");
    return createConsoleProvider({ outboxFile: `${config.dataDir}/outbox.jsonl` });
  },
  twilio: async ({ connection, config }) => {
    const o = connection.options;
    const { createTwilioProvider } = await import("../../providers/twilio/index.js");
    return createTwilioProvider({
      accountSid: required(o.twilio_sid, "twilio_sid", connection.name),
      authToken: required(o.twilio_token, "twilio_token", connection.name),
      from: o.from,
      messagingServiceSid: o.messaging_service_sid,
      apiBaseUrl: o.twilio_api_base_url,
      timeoutMs: config.delivery.attemptTimeoutMs,
    });
  },
  vonage: async ({ connection, config }) => {
    const o = connection.options;
    const { createVonageProvider } = await import("../../providers/vonage/index.js");
    return createVonageProvider({
      apiKey: required(o.vonage_api_key, "vonage_api_key", connection.name),
      apiSecret: required(o.vonage_api_secret, "vonage_api_secret", connection.name),
      from: required(o.from, "from", connection.name),
      restHost: o.vonage_rest_host,
      timeoutMs: config.delivery.attemptTimeoutMs,
    });
  },
  sms_gateway: async ({ connection, config }) => {
    const o = connection.options;
    const { createSmsGatewayProvider } = await import("../../providers/sms-gateway/index.js");
    return createSmsGatewayProvider({
      url: required(o.gateway_url, "gateway_url", connection.name),
      from: o.from,
      authentication: o.gateway_authentication,
      forwardReqInfo: o.forward_req_info,
      timeoutMs: config.delivery.attemptTimeoutMs,
    });
  },
};

// Registered here, after the others: the user-scripted provider of the hooks runtime.
builtinProviderFactories.action = async ({ hooks }) => {
  const { SandboxHookRunner } = await import("../hooks/sandbox-hook-runner.js");
  if (!(hooks instanceof SandboxHookRunner)) throw new Error('provider "action" needs hooks.scripts["custom-phone-provider"]');
  const { createActionProvider } = await import("../../providers/action/index.js");
  return createActionProvider(hooks);
};

function required<T>(value: T | undefined | null, option: string, connection: string): T {
  if (value === undefined || value === null || value === "") throw new Error(`connection "${connection}": options.${option} is required by its provider`);
  return value;
}
