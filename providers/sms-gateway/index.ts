/** `textlock/providers/sms-gateway`: the provider's descriptor, and its factory for direct use. */
export * from "./descriptor.js";
export * from "./sms-gateway-provider.js";
