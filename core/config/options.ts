import type { LogCategory } from "../audit/log-entry.js";
import type { HookFunctions } from "../hooks/types.js";
import type { ProviderDescriptor } from "../providers/provider-descriptor.js";
import type { SmsProvider } from "../providers/sms-provider.js";

/**
 * The configuration a user writes, by hand, for editors: every option documented with its default.
 * `core/config/schema.ts` validates it and applies the defaults; a type test (test/types) keeps the
 * two in step, key for key. Field names follow Auth0 where Auth0 has the concept.
 */
export interface TextlockOptions {
  /**
   * Issuer and public base URL, ending with a slash (`https://auth.example.com/`). Required when
   * `NODE_ENV=production`.
   * @default the server's own URL in development (`http://127.0.0.1:3000/`), never the Host header
   */
  issuer?: string;
  /**
   * Server secret that keys code hashes (32+ characters). Required when `NODE_ENV=production`.
   * @default generated once into `<dataDir>/secret`
   */
  secret?: string;
  /**
   * Folder for the generated secret, signing keys, the SQLite files and the console outbox.
   * @default ".textlock"
   */
  dataDir?: string;
  /**
   * Applications (Auth0 clients).
   * @default one public client `textlock-dev`
   */
  clients?: ClientOptions[];
  /**
   * Passwordless SMS connections.
   * @default one connection `sms` on the console provider, enabled for `textlock-dev`
   */
  connections?: ConnectionOptions[];
  /**
   * APIs (Auth0 resource servers) clients may get access tokens for with the `client_credentials` grant.
   * @default []
   */
  resource_servers?: ResourceServerOptions[];
  /**
   * Machine-to-machine access (Auth0 client grants): which confidential client may use
   * `client_credentials` for which API — a resource server above or the Management API
   * (`<issuer>api/v2/`) — and with which scopes.
   * @default []
   */
  client_grants?: ClientGrantOptions[];
  /** One-time code rules. */
  otp?: {
    /** Wrong attempts before a code dies (1–10). @default 3 */
    maxAttempts?: number;
    /** Consecutive failures per phone across codes; stops resend-to-reset loops, reset by a login. */
    failureCeiling?: {
      /** @default 10 */
      max?: number;
      /** @default 3600 */
      windowSeconds?: number;
    };
  };
  /**
   * Where pending codes, counters, authorization codes and login tickets live.
   * @default { type: "memory" }
   */
  store?:
    | { type: "memory" }
    | {
        type: "redis";
        /** `redis://` or `rediss://` URL of a single Redis. Either this or `cluster`. */
        url?: string;
        /**
         * Some nodes of a Redis Cluster (`redis://` URLs; the client discovers the rest). Keys are
         * hash-tagged so each request's script touches one slot. Either this or `url`.
         */
        cluster?: string[];
        /** Key prefix (and the hash tag of the counters shared between phones); no `{` or `}`. @default "textlock" */
        namespace?: string;
        /** A command not answered in this time fails closed with 503. @default 1000 */
        commandTimeoutMs?: number;
      };
  /**
   * Where users and refresh tokens live.
   * @default { type: "sqlite" }
   */
  users?:
    | { type: "memory" }
    | {
        type: "sqlite";
        /**
         * The SQLite file of the users, their refresh tokens and login sessions.
         * @default `<dataDir>/users.db`
         */
        file?: string;
      }
    | {
        type: "postgres";
        /** `postgres://` URL. */
        url: string;
      };
  /**
   * Provider plugins (programmatic config only): descriptors made with `defineProvider()`, or (older
   * form) provider instances made with `defineSmsProvider()`, by name.
   * @default []
   */
  providers?: ProviderDescriptor<any>[] | Record<string, SmsProvider>;
  /** Token signing and lifetimes. */
  tokens?: {
    /** Algorithm of new signing keys; Auth0 SDKs expect RS256. @default "RS256" */
    algorithm?: "RS256" | "ES256" | "EdDSA";
    /**
     * Where tokens are signed: `thread-pool` (WebCrypto on libuv's threads, in parallel with the event
     * loop), `event-loop` (node:crypto, synchronously: no hand-off between threads), `auto`: the event loop
     * when the process may use one CPU only (`os.availableParallelism()`), else the thread pool. @default "auto"
     */
    signing?: "auto" | "event-loop" | "thread-pool";
    /** @default 86400 */
    accessTokenLifetimeSeconds?: number;
    /** Refresh token absolute lifetime, from the login that started the token family (rotation does not extend it). @default 2592000 */
    refreshTokenLifetimeSeconds?: number;
    /** Refresh token idle lifetime, renewed by each rotation (never past the absolute one). Unset: no idle limit. */
    refreshTokenIdleSeconds?: number;
    /** Seconds between purges of expired refresh-token records and ended login sessions in each process; `0`: never. @default 3600 */
    purgeIntervalSeconds?: number;
    /** Signing keys kept in the JWKS after rotations. @default 3 */
    keepKeys?: number;
    /**
     * Signing keys supplied by the operator (e.g. from a secret manager, through environment substitution in a config file): the first signs,
     * the others are published in the JWKS. When set, no key is generated or stored, and
     * `keys rotate`/`retire` are refused. @default []
     */
    keys?: Array<{
      /** Key id; default: the key's JWK thumbprint (or the JWK's `kid`). */
      kid?: string;
      /** Algorithm the key signs with. */
      alg: "RS256" | "ES256" | "EdDSA";
      /** The private key: a PKCS#8 PEM string or a private JWK object. */
      privateKey: string | Record<string, unknown>;
    }>;
    /**
     * How often each process reads the shared signing keys again, so a rotation or retirement made
     * elsewhere is picked up without a restart (also on a token with an unknown `kid`, at most every 5 s). @default 30
     */
    keyReloadSeconds?: number;
  };
  /** Abuse and SMS-pumping protection. */
  protection?: {
    /** Send limits on `/passwordless/start` (the phone policy always applies). @default true */
    enabled?: boolean;
    /** Starts per client IP. @default { points: 50, seconds: 3600 } */
    perIp?: { points?: number; seconds?: number };
    /** Codes per phone number. @default { points: 5, seconds: 3600 } */
    perPhone?: { points?: number; seconds?: number };
    /** Minimum seconds between two codes to one phone (0 = off). @default 30 */
    resendCooldownSeconds?: number;
    /** Codes per number prefix (the number without its last 4 digits). @default { points: 10, seconds: 3600 } */
    perPrefix?: { points?: number; seconds?: number };
    /** Messages per day across all numbers. @default 10000 */
    dailySmsBudget?: number;
    /** Country policy by ISO 3166 code. */
    countries?: {
      /** Countries allowed (empty = all). @default [] */
      allow?: string[];
      /** Countries refused. @default [] */
      deny?: string[];
    };
    /**
     * Line types refused (libphonenumber-js metadata).
     * @default ["PREMIUM_RATE", "SHARED_COST", "TOLL_FREE", "VOIP", "PAGER", "UAN", "VOICEMAIL"]
     */
    refuseLineTypes?: Array<
      | "PREMIUM_RATE"
      | "SHARED_COST"
      | "TOLL_FREE"
      | "VOIP"
      | "PAGER"
      | "UAN"
      | "VOICEMAIL"
      | "PERSONAL_NUMBER"
      | "FIXED_LINE"
    >;
    /**
     * SMS-pumping detection: per number prefix (the number without its last 4 digits) and per country,
     * the ratio of codes verified to codes sent over a sliding window. Below `minVerifiedRatio` (once
     * `minSends` codes were sent) the prefix or country is quarantined: new starts get 429 with
     * `Retry-After` and nothing is sent (`monitor`: only reported). Every change is a
     * `pumping.detected` / `pumping.cleared` event and a warning in the log.
     */
    pumping?: {
      /** @default "enforce" */
      mode?: "enforce" | "monitor" | "off";
      /** Sliding window in seconds. @default 3600 */
      windowSeconds?: number;
      /** Verified / sent below which a prefix or country is flagged. @default 0.2 */
      minVerifiedRatio?: number;
      /** Sends in the window before the ratio is judged. @default { prefix: 20, country: 200 } */
      minSends?: { prefix?: number; country?: number };
      /** Least quarantine; it ends once the window no longer shows pumping. @default 3600 */
      quarantineSeconds?: number;
    };
    /**
     * Money budgets per UTC day. Each message is priced by its country and reserved atomically (shared
     * through Redis) before it is sent; a send that never left is refunded. At the limit, starts get
     * 429 and nothing is sent.
     */
    budgets?: {
      /** ISO 4217 label of prices and budgets. @default "USD" */
      currency?: string;
      /**
       * Price per message by ISO country code; unlisted countries use the example table (USD only), then
       * `defaultPrice`. @default {}
       */
      prices?: Record<string, number>;
      /** Price for a country in neither table; required when `currency` is not USD and a budget is set. */
      defaultPrice?: number;
      /** Spend per day across all messages. */
      daily?: number;
      /** Spend per day per country (`*`: each country not listed). @default {} */
      perCountryDaily?: Record<string, number>;
      /** Spend per day per `client_id` (`*`: each client not listed). @default {} */
      perClientDaily?: Record<string, number>;
      /** Fractions of a budget that fire `budget.threshold` (once each per day). @default [0.5, 0.8] */
      alertAt?: number[];
    };
    /** Bot checks (Cloudflare Turnstile, hCaptcha, reCAPTCHA v2/v3) on `/passwordless/start`. */
    captcha?: CaptchaOptions;
  };
  /** Actions-style hooks. */
  hooks?: {
    /** Script file per trigger, run in an isolated-vm sandbox. */
    scripts?: {
      "pre-user-registration"?: string;
      "post-user-registration"?: string;
      "post-login"?: string;
      "custom-phone-provider"?: string;
      "send-phone-message"?: string;
      "pre-send"?: string;
    };
    /**
     * Trusted in-process handler per trigger, `(event, api) => {}` (programmatic configuration only;
     * types from `textlock/hooks`). A trigger has a function or a script, not both.
     */
    functions?: HookFunctions;
    /** `event.secrets` of every script. @default {} */
    secrets?: Record<string, string>;
    /** Wall-clock limit of one run, awaited work included. @default 5000 */
    timeoutMs?: number;
    /** Heap limit of a script's isolate, MB. @default 32 */
    memoryLimitMb?: number;
    /** `host:port` values a script's `fetch` may reach. @default [] */
    allowedHosts?: string[];
    /** Per trigger: send anyway when the pre-send hook fails (logged) instead of refusing. @default { "pre-send": false } */
    failOpen?: { "pre-send"?: boolean };
  };
  /** Vendor risk lookups before a code is generated or sent; a refusal is `403 access_denied`. */
  risk?: {
    /** Send anyway when a lookup fails or times out (logged) instead of refusing. @default false */
    failOpen?: boolean;
    /** Twilio Lookup v2 (line type intelligence, SIM swap) through the `twilio` SDK. */
    twilioLookup?: {
      accountSid: string;
      authToken: string;
      /** Another base URL (a test double). */
      baseUrl?: string;
      /**
       * Line types refused; empty = line type not looked up.
       * @default ["landline", "fixedVoip", "nonFixedVoip", "tollFree", "premium", "sharedCost", "uan", "pager"]
       */
      refuseLineTypes?: Array<
        | "landline"
        | "mobile"
        | "fixedVoip"
        | "nonFixedVoip"
        | "personal"
        | "tollFree"
        | "premium"
        | "sharedCost"
        | "uan"
        | "voicemail"
        | "pager"
        | "unknown"
      >;
      /** Refuse a number whose SIM changed within this many hours; unset = SIM swap not looked up. */
      simSwapMaxAgeHours?: number;
      /** Time one lookup may take, ms. @default 3000 */
      timeoutMs?: number;
      /** How long an answer is reused for the same number, s (0 = never). @default 3600 */
      cacheTtlSeconds?: number;
    };
    /** Vonage Number Insight v2 (fraud score, SIM swap) over plain HTTP. */
    vonage?: {
      apiKey: string;
      apiSecret: string;
      /** Number Insight v2 host. @default "https://api.nexmo.com" */
      baseUrl?: string;
      /** Refuse a number whose SIM changed in the last 7 days. @default true */
      refuseSimSwap?: boolean;
      /** Fraud score recommendations refused; empty = not looked up. @default ["block"] */
      refuseRecommendations?: Array<"block" | "flag">;
      /** Time one lookup may take, ms. @default 3000 */
      timeoutMs?: number;
      /** How long an answer is reused for the same number, s (0 = never). @default 3600 */
      cacheTtlSeconds?: number;
    };
  };
  /** Delivery policy: timeouts, retries, failover and circuit breaker. */
  delivery?: {
    /** Time one send attempt may take, ms. @default 5000 */
    attemptTimeoutMs?: number;
    /** Retries per provider after a transient failure. @default 2 */
    retries?: number;
    /** First retry delay, doubled each retry (a vendor's Retry-After wins), ms. @default 200 */
    backoffMs?: number;
    /** Time all attempts and failovers of one message may take, ms. @default 10000 */
    deadlineMs?: number;
    /** Circuit breaker per provider. */
    breaker?: {
      /** Consecutive transient failures that open the circuit. @default 5 */
      failures?: number;
      /** How long an open circuit skips the provider, ms. @default 30000 */
      coolDownMs?: number;
    };
    /** Delivery receipts: vendor status callbacks (docs/guides/delivery-receipts.md). */
    receipts?: {
      /**
       * Ask providers that read receipts for status callbacks and serve
       * `POST /delivery-receipts/<provider>/<connection>`. @default false
       */
      enabled?: boolean;
      /** The URL vendors reach textlock at, as they sign it (ends with `/`). @default issuer */
      publicUrl?: string;
      /** Signed callbacks older than this (JWT `iat`) are refused as replays, s. @default 300 */
      maxAgeSeconds?: number;
    };
    /** How often each process looks for due escalations, ms. @default 1000 */
    escalationSweepMs?: number;
  };
  /** Template engine limits. */
  messages?: {
    /** Liquid render time limit per message, ms. @default 50 */
    renderLimitMs?: number;
    /** Liquid memory limit. @default 1000000 */
    memoryLimit?: number;
  };
  /** HTTP server settings. */
  server?: {
    /** Listen address of the standalone server. @default "127.0.0.1" */
    host?: string;
    /** Listen port (0 = any free port). @default 3000 */
    port?: number;
    /** Serve HTTPS with this certificate (PEM files). */
    https?: { cert: string; key: string };
    /** Take the client IP from X-Forwarded-For: `true`, a hop count, or trusted proxy addresses. @default false */
    trustProxy?: boolean | number | string[];
    /** Largest accepted request body, bytes. @default 16384 */
    bodyLimitBytes?: number;
    /**
     * How long the standalone server keeps an idle keep-alive connection, seconds (1–3600). Behind a load
     * balancer, above its idle timeout (AWS ALB: 60 s by default; Google Cloud: 600 s). @default 72
     */
    keepAliveTimeoutSeconds?: number;
  };
  /** Hosted login page and browser flow. */
  login?: {
    /** Country preselected on the hosted page; the answer of `/user/geoloc/country`. @default "US" */
    defaultCountry?: string;
    /** Countdown before the hosted page offers a resend, seconds. @default 30 */
    resendAfterSeconds?: number;
    /** How long one hosted-page login may take, seconds. @default 900 */
    transactionSeconds?: number;
    /** Lifetime of an authorization code or a login ticket, seconds. @default 60 */
    grantSeconds?: number;
    /** Absolute lifetime of a login session (SSO cookie), seconds since the login. @default 604800 */
    sessionSeconds?: number;
    /** A login session unused for this long ends, seconds (each use restarts it, up to `sessionSeconds`). @default 259200 */
    sessionIdleSeconds?: number;
    /** Tenant-wide Allowed Logout URLs, used by `/v2/logout` and `/oidc/logout` when no client is named. @default [] */
    allowedLogoutUrls?: string[];
  };
  /** Prometheus metrics (docs/guides/metrics.md). */
  metrics?: {
    /**
     * Serves the metrics at `path` to a scraper sending `Authorization: Bearer <token>` (16+
     * characters, compared in constant time). Without it the route does not exist.
     */
    bearerToken?: string;
    /** Path of the metrics route. @default "/metrics" */
    path?: string;
  };
  /** Durable audit log (Auth0 log event types) and log streams: docs/guides/audit-log.md. */
  audit?: {
    /** Record the audit log. @default true */
    enabled?: boolean;
    /**
     * SQLite file of the audit log and stream outbox when users are in SQLite (with users in
     * PostgreSQL the log is in that database; with users in memory, in memory).
     * @default "<dataDir>/audit.db"
     */
    file?: string;
    /** Records older than this many days are purged (hourly). @default 30 */
    retentionDays?: number;
    /** Also write each committed record to stdout as one JSON line `{log_id, data}`. @default false */
    stdout?: boolean;
    /** Log streams (Auth0 custom webhooks), delivered at least once, in order per stream. @default [] */
    streams?: LogStreamOptions[];
  };
  /** Logging. */
  logging?: {
    /** @default "info" */
    level?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  };
}

