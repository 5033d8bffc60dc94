import { defineProvider, TEXTLOCK_VERSION } from "../../core/plugin/index.js";

/** `action`: delivery by the `custom-phone-provider` (or `send-phone-message`) hook script. */
export const actionProvider = defineProvider({
  id: "action",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms", "voice"],
  async create(_options, context) {
    if (!context.runDeliveryHook) throw new Error('provider "action" needs hooks.scripts["custom-phone-provider"]');
    const { createActionProvider } = await import("./action-provider.js");
    return createActionProvider(context.runDeliveryHook);
  },
});
