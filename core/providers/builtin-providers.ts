import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import type { SmsProvider } from "./sms-provider.js";

export interface ProviderFactoryContext {
  config: TextlockConfig;
  connection: ConnectionConfig;
  logger: Logger;
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
};