/** An application (Auth0 client). */
/** An API clients may get access tokens for (Auth0 resource server). */
export interface ResourceServerOptions {
  /** The API's audience, e.g. `https://api.example.com/`; must not end with `/api/v2/`. */
  identifier: string;
  /** Display name. @default the identifier */
  name?: string;
  /** Scopes a client grant may give for this API. @default [] */
  scopes?: Array<{ value: string; description?: string }>;
  /** Lifetime of its access tokens, seconds (60–2592000). @default 86400 */
  token_lifetime?: number;
}

/** Which client may use `client_credentials` for which API, with which scopes (Auth0 client grant). */
export interface ClientGrantOptions {
  /** A confidential client with `client_credentials` in its `grant_types`. */
  client_id: string;
  /**
   * A resource server's `identifier`, or the Management API `<issuer>api/v2/` (without a configured
   * `issuer`, any `https://<host>/api/v2/` names this server's Management API).
   */
  audience: string;
  /** The scopes the client may ask for (Management API: `read:users`, `update:users`, `delete:users`, `read:logs`, …). @default [] */
  scope?: string[];
}

export interface ClientOptions {
  /** The application's id (letters, digits, `_ . -`). */
  client_id: string;
  /** Secret of a confidential client (16+ characters). Omit for public clients (SPA, native). */
  client_secret?: string;
  /** Display name; `application.name` in templates. @default client_id */
  name?: string;
  /** Auth0 application type. @default "native" */
  app_type?: "spa" | "native" | "regular_web" | "non_interactive";
  /** How the client authenticates. @default "client_secret_post" with a secret, else "none" */
  token_endpoint_auth_method?: "none" | "client_secret_post" | "client_secret_basic";
  /**
   * Grants the client may use.
   * @default ["http://auth0.com/oauth/grant-type/passwordless/otp", "refresh_token", "authorization_code", "implicit"]
   */
  grant_types?: string[];
  /** Allowed redirect URIs. @default [] */
  callbacks?: string[];
  /** Where logout may redirect (`returnTo`, `post_logout_redirect_uri`); the first is the default. @default [] */
  allowed_logout_urls?: string[];
  /** Origins allowed to call the API from a browser (CORS). @default [] */
  allowed_origins?: string[];
  /** Origins allowed for cross-origin authentication and web_message. @default [] */
  web_origins?: string[];
  /** Allow `/co/authenticate` (embedded auth0-js / Lock). @default false */
  cross_origin_authentication?: boolean;
  /** Cross-origin verification fallback page. */
  cross_origin_loc?: string;
  /** Trust `auth0-forwarded-for` from this confidential client as the end user's IP. @default false */
  is_token_endpoint_ip_header_trusted?: boolean;
  /** ID token settings. */
  jwt_configuration?: {
    /** ID token lifetime, seconds. @default 36000 */
    lifetime_in_seconds?: number;
  };
  /** Hosted login page branding (colours as `#rgb`/`#rrggbb`). */
  branding?: { logo_url?: string; primary_color?: string; page_background?: string; text_color?: string };
  /** Bot check on `/passwordless/start` for this client. @default protection.captcha.policy */
  captcha?: CaptchaPolicy;
  /** One-tap code autofill in text messages sent for this client. */
  sms_autofill?: {
    /**
     * Append the origin-bound line `@<host> #<code>` (WebOTP and iOS/Android one-time-code autofill).
     * @default true
     */
    origin_bound?: boolean;
    /** Host of the page the code is typed into. @default the issuer's (hosted login page's) host */
    host?: string;
    /** Android SMS Retriever app hash (11 characters) of this native client, on its own last line. */
    android_app_hash?: string;
  };
}

