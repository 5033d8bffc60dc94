/** `textlock/providers/vonage`: the provider's descriptor, and its factory for direct use. */
export * from "./descriptor.js";
export * from "./vonage-provider.js";
