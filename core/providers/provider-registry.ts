import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CONFIG, HOOKS, LOGGER, METRICS, PROVIDER_DESCRIPTORS } from "../di-tokens.js";
import { errorSpec } from "../errors/catalog.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { HookRunner } from "../hooks/hook-runner.js";
import type { Logger } from "../logger.js";
import { type Metrics, stopwatch } from "../metrics/metrics.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import type { ProviderContext, ProviderDescriptor } from "./provider-descriptor.js";
import { validateProviderOptions } from "./provider-options.js";
import type { ReceiptRequest, ReceiptVerdict } from "./receipts.js";
import { isProviderError, ProviderError, type SendContext, type SmsMessage, type SmsProvider } from "./sms-provider.js";
import type { VerificationOutcome, VerificationRequest } from "./verification.js";

export interface Delivery {
  /** The vendor's message id. */
  id: string;
  /** Name of the provider that delivered. */
  provider: string;
}

/** How long past its attempt timeout a provider that ignores the abort signal is waited for. */
const ABANDON_GRACE_MS = 100;

/**
 * The time limit of one provider call: `signal` aborts at the limit (reason: a `TimeoutError`, as
 * `AbortSignal.timeout` gives). The AbortController behind it is only made if the provider reads the
 * signal (the console provider and plugin hooks that never do cost no EventTarget per send).
 */
class Deadline {
  private controller: AbortController | undefined;
  timedOut = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.timedOut) this.controller.abort(timeoutReason());
    }
    return this.controller.signal;
  }

  expire(): void {
    this.timedOut = true;
    this.controller?.abort(timeoutReason());
  }
}

/**
 * What a verification's `check` is given: the attempt's signal and the provider's options. A class, not
 * an object literal with `get signal()`: V8 builds an object literal with an accessor in dictionary
 * mode (~1 µs, slow to read), once per call.
 */
class CallContext implements Pick<SendContext, "signal" | "options"> {
  readonly #deadline: Deadline;

  constructor(
    deadline: Deadline,
    readonly options: SendContext["options"],
  ) {
    this.#deadline = deadline;
  }

  get signal(): AbortSignal {
    return this.#deadline.signal;
  }
}

/** What a provider's `send` (or a verification's `start`) is given. */
class AttemptContext extends CallContext implements SendContext {
  readonly statusCallback?: string;

  constructor(
    deadline: Deadline,
    options: SendContext["options"],
    readonly request: SendContext["request"],
    statusCallback: string | undefined,
  ) {
    super(deadline, options);
    if (statusCallback) this.statusCallback = statusCallback;
  }
}

const timeoutReason = () => new DOMException("The operation was aborted due to timeout", "TimeoutError");

/**
 * One provider call within `limit` ms: `call` gets a {@link Deadline} whose signal aborts at the limit,
 * and a provider that ignores it is abandoned {@link ABANDON_GRACE_MS} later with a transient
 * {@link ProviderError}. One timer serves both and is cleared as soon as the call settles: two
 * `AbortSignal.timeout`s per send (weakly held timers) and an error built in advance were a measurable
 * share of a code request's CPU.
 */