/** A passwordless SMS connection. */
export interface ConnectionOptions {
  /** Connection name; the `realm` of a code exchange. */
  name: string;
  /** Only `sms`. @default "sms" */
  strategy?: "sms";
  /** Client ids that may use this connection. @default [] */
  enabled_clients?: string[];
  /** Auth0 SMS connection options, and the options of its provider. */
  options?: SmsConnectionOptions;
}

/** Options of the built-in providers, by their Auth0 names. */
export interface ProviderOptions {
  /** Twilio Account SID (provider `twilio`). */
  twilio_sid?: string;
  /** Twilio Auth Token (provider `twilio`). */
  twilio_token?: string;
  /** Twilio Messaging Service SID, used instead of `from`. */
  messaging_service_sid?: string;
  /** Twilio API base URL instead of api.twilio.com (test doubles, egress proxies). */
  twilio_api_base_url?: string;
  /** Vonage API key (provider `vonage`). */
  vonage_api_key?: string;
  /** Vonage API secret (provider `vonage`). */
  vonage_api_secret?: string;
  /** Vonage REST host instead of https://rest.nexmo.com. */
  vonage_rest_host?: string;
  /** Legacy SMS gateway endpoint (provider `sms_gateway`). */
  gateway_url?: string;
  /** Bearer JWT (HS256) sent to the legacy gateway. */
  gateway_authentication?: {
    method: "bearer";
    subject?: string;
    audience: string;
    secret: string;
    secret_base64_encoded?: boolean;
  } | null;
  /** Send the caller's IP and User-Agent to the legacy gateway. @default false */
  forward_req_info?: boolean | "true" | "false";
}

