/** `textlock/providers/console`: the provider's descriptor, and its factory for direct use. */

export * from "./console-provider.js";
export * from "./descriptor.js";
