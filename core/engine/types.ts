import type { ClientConfig, ConnectionConfig } from "../config/schema.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import type { User } from "../users/user-store.js";

/** Facts about the HTTP request (or in-process caller) behind an engine call. */
export interface RequestFacts {
  /** End-user IP (after trust-proxy / auth0-forwarded-for resolution). */
  ip?: string;
  userAgent?: string;
  /** Raw `x-request-language` header. */
  xRequestLanguage?: string;
  /** Raw `accept-language` header. */
  acceptLanguage?: string;
  /** Public host, for the issuer when `config.issuer` is absent. */
  host?: string;
  method?: string;
}

/** Input of `POST /passwordless/start`, Auth0 field names. */
export interface StartInput {
  client_id?: string;
  client_secret?: string;
  connection?: string;
  phone_number?: string;
  send?: string;
  /**
   * The channel: Auth0's `text` or `voice`, or `whatsapp`; the connection's `delivery` when absent. It
   * must be in the connection's `channels`. A channel the live code was not sent over sends the same
   * code again (no new code, attempts shared).
   */
  delivery_method?: string;
  authParams?: unknown;
  /** Token of a solved CAPTCHA (Auth0 Bot Detection's field), checked when the client's policy asks for one. */
  captcha?: unknown;
  /** Anything else the caller sent at the top level; unknown keys are refused (`bad.request`). */
  [key: string]: unknown;
}

/** Input of `Engine.startForClient()`: a code request whose client is already established. */
export type ClientStartInput = Pick<StartInput, "connection" | "phone_number" | "captcha" | "delivery_method">;

/** Input of `Engine.resendLiveCode()`. */
export interface ResendInput {
  /** Connection name. */
  connection: string;
  phone_number: string;
  channel: DeliveryChannel;
}

/**
 * What `Engine.resendLiveCode()` did: `sent` (with the provider and the vendor's message id),
 * `already_sent` (the live code already went over this channel), `no_live_code`, or `suppressed`
 * (a blocked user, or an unknown number with sign-ups disabled: nothing is sent to them).
 */
export type ResendResult =
  | { status: "sent"; channel: DeliveryChannel; provider: string; message_id: string }
  | { status: "already_sent" | "no_live_code" | "suppressed"; channel: DeliveryChannel };

/** Auth0's 200 body of `/passwordless/start`. */
export interface StartResult {
  _id: string;
  phone_number: string;
  phone_verified: boolean;
  request_language: string | null;
}

/** Input of a code verification (the passwordless OTP grant). */
export interface VerifyInput {
  client_id?: string;
  /** Already-extracted credential (post or basic); absent for public clients. */
  client_secret?: string;
  /** Realm = connection name. */
  realm?: string;
  /** The phone number. */
  username?: string;
  otp?: string;
  /** Requested scope (passed through to hooks and tokens). */
  scope?: string;
  audience?: string;
}

/** Input of `Engine.verifyForClient()`: a code verification whose client is already established. */
export type ClientVerifyInput = Pick<VerifyInput, "realm" | "username" | "otp" | "scope" | "audience">;

/** What a successful verification yields; tokens are issued from it. */
export interface VerifyResult {
  user: User;
  /** True when this login created the user. */
  created: boolean;
  client: ClientConfig;
  connection: ConnectionConfig;
  /** Custom claims set by post-login hooks, to be added to the issued tokens. */
  claims: { idToken: Record<string, unknown>; accessToken: Record<string, unknown> };
  /** Scope and audience as requested, for the token issuer. */
  scope?: string;
  audience?: string;
}