function withinLimit<T>(
  limit: number,
  call: (deadline: Deadline) => Promise<T>,
): { deadline: Deadline; settled: Promise<T> } {
  const deadline = new Deadline();
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.expire();
      timer = setTimeout(
        () => reject(new ProviderError("transient", "The provider did not answer in time", { cause: timeoutReason() })),
        ABANDON_GRACE_MS,
      ).unref();
    }, limit).unref();
  });
  let work: Promise<T>;
  try {
    work = call(deadline);
  } catch (err) {
    work = Promise.reject(err);
  }
  // An abandoned call may still fail later: nobody is listening then.
  work.catch(() => {});
  const settled = Promise.race([work, abandoned]).finally(() => clearTimeout(timer));
  return { deadline, settled };
}

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
  /** Each instance's secret option values (its descriptor's `secretOptions`), redacted from logged vendor text. */
  private readonly secrets = new Map<string, string[]>();

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(HOOKS) private readonly hooks: HookRunner,
    @inject(PROVIDER_DESCRIPTORS) private readonly descriptors: ReadonlyMap<string, ProviderDescriptor>,
    @inject(METRICS) private readonly metrics: Metrics,
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

  /** The options provider `name`'s descriptor validated for `connection` (never another provider's). */
  private optionsOf(connection: ConnectionConfig, name: string): Readonly<Record<string, unknown>> {
    return this.ownOptions.get(`${connection.name}\0${name}`) ?? {};
  }

  private async create(descriptor: ProviderDescriptor, connection: ConnectionConfig): Promise<SmsProvider> {
    const options = validateProviderOptions(descriptor, connection.options);
    if (!options.ok) throw new Error(`connection "${connection.name}": ${options.problems.join("; ")}`);
    this.ownOptions.set(`${connection.name}\0${descriptor.id}`, options.value);
    this.secrets.set(
      `${connection.name}\0${descriptor.id}`,
      (descriptor.secretOptions ?? []).flatMap((n) => secretStrings(options.value[n])),
    );
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
    // Built only if every provider was skipped: an Error (its stack) per send is not free.
    let lastError: unknown;
    const noProvider = () => lastError ?? new ProviderError("transient", "No provider could deliver the message");
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
        this.metrics.providerErrors.labels(name, "unavailable").inc();
        lastError = err;
        continue;
      }
      if (!(provider.channels ?? ["sms"]).includes(message.channel)) continue;
      for (let attempt = 0; attempt <= policy.retries; attempt++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw toDeliveryError(noProvider(), name, this.logger, this.redactorFor(connection, name));
        const limit = Math.min(policy.attemptTimeoutMs, remaining);
        const elapsed = stopwatch();
        // Providers see the signal at the limit and may fail with their own words (the gateway's
        // "Timeout while calling the SMS gateway"); one that ignores it is abandoned a moment later.
        const statusCallback = this.statusCallbackFor(connection, name, provider);
        const { deadline: attemptLimit, settled } = withinLimit(limit, (limited) =>
          provider.send(
            message,
            new AttemptContext(limited, this.optionsOf(connection, name), request, statusCallback),
          ),
        );
        try {
          const result = await settled;
          this.metrics.providerDuration.labels(provider.name, "ok").observe(elapsed());
          breaker.success();
          return { id: result.id, provider: provider.name };
        } catch (err) {
          lastError = err;
          const kind = isProviderError(err) ? err.kind : attemptLimit.timedOut ? "transient" : "rejected";
          this.metrics.providerDuration.labels(provider.name, "error").observe(elapsed());
          this.metrics.providerErrors.labels(provider.name, attemptLimit.timedOut ? "timeout" : kind).inc();
          this.logger.warn(
            {
              provider: name,
              connection: connection.name,
              attempt,
              kind,
              ...vendorDetail(err, this.redactorFor(connection, name)),
              timedOut: attemptLimit.timedOut,
            },
            "send attempt failed",
          );
          if (kind === "bad_phone" || kind === "limited")
            throw toDeliveryError(err, name, this.logger, this.redactorFor(connection, name));
          if (kind === "rejected") break;
          breaker.failure();
          if (attemptLimit.timedOut || !breaker.allow()) break;
          if (attempt >= policy.retries) break;
          // The vendor's Retry-After wins over our backoff; a wait that would pass the deadline is not
          // worth it, so the next provider gets the message at once.
          const wait =
            isProviderError(err) && err.retryAfter !== undefined
              ? err.retryAfter * 1000
              : policy.backoffMs * 2 ** attempt;
          if (Date.now() + wait >= deadline) break;
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    }
    throw toDeliveryError(noProvider(), "all", this.logger, this.redactorFor(connection));
  }

  /**
   * The status-callback URL for messages `name` sends for `connection`, when delivery receipts are on
   * and the provider reads receipts: `<publicUrl>delivery-receipts/<provider>/<connection>`.
   */
  statusCallbackFor(connection: ConnectionConfig, name: string, provider: SmsProvider): string | undefined {
    const receipts = this.config.delivery.receipts;
    const base = receipts.publicUrl ?? this.config.issuer;
    if (!receipts.enabled || !base || typeof provider.parseReceipt !== "function") return undefined;
    return `${base.endsWith("/") ? base : `${base}/`}delivery-receipts/${encodeURIComponent(name)}/${encodeURIComponent(connection.name)}`;
  }

  /**
   * Hands a status callback to the connection's provider `name` to authenticate and read. Undefined
   * when the connection has no such provider or it reads no receipts (the route answers 404).
   */
  async parseReceipt(
    connection: ConnectionConfig,
    name: string,
    request: Omit<ReceiptRequest, "options" | "now" | "maxAgeSeconds">,
  ): Promise<ReceiptVerdict | undefined> {
    if (!this.namesFor(connection).includes(name)) return undefined;
    const provider = await this.resolve(connection, name);
    if (typeof provider.parseReceipt !== "function") return undefined;
    return provider.parseReceipt({
      ...request,
      options: this.optionsOf(connection, name),
      now: Date.now(),
      maxAgeSeconds: this.config.delivery.receipts.maxAgeSeconds,
    });
  }

  /**
   * The connection's provider when its vendor owns the code (Twilio Verify). Such a provider must be the
   * connection's only one: failing over to a provider that sends textlock's own code cannot work.
   */
  async codeOwner(connection: ConnectionConfig): Promise<{ name: string; provider: SmsProvider } | undefined> {
    const names = this.namesFor(connection);
    const provider = await this.resolve(connection, names[0]!);
    if (!provider.verification) return undefined;
    if (names.length > 1) {
      throw new TextlockError("ERR_PROVIDER_FAILED", {
        description: `Connection ${connection.name}: a provider that owns the code cannot have failover providers`,
      });
    }
    return { name: names[0]!, provider };
  }

  /** Asks the code-owning provider to send a code, within the delivery deadline; no retries (it would send twice). */
  async startVerification(
    connection: ConnectionConfig,
    request: VerificationRequest,
    facts: SendContext["request"],
  ): Promise<Delivery> {
    const owner = await this.codeOwner(connection);
    if (!owner) throw new TextlockError("ERR_PROVIDER_FAILED");
    const { name, provider } = owner;
    const limit = Math.min(this.config.delivery.attemptTimeoutMs, this.config.delivery.deadlineMs);
    const elapsed = stopwatch();
    try {
      const statusCallback = this.statusCallbackFor(connection, name, provider);
      const result = await withinLimit(limit, (deadline) =>
        provider.verification!.start(
          request,
          new AttemptContext(deadline, this.optionsOf(connection, name), facts, statusCallback),
        ),
      ).settled;
      this.metrics.providerDuration.labels(provider.name, "ok").observe(elapsed());
      return { id: result.id, provider: provider.name };
    } catch (err) {
      this.metrics.providerDuration.labels(provider.name, "error").observe(elapsed());
      this.metrics.providerErrors.labels(provider.name, isProviderError(err) ? err.kind : "rejected").inc();
      throw toDeliveryError(err, name, this.logger, this.redactorFor(connection, name));
    }
  }

  /** Asks the code-owning provider to check a code. A vendor outage is `sms_provider_error`, never a wrong code. */
  async checkVerification(
    connection: ConnectionConfig,
    request: { to: string; code: string },
  ): Promise<VerificationOutcome> {
    const owner = await this.codeOwner(connection);
    if (!owner) throw new TextlockError("ERR_PROVIDER_FAILED");
    const { name, provider } = owner;
    const limit = this.config.delivery.attemptTimeoutMs;
    try {
      return await withinLimit(limit, (deadline) =>
        provider.verification!.check(request, new CallContext(deadline, this.optionsOf(connection, name))),
      ).settled;
    } catch (err) {
      this.metrics.providerErrors.labels(provider.name, isProviderError(err) ? err.kind : "rejected").inc();
      throw toDeliveryError(err, name, this.logger, this.redactorFor(connection, name));
    }
  }

  /**
   * Removes credentials from vendor text before it is logged: the secret option values of the
   * connection's providers (one provider's, or all of them) and anything shaped like a vendor
   * account id or credential.
   */
  private redactorFor(connection: ConnectionConfig, name?: string): (text: string) => string {
    const names = name ? [name] : this.namesFor(connection);
    const values = names.flatMap((n) => this.secrets.get(`${connection.name}\0${n}`) ?? []);
    return (text) => redactSecrets(text, values);
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

/** Vendor account ids and credentials that may appear in vendor text (Twilio `AC…`/`SK…`, auth headers). */
const CREDENTIAL_SHAPES = [/\b(?:AC|SK|MG|PN)[0-9a-f]{32}\b/gi, /\b(?:Bearer|Basic)\s+[\w.~+/=-]+/gi];

/** `text` with every secret value and credential-shaped token replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  for (const shape of CREDENTIAL_SHAPES) out = out.replace(shape, "[redacted]");
  return out;
}

/** Every string inside an option value (secret options may be objects, like `gateway_authentication`). */
function secretStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(secretStrings);
  return [];
}

