import type { InjectionToken } from "tsyringe";
import type { TextlockConfig } from "./config/schema.js";
import type { TextlockEvents } from "./events/events.js";
import type { HookRunner } from "./hooks/hook-runner.js";
import type { Logger } from "./logger.js";
import type { MessageRenderer } from "./messages/render-message.js";
import type { OtpStore } from "./otp/otp-store.js";
import type { Protection } from "./protection/protection.js";
import type { ProviderRegistry } from "./providers/provider-registry.js";
import type { TokenService } from "./tokens/token-service.js";
import type { UserStore } from "./users/user-store.js";

/** Dependency-injection tokens. Every constructor parameter is `@inject(TOKEN)`; no emitted metadata is relied on. */
export const CONFIG: InjectionToken<TextlockConfig> = Symbol.for("textlock.config");
/** The server secret that keys code hashes (Buffer). */
export const SECRET: InjectionToken<Buffer> = Symbol.for("textlock.secret");
export const LOGGER: InjectionToken<Logger> = Symbol.for("textlock.logger");
export const EVENTS: InjectionToken<TextlockEvents> = Symbol.for("textlock.events");
export const OTP_STORE: InjectionToken<OtpStore> = Symbol.for("textlock.otp-store");
export const USER_STORE: InjectionToken<UserStore> = Symbol.for("textlock.user-store");
export const MESSAGE_RENDERER: InjectionToken<MessageRenderer> = Symbol.for("textlock.message-renderer");
export const PROVIDERS: InjectionToken<ProviderRegistry> = Symbol.for("textlock.providers");
export const HOOKS: InjectionToken<HookRunner> = Symbol.for("textlock.hooks");
export const PROTECTION: InjectionToken<Protection> = Symbol.for("textlock.protection");
/** Signing keys, JWKS, token issuing and `/userinfo`. */
export const TOKENS: InjectionToken<TokenService> = Symbol.for("textlock.tokens");
/** `() => number` epoch ms; tests swap it to move time. */
export const CLOCK: InjectionToken<Clock> = Symbol.for("textlock.clock");

export type Clock = () => number;
