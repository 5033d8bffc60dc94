/**
 * The `event` and `api` every hook receives, per trigger, in the shapes of Auth0 Actions.
 *
 * Script files (run in the sandbox) and in-process functions (`hooks.functions`) receive the same
 * objects. Plain JavaScript scripts get the same checking with `// @ts-check` and a JSDoc type:
 *
 * ```js
 * // @ts-check
 * /** @type {import("textlock/hooks").PostLoginHandler} *\/
 * exports.onExecutePostLogin = async (event, api) => { ... };
 * ```
 *
 * Values passed to `api` methods must survive JSON (they are copied out of the sandbox that way);
 * `undefined` becomes `null`.
 *
 * @module
 */

/** Free-form metadata of a user (Auth0's `user_metadata` / `app_metadata`). */
export type HookMetadata = Record<string, unknown>;

/** `event.secrets`: the configured `hooks.secrets`, the same for every trigger. */
export type HookSecrets = Readonly<Record<string, string>>;

/** `event.client`: the application the login is for. */
export interface HookClient {
  /** The client's `client_id`. */
  readonly client_id: string;
  /** The client's display name. */
  readonly name: string;
  /** Client metadata. Always empty in textlock (clients carry no metadata). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** `event.connection`: the passwordless connection the login goes through. */
export interface HookConnection {
  /** `con_<name>` (textlock has no separate connection ids). */
  readonly id: string;
  /** The connection's `name` from the configuration, e.g. `"sms"`. */
  readonly name: string;
  /** Always `"sms"` (voice delivery is an option of the sms connection, as in Auth0). */
  readonly strategy: "sms";
  /** Connection metadata. Always empty in textlock. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * `event.request.geoip`, Auth0's field names. textlock does not resolve locations, so the object is
 * empty; the fields are typed so that ported Auth0 scripts compile and see `undefined`.
 */
export interface HookGeoip {
  readonly cityName?: string;
  readonly continentCode?: string;
  readonly countryCode?: string;
  readonly countryCode3?: string;
  readonly countryName?: string;
  readonly latitude?: number;
  readonly longitude?: number;
  readonly subdivisionCode?: string;
  readonly subdivisionName?: string;
  readonly timeZone?: string;
}

/** `event.request`: facts about the HTTP request that triggered the hook. */
export interface HookRequest {
  /** Client IP address; `""` when unknown. */
  readonly ip: string;
  /** HTTP method, e.g. `"POST"`. */
  readonly method: string;
  /** The `Host` the request was sent to; `""` when unknown. */
  readonly hostname: string;
  /** `X-Request-Language`, else `Accept-Language`, as sent; `""` when neither was. */
  readonly language: string;
  /** The `User-Agent` header; `""` when absent. */
  readonly user_agent: string;
  /** Always empty: see {@link HookGeoip}. */
  readonly geoip: HookGeoip;
}

/** `event.tenant`. */
export interface HookTenant {
  /** Always `"textlock"`. */
  readonly id: string;
}

/** `event.transaction` of the login triggers. */
export interface HookTransaction {
  /** Always `"oauth2-password"`: the passwordless OTP grant at `/oauth/token`. */
  readonly protocol: "oauth2-password";
  /** The `scope` of the token request, split on spaces (e.g. `["openid", "profile"]`). */
  readonly requested_scopes: readonly string[];
}

/** One identity of a user (Auth0 shape). */
export interface HookUserIdentity {
  /** Always `"sms"`. */
  readonly provider: "sms";
  /** The connection name. */
  readonly connection: string;
  /** The 24-hex id, without the `sms|` prefix. */
  readonly user_id: string;
  /** Always `false`. */
  readonly isSocial: false;
}

/** `event.user` of post-login and post-user-registration: the stored profile. */
export interface HookUser {
  /** `sms|<24 hex>`. */
  readonly user_id: string;
  /** E.164 phone number, e.g. `"+14155550100"`. */
  readonly phone_number: string;
  /** `true` once a code sent to the number was entered (always, for a user who could log in). */
  readonly phone_verified: boolean;
  /** Display name; the phone number unless changed through the Management API. */
  readonly name: string;
  /** Nickname; the phone number unless changed through the Management API. */
  readonly nickname: string;
  /** Avatar URL, when one was set. */
  readonly picture?: string;
  /** ISO 8601 creation time. */
  readonly created_at: string;
  /** ISO 8601 time of the last change. */
  readonly updated_at: string;
  /** ISO 8601 time of the last login; in post-login, the current one. */
  readonly last_login?: string;
  /** Number of logins, the current one included in post-login. */
  readonly logins_count: number;
  /** The user's identities (one, for an SMS user). */
  readonly identities: readonly HookUserIdentity[];
  /** Data the user may edit. Changes go through `api.user.setUserMetadata`, not by assignment. */
  readonly user_metadata: HookMetadata;
  /** Data the application controls. Changes go through `api.user.setAppMetadata`, not by assignment. */
  readonly app_metadata: HookMetadata;
}

/** `event.user` of pre-user-registration: the user about to be created. */
export interface HookNewUser {
  /** E.164 phone number that was just verified. */
  readonly phone_number: string;
  /** Always empty: metadata is set through `api.user`. */
  readonly user_metadata: HookMetadata;
  /** Always empty: metadata is set through `api.user`. */
  readonly app_metadata: HookMetadata;
}

/** Methods to change the user's metadata; a key set to `null` is deleted. */
export interface HookUserApi {
  /**
   * Sets one key of `user_metadata`, merged into the stored user after the hook.
   * @param name key, at most 255 characters
   * @param value any JSON value; `null` deletes the key
   */
  setUserMetadata(name: string, value: unknown): void;
  /**
   * Sets one key of `app_metadata`, merged into the stored user after the hook.
   * @param name key, at most 255 characters
   * @param value any JSON value; `null` deletes the key
   */
  setAppMetadata(name: string, value: unknown): void;
}

/** `api.idToken` / `api.accessToken` of post-login. */
export interface HookTokenApi {
  /**
   * Adds a claim to the token. Use a namespaced name (`https://example.com/plan`). Restricted claims
   * (`iss`, `sub`, `aud`, `exp`, `iat`, `nonce`, …) are dropped, not overwritten; the token is still issued.
   * @param name claim name, at most 255 characters
   * @param value any JSON value
   */
  setCustomClaim(name: string, value: unknown): void;
}

// ---- pre-user-registration -------------------------------------------------------------------

/** `event` of pre-user-registration: a first login is about to create a user. */
export interface PreUserRegistrationEvent {
  /** The user about to be created. */
  readonly user: HookNewUser;
  readonly connection: HookConnection;
  readonly client: HookClient;
  readonly request: HookRequest;
  readonly transaction: HookTransaction;
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of pre-user-registration. */
export interface PreUserRegistrationApi {
  readonly access: {
    /**
     * Refuses the sign-up: no user is created and the token request answers `403 access_denied`
     * with `userMessage` (or `reason` when there is none) as `error_description`.
     * @param reason for the log and, without `userMessage`, for the caller
     * @param userMessage shown to the person
     */
    deny(reason: string, userMessage?: string): void;
  };
  readonly validation: {
    /**
     * Refuses the sign-up like `access.deny`, Auth0's form for invalid sign-up data.
     * @param code a short code, e.g. `"invalid_phone"`
     * @param message the `error_description` the caller gets
     */
    error(code: string, message: string): void;
  };
  /** Metadata of the new user, stored when it is created (unlike Auth0, where only app metadata can be). */
  readonly user: HookUserApi;
}

/** `exports.onExecutePreUserRegistration` / `hooks.functions["pre-user-registration"]`. */
export type PreUserRegistrationHandler = (
  event: PreUserRegistrationEvent,
  api: PreUserRegistrationApi,
) => Promise<void> | void;

// ---- post-user-registration ------------------------------------------------------------------

/** `event` of post-user-registration: a user was just created. */
export interface PostUserRegistrationEvent {
  /** The created user. */
  readonly user: HookUser;
  readonly connection: HookConnection;
  readonly client: HookClient;
  readonly request: HookRequest;
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of post-user-registration: empty (the trigger only observes; it cannot stop the login). */
export type PostUserRegistrationApi = Readonly<Record<string, never>>;

/**
 * `exports.onExecutePostUserRegistration` / `hooks.functions["post-user-registration"]`. A failure is
 * logged and ignored, as in Auth0.
 */
export type PostUserRegistrationHandler = (
  event: PostUserRegistrationEvent,
  api: PostUserRegistrationApi,
) => Promise<void> | void;

// ---- post-login ------------------------------------------------------------------------------

/** `event` of post-login: a code was verified and tokens are about to be issued. */
export interface PostLoginEvent {
  /** The user logging in, this login already counted. */
  readonly user: HookUser;
  readonly connection: HookConnection;
  readonly client: HookClient;
  readonly request: HookRequest;
  readonly stats: {
    /** Number of logins, this one included. */
    readonly logins_count: number;
  };
  readonly transaction: HookTransaction;
  readonly authentication: {
    /** How the user authenticated: one `sms` method at the time of the login. */
    readonly methods: ReadonlyArray<{ readonly name: "sms"; readonly timestamp: string }>;
  };
  /** The API the access token is for, when the request named an `audience`. */
  readonly resource_server?: {
    /** The `audience` of the request. */
    readonly identifier: string;
  };
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of post-login. */
export interface PostLoginApi {
  readonly access: {
    /**
     * Refuses the login: no tokens are issued and the request answers `403 access_denied` with
     * `reason` as `error_description`.
     */
    deny(reason: string): void;
  };
  /** Claims of the ID token. */
  readonly idToken: HookTokenApi;
  /** Claims of the access token. */
  readonly accessToken: HookTokenApi;
  /** Metadata changes, saved before the tokens are issued. */
  readonly user: HookUserApi;
}

/** `exports.onExecutePostLogin` / `hooks.functions["post-login"]`. */
export type PostLoginHandler = (event: PostLoginEvent, api: PostLoginApi) => Promise<void> | void;

// ---- custom-phone-provider -------------------------------------------------------------------

/** `event.notification` of custom-phone-provider: the message to deliver. */
export interface HookNotification {
  /** The rendered message, for a text channel. */
  readonly as_text: string;
  /** The rendered message, for a voice call. */
  readonly as_voice: string;
  /** The one-time code (also inside the rendered message). Never log it. */
  readonly code: string;
  /** `"voice"` when the connection delivers by call, else `"text"`. */
  readonly delivery_method: "text" | "voice";
  /** The connection's configured sender; `""` when none. */
  readonly from: string;
  /** The request language as a locale, e.g. `"fr_CA"`; `"en"` when none was sent. */
  readonly locale: string;
  /** Always `"otp_verify"`. */
  readonly message_type: "otp_verify";
  /** E.164 number to deliver to. */
  readonly recipient: string;
}

/** `event` of custom-phone-provider (used by connections with `provider: "action"`). */
export interface CustomPhoneProviderEvent {
  readonly notification: HookNotification;
  readonly client: HookClient;
  readonly connection: HookConnection;
  /** The `/passwordless/start` request: `ip`, `user_agent` and `language` are set. */
  readonly request: HookRequest;
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of custom-phone-provider. Returning without calling either method means delivered. */
export interface CustomPhoneProviderApi {
  readonly notification: {
    /** A lasting failure (e.g. the API refused the number): no retry, `/passwordless/start` fails. */
    drop(reason: string): void;
    /** A transient failure: retried with backoff, then the next provider, then `/passwordless/start` fails. */
    retry(reason: string): void;
  };
}

/** `exports.onExecuteCustomPhoneProvider` / `hooks.functions["custom-phone-provider"]`. Throwing is a transient failure. */
export type CustomPhoneProviderHandler = (
  event: CustomPhoneProviderEvent,
  api: CustomPhoneProviderApi,
) => Promise<void> | void;

// ---- send-phone-message ----------------------------------------------------------------------

/** `event.message_options` of send-phone-message (Auth0's MFA shape, for ported scripts). */
export interface HookMessageOptions {
  /** Always `"second-factor-authentication"` (Auth0's value; textlock sends login codes). */
  readonly action: "second-factor-authentication";
  /** The one-time code (also inside `text`). Never log it. */
  readonly code: string;
  /** Channel of the connection. */
  readonly message_type: "sms" | "voice";
  /** E.164 number to deliver to. */
  readonly recipient: string;
  /** The rendered message. */
  readonly text: string;
}

/** `event` of send-phone-message, used by `provider: "action"` when no custom-phone-provider hook is set. */
export interface SendPhoneMessageEvent {
  readonly message_options: HookMessageOptions;
  readonly client: HookClient;
  readonly connection: HookConnection;
  /** The `/passwordless/start` request: `ip`, `user_agent` and `language` are set. */
  readonly request: HookRequest;
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of send-phone-message: empty. To fail a delivery, throw (a transient failure). */
export type SendPhoneMessageApi = Readonly<Record<string, never>>;

/** `exports.onExecuteSendPhoneMessage` / `hooks.functions["send-phone-message"]`. */
export type SendPhoneMessageHandler = (event: SendPhoneMessageEvent, api: SendPhoneMessageApi) => Promise<void> | void;

// ---- pre-send -------------------------------------------------------------------------------

/** `event.phone` of pre-send: the number a code is about to be sent to, as libphonenumber-js reads it. */
export interface HookPhone {
  /** E.164, e.g. `"+447700900123"`. */
  readonly number: string;
  /** ISO 3166-1 alpha-2 country of the number, e.g. `"GB"`; `null` when it cannot be told. */
  readonly country: string | null;
  /**
   * Line type from libphonenumber-js metadata (`"MOBILE"`, `"FIXED_LINE_OR_MOBILE"`, `"VOIP"`,
   * `"PREMIUM_RATE"`…); `null` when the number is not valid for its country or the type is unknown.
   * Metadata only: a vendor lookup (Twilio Lookup, Vonage) knows ported numbers, this does not.
   */
  readonly line_type: string | null;
}

/**
 * `event` of pre-send: a textlock trigger (Auth0 has none) that runs on `/passwordless/start` after the
 * client, connection and phone policy are checked and before any code is generated, stored or sent.
 */
export interface PreSendEvent {
  readonly phone: HookPhone;
  /** `"sms"`, `"voice"` or `"whatsapp"`: how the code would be delivered. */
  readonly channel: "sms" | "voice" | "whatsapp";
  readonly connection: HookConnection;
  readonly client: HookClient;
  readonly request: HookRequest;
  readonly tenant: HookTenant;
  readonly secrets: HookSecrets;
}

/** `api` of pre-send. */
export interface PreSendApi {
  readonly access: {
    /**
     * Refuses the send: no code is generated or stored, nothing is sent, and `/passwordless/start`
     * answers `403 access_denied` with a generic description. The caller never sees `reason`: it goes
     * to the log and is counted as a `risk` refusal.
     * @param reason for the operator log
     */
    deny(reason: string): void;
  };
}

/**
 * `exports.onExecutePreSend` / `hooks.functions["pre-send"]`. A throw, a timeout or a script killed by
 * the sandbox refuses the send (fail closed) unless `hooks.failOpen["pre-send"]` is set.
 */
export type PreSendHandler = (event: PreSendEvent, api: PreSendApi) => Promise<void> | void;

// ---- all triggers ----------------------------------------------------------------------------

/** Handler type per trigger name. */
export interface HookHandlers {
  "pre-user-registration": PreUserRegistrationHandler;
  "post-user-registration": PostUserRegistrationHandler;
  "post-login": PostLoginHandler;
  "custom-phone-provider": CustomPhoneProviderHandler;
  "send-phone-message": SendPhoneMessageHandler;
  "pre-send": PreSendHandler;
}

/** A trigger name, as used in `hooks.scripts` and `hooks.functions`. */
export type HookTrigger = keyof HookHandlers;

/**
 * `hooks.functions`: trusted in-process handlers, by trigger. They run in the textlock process
 * without a sandbox; a trigger has a function or a script, not both.
 */
export type HookFunctions = { readonly [T in HookTrigger]?: HookHandlers[T] };