/** The `options` of an SMS connection. */
export interface SmsConnectionOptions extends ProviderOptions {
  /** The message text. @default "Your verification code is: @@password@@" */
  template?: string;
  /** `md_with_macros` replaces `@@password@@`-style macros; `liquid` renders Liquid. @default "md_with_macros" */
  syntax?: "md_with_macros" | "liquid";
  /** Text spoken for voice delivery. @default template */
  voice_template?: string;
  /** Per-language templates keyed by language tag (`fr`, `fr-CA`). @default {} */
  templates?: Record<string, { text?: string; voice?: string }>;
  /** Language used when the request names none. @default "en" */
  default_language?: string;
  /** Sender number (E.164) or alphanumeric sender id. */
  from?: string;
  /** Code lifetime and length. */
  totp?: {
    /** Seconds a code stays valid (30–600). @default 180 */
    time_step?: number;
    /** Digits in a code (4–10). @default 6 */
    length?: number;
  };
  /** Only existing users may log in. @default false */
  disable_signup?: boolean;
  /** Per-phone consecutive-failure ceiling. @default true */
  brute_force_protection?: boolean;
  /** Provider id, or an ordered list for failover. @default "console" */
  provider?: string | string[];
  /** The default channel: text message, voice call or WhatsApp. @default "text" */
  delivery?: "text" | "voice" | "whatsapp";
  /**
   * Channels a code may be sent over: `delivery_method` on `/passwordless/start` and the hosted page's
   * "Call me instead" / "Send via WhatsApp" pick one; a switch re-sends the same live code. Must include
   * the `delivery` channel. @default the `delivery` channel only
   */
  channels?: Array<"sms" | "voice" | "whatsapp">;
  /**
   * Re-send the same code over other channels when it is not delivered: after `after_seconds` without a
   * `delivered` receipt, or at once on a `failed`/`undelivered` one, along `channels` (each once).
   * Needs `delivery.receipts.enabled`.
   */
  escalation?: {
    /** Seconds to wait for a `delivered` receipt (5–600). */
    after_seconds: number;
    /** Channels to escalate to, in order (the one a code went over is skipped). @default the connection's `channels` */
    channels?: Array<"sms" | "voice" | "whatsapp">;
  };
  /**
   * Numbers with a fixed code, for app-store review and end-to-end tests: nothing is sent (no provider
   * call, no send limit or SMS budget used), but the code expires, is single use and dies after
   * `otp.maxAttempts` wrong tries. `code` has `totp.length` digits. Refused when `NODE_ENV=production`
   * unless {@link allow_test_numbers_in_production}.
   * @default []
   */
  test_numbers?: Array<{ phone_number: string; code: string }>;
  /** Accept `test_numbers` when `NODE_ENV=production`. @default false */
  allow_test_numbers_in_production?: boolean;
  /** A plugin provider's own options (`acme_api_key`), checked by its schema at startup. */
  [providerOption: string]: unknown;
}

