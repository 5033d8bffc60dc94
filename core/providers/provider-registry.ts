import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { Logger } from "../logger.js";
import { builtinProviderFactories, type ProviderFactoryContext } from "./builtin-providers.js";
import { ProviderError, type SendContext, type SmsMessage, type SmsProvider } from "./sms-provider.js";

/** Default time one send may take before it is abandoned. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export interface Delivery {
  /** The vendor's message id. */
  id: string;
  /** Name of the provider that delivered. */
  provider: string;
}

/**
 * Resolves a connection's provider names to provider instances (built-ins are created per connection,
 * since vendor credentials live in connection options) and delivers messages through them.
 */
export class ProviderRegistry {
  private readonly instances = new Map<string, Promise<SmsProvider>>();

  constructor(
    private readonly config: TextlockConfig,
    private readonly logger: Logger,
  ) {}

  /** The provider names configured for a connection, in failover order. */
  namesFor(connection: ConnectionConfig): string[] {
    const p = connection.options.provider;
    return Array.isArray(p) ? [...p] : [p];
  }

  /** The provider instance `name` for `connection`, created once. */
  resolve(connection: ConnectionConfig, name: string): Promise<SmsProvider> {
    const plugin = this.config.providers[name];
    if (plugin) return Promise.resolve(plugin);
    const key = `${connection.name}\0${name}`;
    let instance = this.instances.get(key);
    if (!instance) {
      const factory = builtinProviderFactories[name];
      if (!factory) return Promise.reject(new TextlockError("ERR_PROVIDER_FAILED", { description: `Unknown provider ${name}` }));
      const ctx: ProviderFactoryContext = { config: this.config, connection, logger: this.logger };
      instance = factory(ctx);
      instance.catch(() => this.instances.delete(key));
      this.instances.set(key, instance);
    }
    return instance;
  }

  /**
   * Sends `message` through the connection's first provider within the send timeout and maps a
   * {@link ProviderError} to the Auth0 wire error. Vendor detail goes to the log, never further.
   */
  async deliver(connection: ConnectionConfig, message: SmsMessage, request: SendContext["request"]): Promise<Delivery> {
    const name = this.namesFor(connection)[0]!;
    const provider = await this.resolve(connection, name);
    const signal = AbortSignal.timeout(DEFAULT_SEND_TIMEOUT_MS);
    try {
      const result = await provider.send(message, { signal, options: connection.options, request });
      return { id: result.id, provider: provider.name };
    } catch (err) {
      throw toDeliveryError(err, provider.name, this.logger);
    }
  }

  async close(): Promise<void> {
    const providers = await Promise.allSettled([...this.instances.values()]);
    await Promise.allSettled(
      [...providers.flatMap((p) => (p.status === "fulfilled" ? [p.value] : [])), ...Object.values(this.config.providers)].map(
        (p) => p.close?.(),
      ),
    );
  }
}

/** Maps whatever a provider threw to the wire error the caller sees. */
export function toDeliveryError(err: unknown, providerName: string, logger: Logger): TextlockError {
  if (err instanceof TextlockError) return err;
  if (err instanceof ProviderError) {
    logger.warn({ provider: providerName, kind: err.kind, vendorCode: err.vendorCode }, "provider refused the message");
    return new TextlockError(err.kind === "bad_phone" ? "ERR_PROVIDER_BAD_PHONE" : "ERR_PROVIDER_FAILED", {
      description: err.message,
      cause: err,
    });
  }
  logger.error({ provider: providerName, err: { name: (err as Error)?.name } }, "provider failed unexpectedly");
  return new TextlockError("ERR_PROVIDER_FAILED", { cause: err });
}
