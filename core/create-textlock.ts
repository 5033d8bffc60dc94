import "reflect-metadata";
import { join } from "node:path";
import { container as rootContainer, type DependencyContainer } from "tsyringe";
import { BrowserFlow } from "./browser/browser-flow.js";
import { MemoryOneTimeStore, type OneTimeStore, RedisOneTimeStore } from "./browser/one-time-store.js";
import { validateConfig } from "./config/load-config.js";
import type { TextlockConfig, TextlockConfigInput } from "./config/schema.js";
import { resolveSecret } from "./config/secret.js";
import { Engine } from "./engine/engine.js";
import type { RequestFacts, StartInput, StartResult, VerifyInput, VerifyResult } from "./engine/types.js";
import { TextlockEvents } from "./events/events.js";
import { createHookRunner } from "./hooks/create-hook-runner.js";
import { createLogger, type Logger } from "./logger.js";
import { MessageRenderer } from "./messages/render-message.js";
import type { OtpStore } from "./otp/otp-store.js";
import { Protection } from "./protection/protection.js";
import { ProviderRegistry } from "./providers/provider-registry.js";
import { createOtpStore, createUserStore } from "./stores.js";
import { MemoryRefreshTokenStore, type RefreshTokenStore, SqliteRefreshTokenStore } from "./tokens/refresh-token-store.js";
import { SigningKeys } from "./tokens/signing-keys.js";
import { createTokenEndpoint, type GrantHandler } from "./tokens/token-endpoint.js";
import { type TokenResponse, TokenService } from "./tokens/token-service.js";
import {
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  HOOKS,
  LOGGER,
  MESSAGE_RENDERER,
  OTP_STORE,
  PROTECTION,
  PROVIDERS,
  SECRET,
  TOKENS,
  USER_STORE,
} from "./di-tokens.js";
import type { UserStore } from "./users/user-store.js";

