/** `textlock/providers/action`: the provider's descriptor, and its factory for direct use. */

export * from "./action-provider.js";
export * from "./descriptor.js";