/**
 * When a `/passwordless/start` must carry a solved CAPTCHA (Auth0's `captcha` field): `off` never,
 * `always` on every start, `adaptive` only once recent starts from the same IP, number prefix or
 * country pass the thresholds in {@link CaptchaOptions.adaptive}.
 */
export type CaptchaPolicy = "off" | "always" | "adaptive";

/** Bot checks on `/passwordless/start`, verified server-side against the vendor's verify API. */
export interface CaptchaOptions {
  /** The policy of clients that do not set their own `captcha`. @default "off" */
  policy?: CaptchaPolicy;
  /** CAPTCHA vendor; required when any policy is not `off`. */
  provider?: "turnstile" | "hcaptcha" | "recaptcha_v2" | "recaptcha_v3";
  /** The vendor's public site key, rendered on the hosted page. */
  siteKey?: string;
  /** The vendor's secret key, sent only to the vendor's verify API. */
  secret?: string;
  /** The verify endpoint. @default the vendor's `siteverify` URL */
  verifyUrl?: string;
  /** Timeout of one verify request, in ms. @default 3000 */
  timeoutMs?: number;
  /**
   * When the vendor cannot be reached (timeout, network error, 5xx, unreadable answer): `false`
   * refuses the start (503 `temporarily_unavailable`), `true` lets it through without a check.
   * @default false
   */
  failOpen?: boolean;
  /** reCAPTCHA v3: the lowest score accepted (0.0–1.0, high = human). @default 0.5 */
  minScore?: number;
  /** reCAPTCHA v3: the action the token must carry. @default "passwordless_start" */
  action?: string;
  /** Thresholds of the `adaptive` policy; 0 turns one count off. */
  adaptive?: {
    /** Sliding window of the counts, in seconds. @default 600 */
    windowSeconds?: number;
    /** Starts per IP in the window before a CAPTCHA is asked. @default 5 */
    perIp?: number;
    /** Starts per number prefix (the number without its last 4 digits). @default 10 */
    perPrefix?: number;
    /** Starts per phone country. @default 200 */
    perCountry?: number;
  };
}