/** What the operator log keeps of a provider failure: the vendor's text (redacted), code and HTTP status. */
function vendorDetail(err: unknown, redact: (text: string) => string): Record<string, unknown> {
  if (!isProviderError(err)) return { err: { name: (err as Error)?.name } };
  return {
    vendorCode: err.vendorCode,
    vendorStatus: err.httpStatus,
    vendorMessage: redact(String(err.message)),
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
  };
}

/**
 * Maps whatever a provider threw to the wire error the caller sees. The caller never gets vendor text
 * (it can carry account ids or echo credentials): a refused number is `bad.phone_number` with the
 * vendor's numeric code (Auth0 clients key on Twilio's `(Code: 21211)`), anything else
 * `sms_provider_error` with a generic description, unless the provider wrote a fixed caller-safe
 * description itself (the legacy gateway's documented Auth0 wording). The detail goes to the log.
 */
export function toDeliveryError(
  err: unknown,
  providerName: string,
  logger: Logger,
  redact: (text: string) => string = (text) => redactSecrets(text, []),
): TextlockError {
  if (isTextlockError(err)) return err;
  if (isProviderError(err)) {
    logger.warn(
      { provider: providerName, kind: err.kind, ...vendorDetail(err, redact) },
      "provider refused the message",
    );
    if (err.kind === "limited") return new TextlockError("ERR_PROVIDER_LIMITED", { cause: err });
    if (err.kind === "bad_phone") {
      const code = /^\d{1,6}$/.test(String(err.vendorCode ?? "")) ? ` (Code: ${err.vendorCode})` : "";
      return new TextlockError("ERR_PROVIDER_BAD_PHONE", {
        description: `${errorSpec("ERR_PROVIDER_BAD_PHONE").description}${code}`,
        cause: err,
      });
    }
    return new TextlockError("ERR_PROVIDER_FAILED", {
      ...(err.callerDescription ? { description: err.callerDescription } : {}),
      cause: err,
    });
  }
  logger.error({ provider: providerName, err: { name: (err as Error)?.name } }, "provider failed unexpectedly");
  return new TextlockError("ERR_PROVIDER_FAILED", { cause: err });
}
