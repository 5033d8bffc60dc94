import type { ClientConfig, ConnectionConfig } from "../config/schema.js";
import type { RequestFacts } from "../engine/types.js";
import type { User } from "../users/user-store.js";

/** Common facts every trigger receives (turned into Auth0's `event` shape by the hook runtime). */
export interface HookContext {
  client: ClientConfig;
  connection: ConnectionConfig;
  request: RequestFacts;
  /** Requested scope, space-separated. */
  scope?: string;
  audience?: string;
}

export interface PreUserRegistrationResult {
  /** Set when a script called `api.access.deny(reason, userMessage)`. */
  denied?: { reason: string; userMessage?: string };
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
}

export interface PostLoginResult {
  denied?: { reason: string };
  idTokenClaims: Record<string, unknown>;
  accessTokenClaims: Record<string, unknown>;
  /** Metadata changes to apply to the user (null value deletes a key). */
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
}

/** What pre-send decided: `denied` when the handler called `api.access.deny(reason)`. */
export interface PreSendResult {
  denied?: { reason: string };
}

/**
 * Runs the Actions-style login triggers. The engine calls it at fixed points of the verify flow;
 * `NO_HOOKS` is the runner used when no hook is configured.
 */
export interface HookRunner {
  preUserRegistration(ctx: HookContext & { phone_number: string }): Promise<PreUserRegistrationResult>;
  postUserRegistration(ctx: HookContext & { user: User }): Promise<void>;
  postLogin(ctx: HookContext & { user: User }): Promise<PostLoginResult>;
  /**
   * The pre-send risk trigger; `{}` when none is configured. A failed run (throw, timeout, killed
   * script) rejects with the runner's error: the caller decides between failing closed and open.
   */
  preSend(ctx: HookContext & { phone: string; channel: "sms" | "voice" | "whatsapp" }): Promise<PreSendResult>;
  close(): Promise<void>;
}

/** The runner for an instance without hooks: nothing denies, nothing is added. */
export const NO_HOOKS: HookRunner = {
  preUserRegistration: async () => ({}),
  postUserRegistration: async () => {},
  postLogin: async () => ({ idTokenClaims: {}, accessTokenClaims: {} }),
  preSend: async () => ({}),
  close: async () => {},
};