/** Parts a host may supply instead of the ones built from config (tests, custom stores). */
export interface TextlockOverrides {
  logger?: Logger;
  otpStore?: OtpStore;
  userStore?: UserStore;
  clock?: Clock;
  refreshTokenStore?: RefreshTokenStore;
  /** Environment used for production-safety checks (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** The in-process API: everything HTTP does, callable without HTTP. */
export interface TextlockApi {
  /** `POST /passwordless/start`. */
  start(input: StartInput, request?: RequestFacts): Promise<StartResult>;
  /** Verifies a code (the passwordless OTP grant) and returns the logged-in user. */
  verify(input: VerifyInput, request?: RequestFacts): Promise<VerifyResult>;
  /**
   * `POST /oauth/token`: dispatches on `grant_type` (passwordless OTP, refresh_token, and grants
   * registered with {@link Textlock.registerGrant}). Client credentials go in `client_id`/`client_secret`.
   */
  token(params: Record<string, unknown>, request: RequestFacts & { issuer: string }): Promise<TokenResponse>;
}

export interface Textlock {
  readonly config: TextlockConfig;
  readonly api: TextlockApi;
  /** Typed events (`code.sent`, `user.created`, …); payloads never hold codes or secrets. */
  readonly events: TextlockEvents;
  readonly logger: Logger;
  /** The instance's child container (for adapters and plugins that extend textlock). */
  readonly container: DependencyContainer;
  /** Signing keys, JWKS, userinfo and token issuing. */
  readonly tokens: TokenService;
  /** The browser flow: `/authorize`, the hosted page, `/co/authenticate`, the authorization_code grant. */
  readonly browser: BrowserFlow;
  /** Refusal counters of the abuse protection (`metrics()`, `prometheus()`). */
  readonly protection: Protection;
  /** Adds a grant type to `api.token` (used by the browser flow for `authorization_code`). */
  registerGrant(grantType: string, handler: GrantHandler): void;
  /** Stops timers and closes stores and providers. */
  close(): Promise<void>;
}

/**
 * Creates a textlock instance. Validates the whole configuration first and throws one
 * `TextlockConfigError` listing every problem. Each instance has its own child container, so several
 * instances (tests, multi-tenant hosts) never share state.
 */
export async function createTextlock(input: TextlockConfigInput = {}, overrides: TextlockOverrides = {}): Promise<Textlock> {
  const config = validateConfig(input, overrides.env ?? process.env);
  const logger = overrides.logger ?? createLogger(config.logging.level);
  const messages = new MessageRenderer(config.messages);
  for (const connection of config.connections) {
    messages.validate(connection.options.template, connection.options.syntax);
    if (connection.options.voice_template) messages.validate(connection.options.voice_template, connection.options.syntax);
    for (const t of Object.values(connection.options.templates)) {
      for (const source of [t.text, t.voice]) if (source) messages.validate(source, connection.options.syntax);
    }
  }
  const { secret, generated } = await resolveSecret(config.secret, config.dataDir);
  const otpStore = overrides.otpStore ?? (await createOtpStore(config, logger));
  const userStore = overrides.userStore ?? (await createUserStore(config, logger));
  const hooks = await createHookRunner(config, logger);
  const providers = new ProviderRegistry(config, logger, hooks);
  const events = new TextlockEvents();

  const container = rootContainer.createChildContainer();
  container.register(CONFIG, { useValue: config });
  container.register(SECRET, { useValue: secret });
  container.register(LOGGER, { useValue: logger });
  container.register(EVENTS, { useValue: events });
  container.register(OTP_STORE, { useValue: otpStore });
  container.register(USER_STORE, { useValue: userStore });
  container.register(MESSAGE_RENDERER, { useValue: messages });
  container.register(PROVIDERS, { useValue: providers });
  container.register(HOOKS, { useValue: hooks });
  container.register(CLOCK, { useValue: overrides.clock ?? Date.now });
  // Counters, authorization codes and login tickets live where the codes live: in Redis when the code
  // store is Redis, else in memory.
  const rawClient = (otpStore as { rawClient?: unknown }).rawClient;
  const protection = new Protection(config, logger, rawClient);
  container.register(PROTECTION, { useValue: protection });
  container.registerSingleton(Engine);
  const engine = container.resolve(Engine);
  const keys = await SigningKeys.open(config.dataDir, config.tokens.algorithm, config.tokens.keepKeys);
  const refreshTokens =
    overrides.refreshTokenStore ??
    (config.users.type === "sqlite" ? new SqliteRefreshTokenStore(join(config.dataDir, "refresh-tokens.db")) : new MemoryRefreshTokenStore());
  const tokens = new TokenService(config, keys, refreshTokens, userStore, overrides.clock ?? Date.now);
  container.register(TOKENS, { useValue: tokens });
  const grants = new Map<string, GrantHandler>();
  const token = createTokenEndpoint(config, engine, tokens, grants);
  const oneTime: OneTimeStore =
    rawClient && config.store.type === "redis"
      ? new RedisOneTimeStore(rawClient as ConstructorParameters<typeof RedisOneTimeStore>[0], config.store.namespace)
      : new MemoryOneTimeStore(overrides.clock ?? Date.now);
  const browser = new BrowserFlow(config, secret, engine, tokens, userStore, oneTime, overrides.clock ?? Date.now);
  grants.set("authorization_code", (params, request) => browser.exchangeCode(params, request));

  const devDefaults = [
    generated ? `a generated secret in ${config.dataDir}/secret` : "",
    config.connections.some((c) => [c.options.provider].flat().includes("console")) ? "the console provider (codes are printed)" : "",
  ].filter(Boolean);
  if (devDefaults.length) logger.warn(`textlock is using development defaults: ${devDefaults.join(", ")}. Not for production.`);

  let closed = false;
  return {
    config,
    api: {
      start: (i, r) => engine.start(i, r),
      verify: (i, r) => engine.verify(i, r),
      token,
    },
    tokens,
    browser,
    protection,
    registerGrant(grantType, handler) {
      grants.set(grantType, handler);
    },
    events,
    logger,
    container,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([otpStore.close(), userStore.close(), hooks.close(), providers.close(), refreshTokens.close()]);
      await container.dispose();
    },
  };
}
