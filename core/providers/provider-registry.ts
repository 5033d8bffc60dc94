import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CONFIG, HOOKS, LOGGER, PROVIDER_DESCRIPTORS } from "../di-tokens.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { HookRunner } from "../hooks/hook-runner.js";
import type { Logger } from "../logger.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import type { ProviderContext, ProviderDescriptor } from "./provider-descriptor.js";
import { validateProviderOptions } from "./provider-options.js";
import {
  abortable,
  isProviderError,
  ProviderError,
  type SendContext,
  type SmsMessage,
  type SmsProvider,
} from "./sms-provider.js";

export interface Delivery {
  /** The vendor's message id. */
  id: string;
  /** Name of the provider that delivered. */
  provider: string;
}

/** How long past its attempt timeout a provider that ignores the abort signal is waited for. */
const ABANDON_GRACE_MS = 100;

/**
 * Resolves a connection's provider names to provider instances and delivers messages through them.
 * Each registered descriptor makes one instance per connection (vendor credentials live in connection
 * options), given only the options it declares.
 */
@injectable()
export class ProviderRegistry {
  private readonly instances = new Map<string, Promise<SmsProvider>>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** Each instance's own validated options, by connection and provider: handed to its sends too. */
  private readonly ownOptions = new Map<string, Readonly<Record<string, unknown>>>();

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(HOOKS) private readonly hooks: HookRunner,
    @inject(PROVIDER_DESCRIPTORS) private readonly descriptors: ReadonlyMap<string, ProviderDescriptor>,
  ) {}

  /** The provider names configured for a connection, in failover order. */
  namesFor(connection: ConnectionConfig): string[] {
    const p = connection.options.provider;
    return Array.isArray(p) ? [...p] : [p];
  }

  /** The provider instance `name` for `connection`, created once. */
  resolve(connection: ConnectionConfig, name: string): Promise<SmsProvider> {
    const key = `${connection.name}\0${name}`;
    let instance = this.instances.get(key);
    if (!instance) {
      const descriptor = this.descriptors.get(name);
      if (!descriptor)
        return Promise.reject(new TextlockError("ERR_PROVIDER_FAILED", { description: `Unknown provider ${name}` }));
      instance = this.create(descriptor, connection);
      instance.catch(() => this.instances.delete(key));
      this.instances.set(key, instance);
    }
    return instance;
  }

  private async create(descriptor: ProviderDescriptor, connection: ConnectionConfig): Promise<SmsProvider> {
    const options = validateProviderOptions(descriptor, connection.options);
    if (!options.ok) throw new Error(`connection "${connection.name}": ${options.problems.join("; ")}`);
    this.ownOptions.set(`${connection.name}\0${descriptor.id}`, options.value);
    const hooks = this.hooks as HookRunner & { deliver?: ProviderContext["runDeliveryHook"] };
    const context: ProviderContext = {
      connection: connection.name,
      dataDir: this.config.dataDir,
      attemptTimeoutMs: this.config.delivery.attemptTimeoutMs,
      logger: this.logger,
      ...(typeof hooks.deliver === "function" ? { runDeliveryHook: hooks.deliver.bind(this.hooks) } : {}),
    };
    return descriptor.create(options.value, context);
  }

  /**
   * The delivery policy. Providers are tried in the connection's order; each attempt has its own
   * timeout (a provider that ignores the abort signal is abandoned all the same); transient failures
   * are retried with backoff, honouring a vendor's Retry-After, and a timeout moves on to the next
   * provider at once; everything fits in one overall deadline. A provider whose circuit is open is
   * skipped. A number the vendor refuses ends delivery (another vendor would refuse it too).
   * Vendor detail goes to the log; the caller gets the Auth0 wire error.
   */
  async deliver(connection: ConnectionConfig, message: SmsMessage, request: SendContext["request"]): Promise<Delivery> {
    const policy = this.config.delivery;
    const deadline = Date.now() + policy.deadlineMs;
    let lastError: unknown = new ProviderError("transient", "No provider could deliver the message");
    for (const name of this.namesFor(connection)) {
      const breaker = this.breakerFor(connection, name);
      if (!breaker.allow()) {
        this.logger.warn({ provider: name, connection: connection.name }, "provider skipped: circuit open");
        continue;
      }
      let provider: SmsProvider;
      try {
        provider = await this.resolve(connection, name);
      } catch (err) {
        this.logger.error(
          { provider: name, err: { message: (err as Error).message } },
          "provider could not be created",
        );
        lastError = err;
        continue;
      }
      if (!(provider.channels ?? ["sms"]).includes(message.channel)) continue;
      for (let attempt = 0; attempt <= policy.retries; attempt++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw toDeliveryError(lastError, name, this.logger);
        const limit = Math.min(policy.attemptTimeoutMs, remaining);
        const signal = AbortSignal.timeout(limit);
        try {
          // Providers see the signal at the limit and may fail with their own words (the gateway's
          // "Timeout while calling the SMS gateway"); one that ignores it is abandoned a moment later.
          const result = await abortable(
            provider.send(message, {
              signal,
              options: this.ownOptions.get(`${connection.name}\0${name}`) ?? {},
              request,
            }),
            AbortSignal.timeout(limit + ABANDON_GRACE_MS),
          );
          breaker.success();
          return { id: result.id, provider: provider.name };
        } catch (err) {
          lastError = err;
          const kind = isProviderError(err) ? err.kind : signal.aborted ? "transient" : "rejected";
          this.logger.warn(
            {
              provider: name,
              connection: connection.name,
              attempt,
              kind,
              vendorCode: (err as ProviderError).vendorCode,
              timedOut: signal.aborted,
            },
            "send attempt failed",
          );
          if (kind === "bad_phone") throw toDeliveryError(err, name, this.logger);
          if (kind === "rejected") break;
          breaker.failure();
          if (signal.aborted || !breaker.allow()) break;
          const retryAfter =
            isProviderError(err) && err.retryAfter !== undefined
              ? err.retryAfter * 1000
              : policy.backoffMs * 2 ** attempt;
          const wait = Math.min(retryAfter, deadline - Date.now());
          if (attempt < policy.retries && wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    }
    throw toDeliveryError(lastError, "all", this.logger);
  }

  /** The breaker of one provider of one connection (vendor credentials differ per connection). */
  breakerFor(connection: ConnectionConfig, name: string): CircuitBreaker {
    const key = `${connection.name}\0${name}`;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(this.config.delivery.breaker.failures, this.config.delivery.breaker.coolDownMs);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  async close(): Promise<void> {
    const providers = await Promise.allSettled([...this.instances.values()]);
    await Promise.allSettled(
      providers.flatMap((p) => (p.status === "fulfilled" ? [p.value] : [])).map((p) => p.close?.()),
    );
  }
}

/** Maps whatever a provider threw to the wire error the caller sees. */
export function toDeliveryError(err: unknown, providerName: string, logger: Logger): TextlockError {
  if (isTextlockError(err)) return err;
  if (isProviderError(err)) {
    logger.warn({ provider: providerName, kind: err.kind, vendorCode: err.vendorCode }, "provider refused the message");
    return new TextlockError(err.kind === "bad_phone" ? "ERR_PROVIDER_BAD_PHONE" : "ERR_PROVIDER_FAILED", {
      description: err.message,
      cause: err,
    });
  }
  logger.error({ provider: providerName, err: { name: (err as Error)?.name } }, "provider failed unexpectedly");
  return new TextlockError("ERR_PROVIDER_FAILED", { cause: err });
}
