/** `textlock/providers/action`: the provider's descriptor, and its factory for direct use. */
export * from "./descriptor.js";
export * from "./action-provider.js";
