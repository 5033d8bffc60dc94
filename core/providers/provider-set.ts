import type { TextlockConfig } from "../config/schema.js";
import { TEXTLOCK_VERSION } from "../version.js";
import { checkProviderDescriptor, type ProviderDescriptor } from "./provider-descriptor.js";
import type { SmsProvider } from "./sms-provider.js";

export interface ProviderSet {
  readonly descriptors: ReadonlyMap<string, ProviderDescriptor>;
  /** Registration problems, worded as config paths (a bad plugin, a duplicate id). */
  readonly problems: readonly string[];
}

/**
 * Every provider an instance knows: the built-ins it was made with, then the config's plugins. A
 * plugin made for another textlock version, or with a bad shape, is a problem reported with the
 * rest of the configuration.
 */
export function collectProviders(
  builtins: readonly ProviderDescriptor[],
  plugins: TextlockConfig["providers"],
): ProviderSet {
  const descriptors = new Map<string, ProviderDescriptor>();
  const problems: string[] = [];
  const add = (descriptor: ProviderDescriptor, where: string) => {
    try {
      checkProviderDescriptor(descriptor);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return;
    }
    if (descriptors.has(descriptor.id) && !builtins.includes(descriptors.get(descriptor.id)!)) {
      problems.push(`${where}: a provider with id "${descriptor.id}" is already registered`);
      return;
    }
    descriptors.set(descriptor.id, descriptor);
  };
  for (const d of builtins) add(d, `builtin provider ${d.id}`);
  if (Array.isArray(plugins)) {
    for (const [i, d] of plugins.entries()) add(d, `providers.${i}`);
  } else for (const [name, instance] of Object.entries(plugins)) add(wrapInstance(name, instance), `providers.${name}`);
  return { descriptors, problems };
}

/** The older plugin form, a ready provider instance under a name, as a descriptor without options. */
function wrapInstance(id: string, instance: SmsProvider): ProviderDescriptor {
  return {
    id,
    version: TEXTLOCK_VERSION,
    textlock: TEXTLOCK_VERSION,
    ...(instance.channels ? { channels: instance.channels } : {}),
    create: () => instance,
  };
}
