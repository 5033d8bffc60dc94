/** `textlock/providers/twilio`: the provider's descriptor, and its factory for direct use. */
export * from "./descriptor.js";
export * from "./twilio-provider.js";
export * from "./verify-provider.js";