/** One log stream: batches of audit events `POST`ed to an HTTP endpoint (Auth0's custom webhook). */
export interface LogStreamOptions {
  /** Its identity in the outbox: letters, digits, `_`, `.`, `-` (renaming starts a new, empty stream). */
  name: string;
  /** Endpoint receiving `POST`s of batches. */
  url: string;
  /** Sent verbatim as the `Authorization` header (no `Bearer ` is added). */
  authorization?: string;
  /** 32+ characters: each body is signed, `X-Textlock-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. */
  secret?: string;
  /** `JSONARRAY` (`[{log_id, data}, …]`), `JSONLINES` (one per line) or `JSONOBJECT` (`{"logs": […]}`). @default "JSONARRAY" */
  format?: "JSONARRAY" | "JSONLINES" | "JSONOBJECT";
  /** Extra headers on every request. @default {} */
  headers?: Record<string, string>;
  /** Auth0 event categories to send (`auth.login.success`, `user.notification`, …); empty: all. @default [] */
  filters?: LogCategory[];
  /** Most events per request (1–100). @default 50 */
  batchSize?: number;
  /** Attempts of a batch before its events become dead letters. @default 10 */
  maxAttempts?: number;
  /** Wait after the first failure, doubled after each further one. @default 1000 */
  initialBackoffMs?: number;
  /** Longest wait between attempts. @default 300000 */
  maxBackoffMs?: number;
  /** Request timeout. @default 10000 */
  timeoutMs?: number;
  /** How long the delivering process holds the stream before another may take over. @default 30 */
  leaseSeconds?: number;
  /** How often an idle process looks for events written by other processes. @default 1000 */
  pollMs?: number;
}
