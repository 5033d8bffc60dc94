import "reflect-metadata";
import { Registry } from "prom-client";
import { AuditLog } from "../audit/audit-log.js";
import { BrowserFlow } from "../browser/browser-flow.js";
import { validateConfigWithProviders } from "../config/load-config.js";
import type { TextlockConfigInput } from "../config/schema.js";
import { resolveSecret } from "../config/secret.js";
import { DeliveryTracker } from "../delivery/delivery-tracker.js";
import {
  AUDIT,
  AUDIT_DELIVERY,
  AUDIT_STORE,
  BOT_CHECK,
  CLOCK,
  CONFIG,
  DELIVERY_STORE,
  ENV,
  EVENTS,
  GRANTS,
  HOOKS,
  LOGGER,
  MESSAGE_RENDERER,
  METRICS,
  METRICS_REGISTRY,
  ONE_TIME_STORE,
  OTP_STORE,
  PROTECTION,
  PROVIDER_DESCRIPTORS,
  PROVIDERS,
  RATE_LIMIT_BACKEND,
  REFRESH_TOKEN_STORE,
  RISK,
  RISK_CHECKERS,
  RISK_PLUGINS,
  SECRET,
  SESSION_STORE,
  SIGNING_KEYS,
  TOKENS,
  USER_STORE,
} from "../di-tokens.js";
import { Engine } from "../engine/engine.js";
import { TextlockEvents } from "../events/events.js";
import { createHookRunner } from "../hooks/create-hook-runner.js";
import type { HookRunner } from "../hooks/hook-runner.js";
import { createLogger } from "../logger.js";
import { MessageRenderer } from "../messages/render-message.js";
import { Metrics } from "../metrics/metrics.js";
import { observeHooks, observeStore } from "../metrics/observe.js";
import { BotCheck } from "../protection/bot-check.js";
import { Protection } from "../protection/protection.js";
import type { ProviderDescriptor } from "../providers/provider-descriptor.js";
import { ProviderRegistry } from "../providers/provider-registry.js";
import { PreSendRisk } from "../risk/pre-send-risk.js";
import { createRiskCheckers } from "../risk/risk-checker.js";
import { createClientCredentialsGrant } from "../tokens/client-credentials.js";
import { SigningKeys } from "../tokens/signing-keys.js";
import type { GrantHandler } from "../tokens/token-endpoint.js";
import { TokenService } from "../tokens/token-service.js";
import {
  type DependencyContainer,
  type InjectionToken,
  instanceCachingFactory,
  container as rootContainer,
} from "./di.js";
import { openStoreSet, type StoreSet } from "./store-set.js";

/** A value a host registers under a token before composition; composition then leaves that part alone. */
export interface Provision<T = unknown> {
  readonly token: InjectionToken<T>;
  readonly value: T;
}

/** `provide(USER_STORE, myStore)`: a typed {@link Provision}. */
export function provide<T>(token: InjectionToken<T>, value: T): Provision<T> {
  return { token, value };
}

/**
 * The composition root: every part of one instance is registered here, once, in the instance's own
 * child container, as a value (what must be opened asynchronously: secret, stores, keys, hooks) or a
 * cached factory (everything else, built on first resolve from its `@inject` parameters). Tokens the
 * host provided are registered first and never replaced.
 */
