import semver from "semver";
import { TEXTLOCK_VERSION } from "../version.js";
import {
  type DeliveryChannel,
  isDeliveryChannel,
  type SendContext,
  type SmsMessage,
  type SmsProvider,
} from "./sms-provider.js";
import type { InferOutput, StandardSchemaV1 } from "./standard-schema.js";

/** What a provider's `create()` is given besides its own options. */
export interface ProviderContext {
  /** Name of the connection this instance serves (vendor credentials are per connection). */
  readonly connection: string;
  /** textlock's data folder (the console provider keeps its outbox there). */
  readonly dataDir: string;
  /** The delivery policy's per-attempt timeout, ms: a good default for the vendor SDK's own timeout. */
  readonly attemptTimeoutMs: number;
  /** The instance's logger. Never log a message body or a code. */
  readonly logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /**
   * Runs the configured delivery script (`custom-phone-provider` / `send-phone-message` hook), when
   * there is one; returns the `api.*` calls the script made, in order. Used by the `action` provider.
   */
  readonly runDeliveryHook?: (
    message: SmsMessage,
    request: SendContext["request"],
  ) => Promise<Array<[string, ...unknown[]]>>;
}

/**
 * A provider plugin: metadata, its own option schema, and a factory. Built-in and third-party
 * providers are the same kind of object; textlock registers them by `id`.
 *
 * ```ts
 * export const acmeProvider = defineProvider({
 *   id: "acme", version: "1.0.0", textlock: "^0.1.0",
 *   options: z.object({ acme_api_key: z.string() }),
 *   create: (options) => createAcme(options.acme_api_key),
 * });
 * ```
 */
export interface ProviderDescriptor<Options extends object = Record<string, unknown>> {
  /** The name connections use in `options.provider` (`twilio`, `acme`). */
  readonly id: string;
  /** The plugin's own version (semver), shown in errors and logs. */
  readonly version: string;
  /** The textlock versions the plugin supports, as a semver range (`^0.1.0`); checked at registration. */
  readonly textlock: string;
  /** Channels the provider can deliver; defaults to `["sms"]`. */
  readonly channels?: readonly DeliveryChannel[];
  /**
   * The provider's own connection options, as any Standard Schema (zod 4, valibot, arktype...). They
   * are read from the connection's `options` object, next to textlock's own options; the provider is
   * given only the keys it declares. Omit when the provider takes no options.
   */
  readonly options?: StandardSchemaV1<unknown, Options>;
  /**
   * The option names the provider owns, when its schema does not expose them itself (zod and
   * valibot object schemas do, through `shape` / `entries`).
   */
  readonly optionNames?: readonly string[];
  /** Option names that hold secrets: redacted from errors and logs. */
  readonly secretOptions?: readonly string[];
  /** Makes the provider for one connection. May be async (load a vendor SDK lazily). */
  create(options: Options, context: ProviderContext): SmsProvider | Promise<SmsProvider>;
}

/** A descriptor whose options type is taken from its schema. */
export function defineProvider<S extends StandardSchemaV1<unknown, object> | undefined = undefined>(
  descriptor: Omit<
    ProviderDescriptor<S extends StandardSchemaV1 ? InferOutput<S> & object : Record<string, never>>,
    "options"
  > & {
    readonly options?: S;
  },
): ProviderDescriptor<S extends StandardSchemaV1 ? InferOutput<S> & object : Record<string, never>> {
  checkProviderDescriptor(descriptor as ProviderDescriptor);
  return descriptor as never;
}

const ID = /^[a-z0-9][a-z0-9_.-]*$/i;

/**
 * Checks a descriptor's shape, its option names and that it supports this textlock version. Throws a
 * TypeError naming the plugin and what to fix.
 */
export function checkProviderDescriptor(d: ProviderDescriptor): void {
  if (!d || typeof d !== "object") throw new TypeError("a provider descriptor must be an object");
  const who = `provider ${typeof d.id === "string" ? `"${d.id}"` : "(no id)"}`;
  if (typeof d.id !== "string" || !ID.test(d.id))
    throw new TypeError(`${who}: \`id\` must be an identifier (letters, digits, _ . -)`);
  if (typeof d.version !== "string" || !semver.valid(d.version))
    throw new TypeError(`${who}: \`version\` must be a semver version, got ${JSON.stringify(d.version)}`);
  if (typeof d.textlock !== "string" || !semver.validRange(d.textlock)) {
    throw new TypeError(
      `${who}: \`textlock\` must be a semver range of supported textlock versions, got ${JSON.stringify(d.textlock)}`,
    );
  }
  if (!semver.satisfies(TEXTLOCK_VERSION, d.textlock, { includePrerelease: true })) {
    throw new TypeError(
      `${who}@${d.version} supports textlock ${d.textlock}, but this is textlock ${TEXTLOCK_VERSION}`,
    );
  }
  if (typeof d.create !== "function") throw new TypeError(`${who}: \`create\` must be a function`);
  if (d.channels !== undefined && !(Array.isArray(d.channels) && d.channels.every(isDeliveryChannel))) {
    throw new TypeError(`${who}: \`channels\` must list "sms", "voice" and/or "whatsapp"`);
  }
  if (d.options !== undefined && typeof d.options?.["~standard"]?.validate !== "function") {
    throw new TypeError(`${who}: \`options\` must be a Standard Schema (zod 4, valibot, arktype...)`);
  }
  if (d.options && !providerOptionNames(d)) {
    throw new TypeError(`${who}: list its option names in \`optionNames\` (its schema does not expose them)`);
  }
}

/** The connection option names a provider owns, from `optionNames` or its object schema. */
export function providerOptionNames(d: ProviderDescriptor): readonly string[] | undefined {
  if (d.optionNames) return d.optionNames;
  if (!d.options) return [];
  const schema = d.options as unknown as { shape?: object; entries?: object };
  const shape = schema.shape ?? schema.entries;
  return shape && typeof shape === "object" ? Object.keys(shape) : undefined;
}
