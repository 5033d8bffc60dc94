/** `textlock/providers/console`: the provider's descriptor, and its factory for direct use. */
export * from "./descriptor.js";
export * from "./console-provider.js";