export async function composeTextlock(
  input: TextlockConfigInput,
  builtinProviders: readonly ProviderDescriptor[],
  provisions: readonly Provision[],
): Promise<DependencyContainer> {
  const c = rootContainer.createChildContainer();
  for (const p of provisions) c.register(p.token, { useValue: p.value });
  const missing = (token: InjectionToken<unknown>) => !c.isRegistered(token);
  const value = <T>(token: InjectionToken<T>, make: () => T) => {
    if (missing(token)) c.register(token, { useValue: make() });
  };
  const lazy = <T>(token: InjectionToken<T>, make: (c: DependencyContainer) => T) => {
    if (missing(token)) c.register(token, { useFactory: instanceCachingFactory(make) });
  };

  value(ENV, () => process.env);
  const { config, providers } = validateConfigWithProviders(input, c.resolve(ENV), builtinProviders);
  value(CONFIG, () => config);
  value(PROVIDER_DESCRIPTORS, () => providers.descriptors);
  value(LOGGER, () => createLogger(config.logging.level));
  value(CLOCK, () => Date.now);
  value(EVENTS, () => new TextlockEvents());
  value(METRICS_REGISTRY, () => new Registry());
  lazy(METRICS, (r) => r.resolve(Metrics));
  c.registerSingleton(Metrics);
  // Resolved now: it counts events from the first one on, and observes the stores and hooks below.
  const metrics = c.resolve(METRICS);
  const logger = c.resolve(LOGGER);
  const messages = new MessageRenderer(config.messages);
  validateTemplates(messages, config);
  value(MESSAGE_RENDERER, () => messages);

  const devDefaults: string[] = [];
  if (missing(SECRET)) {
    const { secret, generated } = await resolveSecret(config.secret, config.dataDir);
    c.register(SECRET, { useValue: secret });
    if (generated) devDefaults.push(`a generated secret in ${config.dataDir}/secret`);
  }
  if (config.connections.some((conn) => [conn.options.provider].flat().includes("console"))) {
    devDefaults.push("the console provider (codes are printed)");
  }
  if (devDefaults.length)
    logger.warn(`textlock is using development defaults: ${devDefaults.join(", ")}. Not for production.`);

  const given: Partial<StoreSet> = {
    ...(c.isRegistered(OTP_STORE) ? { codes: c.resolve(OTP_STORE) } : {}),
    ...(c.isRegistered(USER_STORE) ? { users: c.resolve(USER_STORE) } : {}),
    ...(c.isRegistered(REFRESH_TOKEN_STORE) ? { refreshTokens: c.resolve(REFRESH_TOKEN_STORE) } : {}),
    ...(c.isRegistered(ONE_TIME_STORE) ? { oneTime: c.resolve(ONE_TIME_STORE) } : {}),
    ...(c.isRegistered(DELIVERY_STORE) ? { deliveries: c.resolve(DELIVERY_STORE) } : {}),
    ...(c.isRegistered(SESSION_STORE) ? { sessions: c.resolve(SESSION_STORE) } : {}),
    ...(c.isRegistered(RATE_LIMIT_BACKEND) ? { rateLimitBackend: c.resolve(RATE_LIMIT_BACKEND) } : {}),
    ...(c.isRegistered(AUDIT_STORE) ? { audit: c.resolve(AUDIT_STORE) } : {}),
  };
  const stores = await openStoreSet(config, logger, c.resolve(CLOCK), given);
  /** What this start opened beyond the stores, closed again if a later step fails. */
  const opened: { audit?: AuditLog; hooks?: HookRunner; keys?: SigningKeys } = {};
  try {
    value(OTP_STORE, () => observeStore(stores.codes, "codes", metrics));
    value(USER_STORE, () => observeStore(stores.users, "users", metrics));
    value(REFRESH_TOKEN_STORE, () => observeStore(stores.refreshTokens, "refresh_tokens", metrics));
    value(ONE_TIME_STORE, () => observeStore(stores.oneTime, "one_time", metrics));
    value(DELIVERY_STORE, () => observeStore(stores.deliveries, "deliveries", metrics));
    value(SESSION_STORE, () => observeStore(stores.sessions, "sessions", metrics));
    value(RATE_LIMIT_BACKEND, () => stores.rateLimitBackend);
    value(AUDIT_STORE, () => observeStore(stores.audit, "audit", metrics));
    value(AUDIT_DELIVERY, () => ({ enabled: true }));
    const ownAudit = missing(AUDIT);
    lazy(AUDIT, (r) => r.resolve(AuditLog));
    c.registerSingleton(AuditLog);
    // Resolved now: it records events from the first one on.
    const audit = c.resolve(AUDIT);
    if (ownAudit) opened.audit = audit as AuditLog;
    if (missing(HOOKS)) {
      opened.hooks = await createHookRunner(config, logger);
      c.register(HOOKS, { useValue: observeHooks(opened.hooks, metrics) });
    }
    if (missing(SIGNING_KEYS)) {
      const { algorithm, keepKeys, keys: configured, keyReloadSeconds } = config.tokens;
      const reload = {
        reloadMs: keyReloadSeconds * 1000,
        unknownKidReloadMs: Math.min(5_000, keyReloadSeconds * 1000),
      };
      opened.keys = configured.length
        ? await SigningKeys.fromConfig(configured)
        : stores.signingKeys
          ? await SigningKeys.fromBackend(stores.signingKeys, algorithm, keepKeys, c.resolve(SECRET), reload)
          : await SigningKeys.open(config.dataDir, algorithm, keepKeys, c.resolve(SECRET), reload);
      c.register(SIGNING_KEYS, { useValue: opened.keys });
    }

    value(RISK_CHECKERS, () =>
      createRiskCheckers(config.risk, c.isRegistered(RISK_PLUGINS) ? c.resolve(RISK_PLUGINS) : {}, c.resolve(CLOCK)),
    );
    lazy(PROVIDERS, (r) => r.resolve(ProviderRegistry));
    lazy(PROTECTION, (r) => r.resolve(Protection));
    lazy(BOT_CHECK, (r) => r.resolve(BotCheck));
    lazy(TOKENS, (r) => r.resolve(TokenService));
    lazy(RISK, (r) => r.resolve(PreSendRisk));
    lazy(GRANTS, () => new Map());
    c.registerSingleton(DeliveryTracker);
    c.registerSingleton(Engine);
    c.registerSingleton(ProviderRegistry);
    c.registerSingleton(Protection);
    c.registerSingleton(BotCheck);
    c.registerSingleton(TokenService);
    c.registerSingleton(PreSendRisk);
    c.registerSingleton(BrowserFlow);
    // The browser flow's grant goes through the same token endpoint as the others.
    c.resolve(GRANTS).set("authorization_code", (params, request) =>
      c.resolve(BrowserFlow).exchangeCode(params, request),
    );
    let clientCredentials: GrantHandler | undefined;
    c.resolve(GRANTS).set("client_credentials", (params, request) => {
      clientCredentials ??= createClientCredentialsGrant(config, c.resolve(TOKENS), c.resolve(EVENTS));
      return clientCredentials(params, request);
    });
  } catch (err) {
    // A start that failed leaves nothing open: a Redis client, SQLite's checkpoint worker or a
    // PostgreSQL pool would keep the host's process alive, and a retry would open them again.
    await closeFailedStart(stores, given, opened);
    throw err;
  }
  return c;
}

