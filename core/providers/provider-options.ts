import { type ProviderDescriptor, providerOptionNames } from "./provider-descriptor.js";
import { issuePath } from "./standard-schema.js";

export type ProviderOptionsResult = { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] };

/**
 * A provider's own options out of a connection's options: only the names it declares are handed to
 * its schema, so no provider ever sees another provider's secrets. Problems are worded as config
 * paths relative to the connection's `options`.
 */
export function validateProviderOptions(
  descriptor: ProviderDescriptor,
  connectionOptions: Record<string, unknown>,
): ProviderOptionsResult {
  if (!descriptor.options) return { ok: true, value: {} };
  const own: Record<string, unknown> = {};
  for (const name of providerOptionNames(descriptor) ?? []) {
    if (connectionOptions[name] !== undefined) own[name] = connectionOptions[name];
  }
  const result = descriptor.options["~standard"].validate(own);
  if (result instanceof Promise)
    return { ok: false, problems: [`provider "${descriptor.id}": its option schema must validate synchronously`] };
  if (result.issues) {
    return {
      ok: false,
      problems: result.issues.map((issue) => {
        const path = issuePath(issue);
        return `options${path ? `.${path}` : ""}: ${issue.message} (provider ${descriptor.id})`;
      }),
    };
  }
  return { ok: true, value: result.value as Record<string, unknown> };
}