/**
 * Closes what a failed {@link composeTextlock} opened, in the order `Textlock.close()` does: the audit
 * log first (it writes what is queued), then the stores, the hooks' sandboxes and the key reloads. Stores
 * the host provided stay open: they are the host's to close or to use again.
 */
async function closeFailedStart(
  stores: StoreSet,
  given: Partial<StoreSet>,
  opened: { audit?: AuditLog; hooks?: HookRunner; keys?: SigningKeys },
): Promise<void> {
  if (opened.audit) await opened.audit.close({ keepStore: given.audit !== undefined }).catch(() => {});
  else if (!given.audit) await stores.audit.close().catch(() => {});
  const ours = (["codes", "users", "refreshTokens", "sessions", "deliveries"] as const).filter((k) => !given[k]);
  await Promise.allSettled([...ours.map((k) => stores[k].close?.()), opened.hooks?.close(), opened.keys?.close()]);
}

/** Refuses, at startup, any template that does not parse or whose sample rendering never shows the code. */
function validateTemplates(
  messages: MessageRenderer,
  config: ReturnType<typeof validateConfigWithProviders>["config"],
): void {
  for (const connection of config.connections) {
    const { template, voice_template, templates, syntax } = connection.options;
    for (const source of [template, voice_template, ...Object.values(templates).flatMap((t) => [t.text, t.voice])]) {
      if (source) messages.validate(source, syntax);
    }
  }
}
