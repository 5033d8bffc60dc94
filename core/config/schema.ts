import { z } from "zod";
import { auditSchema } from "../audit/audit-schema.js";
import { isManagementAudience, MANAGEMENT_SCOPES } from "../management/scopes.js";
import type { ProviderDescriptor } from "../providers/provider-descriptor.js";
import { isSmsProvider, type SmsProvider } from "../providers/sms-provider.js";

/** Shape only; the full check (semver range, option names) happens at registration with a clear error. */
const isDescriptorLike = (v: unknown) =>
  typeof v === "object" && v !== null && typeof (v as ProviderDescriptor).create === "function";

/**
 * The one configuration schema: defaults, bounds and the documentation of every option live here.
 * docs/reference/configuration.md is generated from it (`npm run docs:config`; a test checks it is fresh).
 * Field names follow Auth0's Management API where Auth0 has the concept (clients, connections, options).
 */

export const OTP_GRANT = "http://auth0.com/oauth/grant-type/passwordless/otp";
export const DEV_CLIENT_ID = "textlock-dev";
/** The embedded defaults when a configuration names no clients or connections. */
export const DEFAULT_CLIENTS = [{ client_id: DEV_CLIENT_ID, name: "textlock dev app" }];
export const DEFAULT_CONNECTIONS = [{ name: "sms", enabled_clients: [DEV_CLIENT_ID] }];

const url = z.string().url();

/** When a start must carry a solved CAPTCHA: never, always, or once recent starts look like an attack. */
const captchaPolicySchema = z.enum(["off", "always", "adaptive"]);

/** Bot checks on `/passwordless/start` (core/protection/bot-check.ts). */
const captchaSchema = z
  .strictObject({
    policy: captchaPolicySchema
      .default("off")
      .describe(
        "`off`, `always`, or `adaptive` (only once recent starts from the same IP, number prefix or country pass a threshold). A client's own `captcha` overrides it.",
      ),
    provider: z
      .enum(["turnstile", "hcaptcha", "recaptcha_v2", "recaptcha_v3"])
      .optional()
      .describe("CAPTCHA vendor. Required when any policy is not `off`."),
    siteKey: z.string().min(1).optional().describe("The vendor's public site key (rendered on the hosted page)."),
    secret: z.string().min(1).optional().describe("The vendor's secret key (server-side verification)."),
    verifyUrl: url
      .optional()
      .describe("Verify endpoint; defaults to the vendor's `siteverify` URL (set it to test against a fake)."),
    timeoutMs: z.number().int().min(100).max(30_000).default(3_000).describe("Timeout of one verify request."),
    failOpen: z
      .boolean()
      .default(false)
      .describe(
        "Let starts through when the vendor cannot be reached (timeout, 5xx, garbage). Off: an outage refuses starts (fail closed).",
      ),
    minScore: z.number().min(0).max(1).default(0.5).describe("reCAPTCHA v3: lowest score accepted (1.0 = human)."),
    action: z
      .string()
      .min(1)
      .default("passwordless_start")
      .describe("reCAPTCHA v3: the action the token must have been issued for."),
    adaptive: z
      .strictObject({
        windowSeconds: z.number().int().min(10).max(86_400).default(600).describe("Sliding window of the counts."),
        perIp: z.number().int().min(0).default(5).describe("Starts per IP in the window before a CAPTCHA is asked."),
        perPrefix: z
          .number()
          .int()
          .min(0)
          .default(10)
          .describe("Starts per number prefix (the number without its last 4 digits) before a CAPTCHA is asked."),
        perCountry: z
          .number()
          .int()
          .min(0)
          .default(200)
          .describe("Starts per phone country before a CAPTCHA is asked."),
      })
      .prefault({})
      .describe("Thresholds of the `adaptive` policy (0 = that count never asks)."),
  })
  .prefault({})
  .describe("Bot checks (Cloudflare Turnstile, hCaptcha, reCAPTCHA v2/v3) on `/passwordless/start`.");

export const clientSchema = z
  .strictObject({
    client_id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\w.-]+$/, "letters, digits, _ . - only")
      .describe("The application's id."),
    client_secret: z
      .string()
      .min(16, "must be at least 16 characters")
      .optional()
      .describe("Secret of a confidential client. Omit for public clients (SPA, native)."),
    name: z
      .string()
      .min(1)
      .optional()
      .describe("Display name; `application.name` in templates. Defaults to `client_id`."),
    app_type: z
      .enum(["spa", "native", "regular_web", "non_interactive"])
      .default("native")
      .describe("Auth0 application type."),
    token_endpoint_auth_method: z
      .enum(["none", "client_secret_post", "client_secret_basic"])
      .optional()
      .describe("How the client authenticates. Defaults to `client_secret_post` when a secret is set, else `none`."),
    grant_types: z
      .array(z.string())
      .default([OTP_GRANT, "refresh_token", "authorization_code", "implicit"])
      .describe(
        "Grants the client may use; must include the passwordless OTP grant to log in. `/authorize` needs `authorization_code` (response_type `code`) or `implicit` (`token`, `id_token`). `client_credentials` (machine-to-machine, confidential clients, with `client_grants`) is never a default.",
      ),
    callbacks: z.array(url).default([]).describe("Allowed redirect URIs."),
    allowed_logout_urls: z
      .array(url)
      .max(100)
      .default([])
      .describe(
        "URLs `/v2/logout` (`returnTo`) and `/oidc/logout` (`post_logout_redirect_uri`) may send the browser to after logout; the first is the default.",
      ),
    allowed_origins: z.array(url).default([]).describe("Origins allowed to call the API from a browser (CORS)."),
    web_origins: z.array(url).default([]).describe("Origins allowed for cross-origin authentication and web_message."),
    cross_origin_authentication: z
      .boolean()
      .default(false)
      .describe("Allow `/co/authenticate` (embedded auth0-js / Lock)."),
    cross_origin_loc: url.optional().describe("Cross-origin verification fallback page."),
    is_token_endpoint_ip_header_trusted: z
      .boolean()
      .default(false)
      .describe("Trust `auth0-forwarded-for` from this (confidential) client as the end user's IP."),
    jwt_configuration: z
      .strictObject({
        lifetime_in_seconds: z.number().int().min(60).max(2_592_000).default(36_000).describe("ID token lifetime."),
      })
      .prefault({})
      .describe("ID token settings."),
    branding: z
      .strictObject({
        logo_url: url.optional(),
        primary_color: z
          .string()
          .regex(/^#[0-9a-fA-F]{3,8}$/)
          .optional(),
        page_background: z
          .string()
          .regex(/^#[0-9a-fA-F]{3,8}$/)
          .optional(),
        text_color: z
          .string()
          .regex(/^#[0-9a-fA-F]{3,8}$/)
          .optional(),
      })
      .optional()
      .describe("Hosted login page branding for this client."),
    captcha: captchaPolicySchema
      .optional()
      .describe("Bot check on `/passwordless/start` for this client; defaults to `protection.captcha.policy`."),
    sms_autofill: z
      .strictObject({
        origin_bound: z
          .boolean()
          .default(true)
          .describe(
            "Append the origin-bound line `@<host> #<code>` (WebOTP, iOS/Android one-time-code autofill) to text messages.",
          ),
        host: z
          .string()
          .regex(
            /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
            "a host name such as login.example.com",
          )
          .optional()
          .describe(
            "Host of the page the code is typed into; defaults to the issuer's (the hosted login page's) host.",
          ),
        android_app_hash: z
          .string()
          .regex(/^[A-Za-z0-9+/]{11}$/, "the 11-character app hash of the Android SMS Retriever API")
          .optional()
          .describe("Android SMS Retriever app hash of this native client, added on its own last line."),
      })
      .prefault({})
      .describe("One-tap code autofill in text messages sent for this client."),
  })
  .transform((c) => ({
    ...c,
    name: c.name ?? c.client_id,
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? (c.client_secret ? "client_secret_post" : "none"),
  }));

/** An API that clients may get access tokens for (Auth0 resource server). */
export const resourceServerSchema = z.strictObject({
  identifier: z
    .string()
    .min(1)
    .max(600)
    .describe("The API's audience (Auth0 `identifier`), e.g. `https://api.example.com/`."),
  name: z.string().min(1).optional().describe("Display name. Defaults to the identifier."),
  scopes: z
    .array(
      z.strictObject({
        value: z
          .string()
          .min(1)
          .max(280)
          .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
          .describe("The scope, e.g. `read:orders`."),
        description: z.string().optional().describe("What the scope allows."),
      }),
    )
    .default([])
    .describe("Scopes a client grant may give for this API."),
  token_lifetime: z
    .number()
    .int()
    .min(60)
    .max(2_592_000)
    .default(86_400)
    .describe("Lifetime of its access tokens (client_credentials)."),
});

/** Which client may get tokens for which API, with which scopes (Auth0 client grant). */
export const clientGrantSchema = z.strictObject({
  client_id: z.string().min(1).describe("A confidential client with `client_credentials` in its `grant_types`."),
  audience: z
    .string()
    .min(1)
    .describe(
      "A `resource_servers[].identifier`, or the Management API `<issuer>api/v2/` (without a configured `issuer`, any `https://<host>/api/v2/` names this server's Management API).",
    ),
  scope: z.array(z.string().min(1)).default([]).describe("The scopes the client may ask for."),
});

export const connectionOptionsSchema = z
  .object({
    template: z
      .string()
      .min(1)
      .max(10_000)
      .default("Your verification code is: @@password@@")
      .describe("The message text."),
    syntax: z
      .enum(["md_with_macros", "liquid"])
      .default("md_with_macros")
      .describe("`md_with_macros` replaces `@@password@@`-style macros; `liquid` renders a Liquid template."),
    voice_template: z
      .string()
      .min(1)
      .max(10_000)
      .optional()
      .describe("Text spoken for voice delivery; defaults to `template`."),
    templates: z
      .record(
        z.string(),
        z.strictObject({
          text: z.string().min(1).max(10_000).optional(),
          voice: z.string().min(1).max(10_000).optional(),
        }),
      )
      .default({})
      .describe(
        "Per-language templates keyed by language tag (`fr`, `fr-CA`); the best match of the request language wins.",
      ),
    default_language: z.string().default("en").describe("Language used when the request names none."),
    from: z
      .string()
      .optional()
      .describe("Sender number (E.164) or alphanumeric sender id, given to every provider of the connection."),
    totp: z
      .strictObject({
        time_step: z.number().int().min(30).max(600).default(180).describe("Seconds a code stays valid."),
        length: z.number().int().min(4).max(10).default(6).describe("Digits in a code."),
      })
      .prefault({})
      .describe("Code lifetime and length."),
    disable_signup: z
      .boolean()
      .default(false)
      .describe("Only existing users may log in; unknown numbers get the same answers but no SMS."),
    brute_force_protection: z
      .boolean()
      .default(true)
      .describe("Per-phone consecutive-failure ceiling (see `otp.failureCeiling`)."),
    provider: z
      .union([z.string(), z.array(z.string()).min(1)])
      .default("console")
      .describe(
        "Provider name, or an ordered list for failover (`twilio`, `vonage`, `sms_gateway`, `console`, a plugin name).",
      ),
    delivery: z
      .enum(["text", "voice", "whatsapp"])
      .default("text")
      .describe("The default channel: text message, voice call or WhatsApp."),
    channels: z
      .array(z.enum(["sms", "voice", "whatsapp"]))
      .min(1)
      .optional()
      .describe(
        'Channels a code may be sent over (`delivery_method` on `/passwordless/start`, the hosted page\'s "Call me instead"); defaults to the `delivery` channel only. Must include it.',
      ),
    escalation: z
      .strictObject({
        after_seconds: z
          .number()
          .int()
          .min(5)
          .max(600)
          .describe(
            "Seconds to wait for a `delivered` receipt before the code is re-sent over the next channel (a `failed` or `undelivered` receipt escalates at once).",
          ),
        channels: z
          .array(z.enum(["sms", "voice", "whatsapp"]))
          .min(1)
          .max(3)
          .optional()
          .describe(
            "Channels to escalate to, in order, each at most once (the one a code was sent over is skipped); defaults to the connection's `channels`.",
          ),
      })
      .optional()
      .describe(
        "Escalation when a code is not delivered (needs `delivery.receipts.enabled`): docs/guides/delivery-receipts.md.",
      ),
    test_numbers: z
      .array(
        z.strictObject({
          phone_number: z
            .string()
            .regex(/^\+[0-9]{1,15}$/, "an E.164 number such as +15555550100")
            .describe("The test number."),
          code: z
            .string()
            .regex(/^[0-9]+$/, "digits only")
            .describe("Its fixed code (as many digits as `totp.length`)."),
        }),
      )
      .default([])
      .describe(
        "Numbers with a fixed code, for app-store review and end-to-end tests: nothing is sent (no provider call, no send limit or SMS budget used); the code still expires, is single use and dies after `otp.maxAttempts` wrong tries. Refused when NODE_ENV=production unless `allow_test_numbers_in_production` is set.",
      ),
    allow_test_numbers_in_production: z
      .boolean()
      .default(false)
      .describe(
        "Accept `test_numbers` when NODE_ENV=production (an app-store reviewer logs in to the production app).",
      ),
  })
  // Provider options (`twilio_sid`, `gateway_url`, a plugin's own) sit beside these, as in Auth0; each
  // registered provider validates its own (see core/providers/provider-options.ts). A key that neither
  // textlock nor any registered provider declares is refused once the providers are known (load-config.ts).
  .passthrough();

export const connectionSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w.-]+$/, "letters, digits, _ . - only")
    .describe("Connection name; the `realm`."),
  strategy: z.literal("sms").default("sms").describe("Only `sms` is supported."),
  enabled_clients: z.array(z.string()).default([]).describe("Client ids that may use this connection."),
  options: connectionOptionsSchema.prefault({}).describe("Auth0 SMS connection options."),
});

const storeSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("memory") }),
    z
      .strictObject({
        type: z.literal("redis"),
        url: z
          .string()
          .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
          .optional()
          .describe("A single Redis (or a primary behind a proxy). Either this or `cluster`."),
        cluster: z
          .array(z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"))
          .min(1)
          .optional()
          .describe(
            "Some nodes of a Redis Cluster (the client discovers the rest; list several). Keys are hash-tagged so each request's script touches one slot. Either this or `url`.",
          ),
        namespace: z
          .string()
          .regex(/^[^{}]*$/, "must not contain { or }")
          .default("textlock")
          .describe("Key prefix (and the hash tag of the counters shared between phones)."),
        commandTimeoutMs: z.number().int().min(50).max(30_000).default(1_000),
      })
      .refine((s) => (s.url === undefined) !== (s.cluster === undefined), {
        message: "set either `url` (one Redis) or `cluster` (Redis Cluster nodes), not both",
      }),
  ])
  .default({ type: "memory" })
  .describe("Where pending codes and counters live: `memory` (one process) or `redis` (shared).");

const usersSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("memory") }),
    z.strictObject({
      type: z.literal("sqlite"),
      file: z
        .string()
        .optional()
        .describe(
          "The SQLite file of the users, their refresh tokens and login sessions. Defaults to `<dataDir>/users.db`. In a config file, relative to the file.",
        ),
    }),
    z.strictObject({
      type: z.literal("postgres"),
      url: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
    }),
  ])
  .default({ type: "sqlite" })
  .describe("Where users live: `sqlite` (embedded default), `memory` (tests) or `postgres` (shared).");

/** Line types Twilio Lookup v2 line type intelligence answers. */
export const TWILIO_LINE_TYPES = [
  "landline",
  "mobile",
  "fixedVoip",
  "nonFixedVoip",
  "personal",
  "tollFree",
  "premium",
  "sharedCost",
  "uan",
  "voicemail",
  "pager",
  "unknown",
] as const;

const riskCheckerLimits = {
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(20_000)
    .default(3_000)
    .describe("Time one lookup may take; a late answer refuses the send (unless `risk.failOpen`)."),
  cacheTtlSeconds: z
    .number()
    .int()
    .min(0)
    .max(604_800)
    .default(3_600)
    .describe("How long an answer is reused for the same number (0 = never); failures are never cached."),
};

const riskSchema = z
  .strictObject({
    failOpen: z
      .boolean()
      .default(false)
      .describe("When a lookup fails or times out, send anyway (logged) instead of refusing the send."),
    twilioLookup: z
      .strictObject({
        accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be an Account SID (AC + 32 hex)"),
        authToken: z.string().min(1),
        baseUrl: url.optional().describe("Send the lookups to another base URL (a test double)."),
        refuseLineTypes: z
          .array(z.enum(TWILIO_LINE_TYPES))
          .default(["landline", "fixedVoip", "nonFixedVoip", "tollFree", "premium", "sharedCost", "uan", "pager"])
          .describe("Line types (line type intelligence) refused; empty = line type not looked up."),
        simSwapMaxAgeHours: z
          .number()
          .int()
          .min(1)
          .max(2_400)
          .optional()
          .describe(
            "Refuse a number whose SIM changed within this many hours (SIM swap package); unset = not looked up.",
          ),
        ...riskCheckerLimits,
      })
      .optional()
      .describe("Twilio Lookup v2 before each send (through the `twilio` SDK)."),
    vonage: z
      .strictObject({
        apiKey: z.string().min(1),
        apiSecret: z.string().min(1),
        baseUrl: url.default("https://api.nexmo.com").describe("Number Insight v2 host (`POST {baseUrl}/v2/ni`)."),
        refuseSimSwap: z.boolean().default(true).describe("Refuse a number whose SIM changed in the last 7 days."),
        refuseRecommendations: z
          .array(z.enum(["block", "flag"]))
          .default(["block"])
          .describe("Fraud score recommendations refused; empty = fraud score not looked up."),
        ...riskCheckerLimits,
      })
      .optional()
      .describe("Vonage Number Insight v2 (fraud score, SIM swap) before each send (plain HTTP)."),
  })
  .prefault({})
  .describe(
    "Vendor risk lookups run before a code is generated or sent (after the pre-send hook); a refusal is `403 access_denied`.",
  );

export const configSchema = z
  .strictObject({
    issuer: url
      .refine((u) => u.endsWith("/"), "must end with a slash, e.g. https://auth.example.com/")
      .optional()
      .describe(
        "Issuer and public base URL (required when NODE_ENV=production). When absent (development) it is the server's own URL, e.g. `http://127.0.0.1:3000/`: the local address and port the request arrived on with its real scheme, or `X-Forwarded-Proto`/`X-Forwarded-Host` when `server.trustProxy` is set; never the Host header.",
      ),
    secret: z
      .string()
      .min(32, "must be at least 32 characters")
      .optional()
      .describe("Server secret that keys code hashes. Generated into `dataDir` when absent (refused in production)."),
    dataDir: z
      .string()
      .default(".textlock")
      .describe(
        "Folder for generated secrets, signing keys, the SQLite file and the console outbox. In a config file, relative to the file.",
      ),
    clients: z.array(clientSchema).prefault(DEFAULT_CLIENTS).describe("Applications (Auth0 clients)."),
    connections: z.array(connectionSchema).prefault(DEFAULT_CONNECTIONS).describe("Passwordless SMS connections."),
    resource_servers: z
      .array(resourceServerSchema)
      .default([])
      .describe("APIs (Auth0 resource servers) clients may get access tokens for with `client_credentials`."),
    client_grants: z
      .array(clientGrantSchema)
      .default([])
      .describe(
        "Machine-to-machine access (Auth0 client grants): which confidential client may use `client_credentials` for which API (a resource server or the Management API) and scopes.",
      ),
    otp: z
      .strictObject({
        maxAttempts: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe("Wrong attempts before a code dies (Auth0: 3)."),
        failureCeiling: z
          .strictObject({
            max: z.number().int().min(1).max(100).default(10).describe("Consecutive failures per phone across codes."),
            windowSeconds: z
              .number()
              .int()
              .min(60)
              .max(86_400)
              .default(3_600)
              .describe("Window of the failure counter."),
          })
          .prefault({})
          .describe("Stops resend-to-reset loops; reset by a successful login."),
      })
      .prefault({})
      .describe("One-time code rules."),
    store: storeSchema,
    users: usersSchema,
    providers: z
      .union([
        z.array(
          z.custom<ProviderDescriptor>(isDescriptorLike, {
            message: "must be a provider descriptor made with defineProvider()",
          }),
        ),
        z.record(
          z.string(),
          z.custom<SmsProvider>(isSmsProvider, { message: "must be a provider made with defineSmsProvider()" }),
        ),
      ])
      .default([])
      .describe(
        "Provider plugins (programmatic config only): descriptors made with `defineProvider()`, or (older form) provider instances by name.",
      ),
    tokens: z
      .strictObject({
        algorithm: z
          .enum(["RS256", "ES256", "EdDSA"])
          .default("RS256")
          .describe("Signing algorithm of new keys. Auth0 SDKs expect RS256; ES256/EdDSA sign faster."),
        signing: z
          .enum(["auto", "event-loop", "thread-pool"])
          .default("auto")
          .describe(
            "Where tokens are signed: `thread-pool` (WebCrypto on libuv's threads, in parallel with the event loop), `event-loop` (node:crypto, synchronously: no hand-off between threads), `auto`: the event loop when the process may use one CPU only (`os.availableParallelism()`: a one-CPU container, a process pinned to one core), else the thread pool.",
          ),
        accessTokenLifetimeSeconds: z
          .number()
          .int()
          .min(60)
          .max(2_592_000)
          .default(86_400)
          .describe("Access token lifetime."),
        refreshTokenLifetimeSeconds: z
          .number()
          .int()
          .min(3_600)
          .max(31_536_000)
          .default(2_592_000)
          .describe(
            "Refresh token absolute lifetime, counted from the login that started the token family (rotation does not extend it).",
          ),
        refreshTokenIdleSeconds: z
          .number()
          .int()
          .min(60)
          .max(31_536_000)
          .optional()
          .describe(
            "Refresh token idle lifetime: a token not used within it stops working; each rotation renews it (never past the absolute lifetime). Unset: no idle limit.",
          ),
        purgeIntervalSeconds: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(3_600)
          .describe(
            "How often each process deletes refresh-token records (and revoked-family markers) whose family has expired, and login sessions that have ended, so the tables do not grow forever. `0`: never (purge with your own job).",
          ),
        keepKeys: z.number().int().min(1).max(10).default(3).describe("Signing keys kept in the JWKS after rotations."),
        keys: z
          .array(
            z.strictObject({
              kid: z
                .string()
                .min(1)
                .optional()
                .describe("Key id; default: the key's JWK thumbprint (or the JWK's `kid`)."),
              alg: z.enum(["RS256", "ES256", "EdDSA"]).describe("Algorithm the key signs with."),
              privateKey: z
                .union([z.string().min(1), z.record(z.string(), z.unknown())])
                .describe("The private key: a PKCS#8 PEM string or a private JWK object."),
            }),
          )
          .default([])
          .describe(
            "Signing keys supplied by the operator (e.g. from a secret manager, through environment substitution in a config file): the first signs, the others are published in the JWKS. When set, no key is generated or stored, and `keys rotate`/`retire` are refused.",
          ),
        keyReloadSeconds: z
          .number()
          .min(0.05)
          .max(3_600)
          .default(30)
          .describe(
            "How often each process reads the shared signing keys again, so a rotation or retirement made elsewhere is picked up without a restart (also on a token with an unknown `kid`, at most every 5 s).",
          ),
      })
      .prefault({})
      .describe("Token signing and lifetimes."),
    protection: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe("Send limits on `/passwordless/start` (the phone policy below always applies)."),
        perIp: z
          .strictObject({
            points: z.number().int().min(1).default(50),
            seconds: z.number().int().min(1).default(3_600),
          })
          .prefault({})
          .describe("Starts per client IP (Auth0: 50 per hour)."),
        perPhone: z
          .strictObject({ points: z.number().int().min(1).default(5), seconds: z.number().int().min(1).default(3_600) })
          .prefault({})
          .describe("Codes sent per phone number."),
        resendCooldownSeconds: z
          .number()
          .int()
          .min(0)
          .max(300)
          .default(30)
          .describe("Minimum time between two codes to one phone (0 = off)."),
        perPrefix: z
          .strictObject({
            points: z.number().int().min(1).default(10),
            seconds: z.number().int().min(1).default(3_600),
          })
          .prefault({})
          .describe("Codes per number prefix (the number without its last 4 digits): SMS pumping walks number ranges."),
        dailySmsBudget: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe("Messages per day across all numbers: caps the cost of an attack."),
        countries: z
          .strictObject({
            allow: z.array(z.string().length(2)).default([]).describe("ISO country codes allowed (empty = all)."),
            deny: z.array(z.string().length(2)).default([]).describe("ISO country codes refused."),
          })
          .prefault({})
          .describe("Country policy (recommended in production: an allow list of the countries you serve)."),
        refuseLineTypes: z
          .array(
            z.enum([
              "PREMIUM_RATE",
              "SHARED_COST",
              "TOLL_FREE",
              "VOIP",
              "PAGER",
              "UAN",
              "VOICEMAIL",
              "PERSONAL_NUMBER",
              "FIXED_LINE",
            ]),
          )
          .default(["PREMIUM_RATE", "SHARED_COST", "TOLL_FREE", "VOIP", "PAGER", "UAN", "VOICEMAIL"])
          .describe("Line types refused (libphonenumber-js metadata)."),
        pumping: z
          .strictObject({
            mode: z
              .enum(["enforce", "monitor", "off"])
              .default("enforce")
              .describe(
                "`enforce`: a prefix or country whose codes are rarely verified is quarantined (new starts refused, nothing sent); `monitor`: only reported (event, log, metric); `off`.",
              ),
            windowSeconds: z
              .number()
              .int()
              .min(1)
              .max(604_800)
              .default(3_600)
              .describe("Sliding window over which codes sent and codes verified are counted."),
            minVerifiedRatio: z
              .number()
              .min(0)
              .max(1)
              .default(0.2)
              .describe("Codes verified / codes sent below which a prefix or country is flagged as pumped."),
            minSends: z
              .strictObject({
                prefix: z.number().int().min(1).default(20).describe("Per number prefix."),
                country: z.number().int().min(1).default(200).describe("Per country."),
              })
              .prefault({})
              .describe("Codes sent in the window before the ratio is judged (small samples are never flagged)."),
            quarantineSeconds: z
              .number()
              .int()
              .min(1)
              .max(604_800)
              .default(3_600)
              .describe(
                "Least time a flagged prefix or country stays quarantined; it ends once the window looks clean.",
              ),
          })
          .prefault({})
          .describe(
            "SMS-pumping detection: the ratio of codes verified to codes sent, per number prefix (the number without its last 4 digits) and per country.",
          ),
        budgets: z
          .strictObject({
            currency: z
              .string()
              .regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD")
              .default("USD")
              .describe("Currency of prices and budgets (a label: no conversion)."),
            prices: z
              .record(z.string().regex(/^[A-Z]{2}$/, "an ISO country code"), z.number().min(0).max(100))
              .default({})
              .describe(
                "Price of one message per country, in `currency`. Countries not listed take textlock's example table (core/protection/default-prices.ts; only when `currency` is USD), then `defaultPrice`.",
              ),
            defaultPrice: z
              .number()
              .min(0)
              .max(100)
              .optional()
              .describe(
                "Price of a message to a country in neither table (default: the example table's default; required when `currency` is not USD and a budget is set).",
              ),
            daily: z.number().positive().optional().describe("Spend per UTC day across all messages."),
            perCountryDaily: z
              .record(z.string().regex(/^([A-Z]{2}|\*)$/, "an ISO country code or *"), z.number().positive())
              .default({})
              .describe("Spend per UTC day per country; `*` applies to each country not listed."),
            perClientDaily: z
              .record(z.string().min(1), z.number().positive())
              .default({})
              .describe("Spend per UTC day per client (by `client_id`); `*` applies to each client not listed."),
            alertAt: z
              .array(z.number().gt(0).lt(1))
              .default([0.5, 0.8])
              .describe(
                "Fractions of a budget at which a `budget.threshold` event fires (once per threshold per day).",
              ),
          })
          .prefault({})
          .describe("Money budgets: each message is priced by country and reserved atomically before it is sent."),
        captcha: captchaSchema,
      })
      .prefault({})
      .describe("Abuse and SMS-pumping protection."),
    risk: riskSchema,
    hooks: z
      .strictObject({
        scripts: z
          .strictObject({
            "pre-user-registration": z.string().optional(),
            "post-user-registration": z.string().optional(),
            "post-login": z.string().optional(),
            "custom-phone-provider": z.string().optional(),
            "send-phone-message": z.string().optional(),
            "pre-send": z.string().optional(),
          })
          .prefault({})
          .describe(
            "Script file per trigger (Auth0 Actions shape: `exports.onExecutePostLogin = async (event, api) => {}`). In a config file, relative to the file.",
          ),
        secrets: z.record(z.string(), z.string().max(4096)).default({}).describe("`event.secrets` of every script."),
        timeoutMs: z
          .number()
          .int()
          .min(50)
          .max(20_000)
          .default(5_000)
          .describe("Wall-clock limit of one hook run (script or function), awaited work included (Auth0: 20 s)."),
        memoryLimitMb: z.number().int().min(8).max(512).default(32).describe("Heap limit of a script's isolate."),
        allowedHosts: z
          .array(z.string())
          .default([])
          .describe("`host:port` values a script's `fetch` may reach; nothing else is reachable."),
        functions: z
          .strictObject({
            "pre-user-registration": z
              .custom<import("../hooks/types.js").PreUserRegistrationHandler>(
                (v) => typeof v === "function",
                "must be a function",
              )
              .optional()
              .describe("`PreUserRegistrationHandler` from `textlock/hooks`."),
            "post-user-registration": z
              .custom<import("../hooks/types.js").PostUserRegistrationHandler>(
                (v) => typeof v === "function",
                "must be a function",
              )
              .optional()
              .describe("`PostUserRegistrationHandler` from `textlock/hooks`."),
            "post-login": z
              .custom<import("../hooks/types.js").PostLoginHandler>(
                (v) => typeof v === "function",
                "must be a function",
              )
              .optional()
              .describe("`PostLoginHandler` from `textlock/hooks`."),
            "custom-phone-provider": z
              .custom<import("../hooks/types.js").CustomPhoneProviderHandler>(
                (v) => typeof v === "function",
                "must be a function",
              )
              .optional()
              .describe("`CustomPhoneProviderHandler` from `textlock/hooks`."),
            "send-phone-message": z
              .custom<import("../hooks/types.js").SendPhoneMessageHandler>(
                (v) => typeof v === "function",
                "must be a function",
              )
              .optional()
              .describe("`SendPhoneMessageHandler` from `textlock/hooks`."),
            "pre-send": z
              .custom<import("../hooks/types.js").PreSendHandler>((v) => typeof v === "function", "must be a function")
              .optional()
              .describe("`PreSendHandler` from `textlock/hooks`."),
          })
          .prefault({})
          .describe(
            "Trusted in-process handler per trigger, `(event, api) => {}` (programmatic configuration only). Runs without a sandbox: " +
              "`timeoutMs` still fails the hook, but cannot stop the function; `memoryLimitMb` and `allowedHosts` do not apply.",
          ),
        failOpen: z
          .strictObject({
            "pre-send": z
              .boolean()
              .default(false)
              .describe(
                "When the pre-send hook throws, times out or is killed, send anyway (logged) instead of refusing the send.",
              ),
          })
          .prefault({})
          .describe(
            "Per trigger: what a failed run means. By default a failed pre-send refuses the send (fail closed).",
          ),
      })
      .superRefine((hooks, ctx) => {
        for (const [trigger, file] of Object.entries(hooks.scripts)) {
          if (file && hooks.functions[trigger as keyof typeof hooks.functions]) {
            ctx.addIssue({
              code: "custom",
              path: ["functions", trigger],
              message: `hooks.functions["${trigger}"] and hooks.scripts["${trigger}"] are both set; a trigger runs a function or a script, not both`,
            });
          }
        }
      })
      .prefault({})
      .describe("Actions-style hooks: script files run in an isolated-vm sandbox, or trusted in-process functions."),
    delivery: z
      .strictObject({
        attemptTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(5_000)
          .describe("Time one send attempt may take."),
        retries: z
          .number()
          .int()
          .min(0)
          .max(5)
          .default(2)
          .describe("Retries per provider after a transient failure (throttled, 5xx, network)."),
        backoffMs: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(200)
          .describe("First retry delay; doubles each retry (a vendor's Retry-After wins)."),
        deadlineMs: z
          .number()
          .int()
          .min(100)
          .max(120_000)
          .default(10_000)
          .describe("Time all attempts and failovers of one message may take."),
        breaker: z
          .strictObject({
            failures: z
              .number()
              .int()
              .min(1)
              .max(100)
              .default(5)
              .describe("Consecutive transient failures that open a provider's circuit."),
            coolDownMs: z
              .number()
              .int()
              .min(100)
              .max(600_000)
              .default(30_000)
              .describe("How long an open circuit skips the provider before one trial send."),
          })
          .prefault({})
          .describe("Circuit breaker per provider."),
        receipts: z
          .strictObject({
            enabled: z
              .boolean()
              .default(false)
              .describe(
                "Ask providers that read receipts (twilio, twilio-verify, vonage) for status callbacks, and serve `POST /delivery-receipts/<provider>/<connection>`.",
              ),
            publicUrl: url
              .refine((u) => u.endsWith("/"), "must end with a slash, e.g. https://auth.example.com/")
              .optional()
              .describe(
                "The URL vendors reach textlock at, as they sign it (behind a proxy that rewrites hosts or paths, the outside one); defaults to `issuer`.",
              ),
            maxAgeSeconds: z
              .number()
              .int()
              .min(30)
              .max(86_400)
              .default(300)
              .describe("Signed callbacks older than this (their JWT `iat`) are refused as replays."),
          })
          .prefault({})
          .describe("Delivery receipts (vendor status callbacks): docs/guides/delivery-receipts.md."),
        escalationSweepMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(1_000)
          .describe("How often each process looks for escalations that are due (connection `options.escalation`)."),
      })
      .prefault({})
      .describe(
        "Delivery policy: timeouts, retries, failover (connection `options.provider` as a list) and circuit breaker.",
      ),
    messages: z
      .strictObject({
        renderLimitMs: z.number().int().min(1).max(1_000).default(50).describe("Liquid render time limit per message."),
        memoryLimit: z.number().int().min(1_000).max(100_000_000).default(1_000_000).describe("Liquid memory limit."),
      })
      .prefault({})
      .describe("Template engine limits."),
    server: z
      .strictObject({
        host: z.string().default("127.0.0.1").describe("Listen address of the standalone server."),
        port: z.number().int().min(0).max(65_535).default(3000).describe("Listen port (0 = any free port)."),
        https: z
          .strictObject({
            cert: z.string().describe("PEM file (in a config file, relative to the file); must exist at startup."),
            key: z.string().describe("PEM file (in a config file, relative to the file); must exist at startup."),
          })
          .optional()
          .describe("Serve HTTPS with this certificate."),
        trustProxy: z
          .union([z.boolean(), z.number().int().min(0), z.array(z.string())])
          .default(false)
          .describe("Take the client IP from X-Forwarded-For: `true`, a hop count, or trusted proxy addresses."),
        bodyLimitBytes: z
          .number()
          .int()
          .min(1_024)
          .max(1_048_576)
          .default(16_384)
          .describe("Largest accepted request body."),
        keepAliveTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(3_600)
          .default(72)
          .describe(
            "How long the standalone server keeps an idle keep-alive connection open. Behind a load balancer, set it above the balancer's idle timeout (AWS ALB: 60 s by default; Google Cloud: 600 s, fixed), or the balancer reuses connections the server has just closed and answers 502.",
          ),
      })
      .prefault({})
      .describe("HTTP server settings."),
    login: z
      .strictObject({
        defaultCountry: z
          .string()
          .regex(/^[A-Z]{2}$/, "an ISO 3166 country code such as US")
          .default("US")
          .describe(
            "Country preselected on the hosted page when the browser language names none; also the answer of `/user/geoloc/country`.",
          ),
        resendAfterSeconds: z
          .number()
          .int()
          .min(0)
          .max(300)
          .default(30)
          .describe(
            "Countdown before the hosted page offers to resend a code (keep it at least `protection.resendCooldownSeconds`).",
          ),
        transactionSeconds: z
          .number()
          .int()
          .min(60)
          .max(3_600)
          .default(900)
          .describe("How long one hosted-page login may take."),
        grantSeconds: z
          .number()
          .int()
          .min(10)
          .max(600)
          .default(60)
          .describe(
            "Lifetime of an authorization code and of a login ticket (`/co/authenticate`); each is single use.",
          ),
        sessionSeconds: z
          .number()
          .int()
          .min(60)
          .max(31_536_000)
          .default(604_800)
          .describe(
            'Absolute lifetime of a login session (SSO): after this long since the code was typed, `/authorize` shows the page again and `prompt=none` answers `login_required`. Auth0\'s "Require log in after" (7 days).',
          ),
        sessionIdleSeconds: z
          .number()
          .int()
          .min(60)
          .max(31_536_000)
          .default(259_200)
          .describe(
            "A login session nobody used for this long ends (each use by `/authorize` restarts the count, never beyond `sessionSeconds`). Auth0's idle session lifetime (3 days).",
          ),
        allowedLogoutUrls: z
          .array(url)
          .max(100)
          .default([])
          .describe(
            "Tenant-wide Allowed Logout URLs: where `/v2/logout` and `/oidc/logout` may redirect when no client is named.",
          ),
      })
      .prefault({})
      .describe("Hosted login page and browser flow (`/authorize`, `/co/authenticate`)."),
    metrics: z
      .strictObject({
        bearerToken: z
          .string()
          .min(16, "must be at least 16 characters")
          .optional()
          .describe(
            "Serves the Prometheus metrics at `metrics.path` to a scraper that sends `Authorization: Bearer <token>`. Without it the route does not exist (`textlock.metrics.prometheus()` still works in-process).",
          ),
        path: z
          .string()
          .regex(/^\/[\w./-]*$/, "a path such as /metrics")
          .default("/metrics")
          .describe("Path of the metrics route (under the handler's prefix)."),
      })
      .prefault({})
      .describe("Prometheus metrics (see docs/guides/metrics.md)."),
    audit: auditSchema,
    logging: z
      .strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") })
      .prefault({})
      .describe("Logging."),
  })
  .superRefine((config, ctx) => {
    const clientIds = new Set<string>();
    config.clients.forEach((client, i) => {
      if (clientIds.has(client.client_id)) {
        ctx.addIssue({
          code: "custom",
          path: ["clients", i, "client_id"],
          message: `duplicate client_id "${client.client_id}"`,
        });
      }
      clientIds.add(client.client_id);
      if (client.token_endpoint_auth_method !== "none" && !client.client_secret) {
        ctx.addIssue({
          code: "custom",
          path: ["clients", i, "client_secret"],
          message: `required when token_endpoint_auth_method is "${client.token_endpoint_auth_method}"`,
        });
      }
    });
    checkClientGrants(config, ctx);
    const budgets = config.protection.budgets;
    for (const id of Object.keys(budgets.perClientDaily)) {
      if (id !== "*" && !clientIds.has(id)) {
        ctx.addIssue({
          code: "custom",
          path: ["protection", "budgets", "perClientDaily", id],
          message: `unknown client "${id}"`,
        });
      }
    }
    const budgeted =
      budgets.daily !== undefined ||
      Object.keys(budgets.perCountryDaily).length > 0 ||
      Object.keys(budgets.perClientDaily).length > 0;
    if (budgeted && budgets.currency !== "USD" && budgets.defaultPrice === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["protection", "budgets", "defaultPrice"],
        message: "required when currency is not USD (the example price table is in USD and is not used)",
      });
    }
    const captcha = config.protection.captcha;
    const asked = captcha.policy !== "off" || config.clients.some((c) => c.captcha && c.captcha !== "off");
    if (asked) {
      for (const key of ["provider", "siteKey", "secret"] as const) {
        if (!captcha[key]) {
          ctx.addIssue({
            code: "custom",
            path: ["protection", "captcha", key],
            message: "required when a CAPTCHA policy is not off",
          });
        }
      }
    }
    if (config.delivery.receipts.enabled && !config.delivery.receipts.publicUrl && !config.issuer) {
      ctx.addIssue({
        code: "custom",
        path: ["delivery", "receipts", "publicUrl"],
        message: "required when receipts are enabled and no issuer is set (vendors need a URL to call)",
      });
    }
    const names = new Set<string>();
    config.connections.forEach((connection, i) => {
      if (names.has(connection.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "name"],
          message: `duplicate connection name "${connection.name}"`,
        });
      }
      names.add(connection.name);
      connection.enabled_clients.forEach((id, j) => {
        if (!clientIds.has(id)) {
          ctx.addIssue({
            code: "custom",
            path: ["connections", i, "enabled_clients", j],
            message: `unknown client "${id}"`,
          });
        }
      });
      const { length, time_step } = connection.options.totp;
      const testNumbers = new Set<string>();
      connection.options.test_numbers.forEach((t, j) => {
        if (t.code.length !== length) {
          ctx.addIssue({
            code: "custom",
            path: ["connections", i, "options", "test_numbers", j, "code"],
            message: `must have ${length} digits (the connection's totp.length)`,
          });
        }
        if (testNumbers.has(t.phone_number)) {
          ctx.addIssue({
            code: "custom",
            path: ["connections", i, "options", "test_numbers", j, "phone_number"],
            message: `duplicate test number "${t.phone_number}"`,
          });
        }
        testNumbers.add(t.phone_number);
      });
      const { delivery, channels } = connection.options;
      const preferred = delivery === "text" ? "sms" : delivery;
      if (channels && !channels.includes(preferred)) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "options", "channels"],
          message: `must include "${preferred}", the delivery channel`,
        });
      }
      if (channels && new Set(channels).size !== channels.length) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "options", "channels"],
          message: "lists a channel twice",
        });
      }
      const escalation = connection.options.escalation;
      if (escalation && !config.delivery.receipts.enabled) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "options", "escalation"],
          message: "needs delivery.receipts.enabled (escalation waits for delivery receipts)",
        });
      }
      const cooldown = config.protection.enabled ? config.protection.resendCooldownSeconds : 0;
      if (escalation && escalation.after_seconds < cooldown) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "options", "escalation", "after_seconds"],
          message: `must be at least protection.resendCooldownSeconds (${cooldown}): an escalation is a send to the same phone`,
        });
      }
      const allowed = channels ?? [preferred];
      escalation?.channels?.forEach((c, j) => {
        if (!allowed.includes(c)) {
          ctx.addIssue({
            code: "custom",
            path: ["connections", i, "options", "escalation", "channels", j],
            message: `"${c}" is not one of the connection's channels`,
          });
        }
      });
      if (length < 6 && time_step > 180) {
        ctx.addIssue({
          code: "custom",
          path: ["connections", i, "options", "totp"],
          message: `a ${length}-digit code may not live ${time_step} s: use 6+ digits or at most 180 s`,
        });
      }
    });
  });

/** Client grants name known confidential clients and audiences, and only scopes their API defines. */
function checkClientGrants(
  config: {
    issuer?: string | undefined;
    clients: Array<{ client_id: string; client_secret?: string | undefined; grant_types: string[] }>;
    resource_servers: Array<{ identifier: string; scopes: Array<{ value: string }> }>;
    client_grants: Array<{ client_id: string; audience: string; scope: string[] }>;
  },
  ctx: z.RefinementCtx,
): void {
  const servers = new Map<string, Set<string>>();
  config.resource_servers.forEach((server, i) => {
    if (servers.has(server.identifier) || isManagementAudience(server.identifier)) {
      ctx.addIssue({
        code: "custom",
        path: ["resource_servers", i, "identifier"],
        message: servers.has(server.identifier)
          ? `duplicate identifier "${server.identifier}"`
          : "ends with /api/v2/, the Management API's audience: choose another identifier",
      });
    }
    servers.set(server.identifier, new Set(server.scopes.map((s) => s.value)));
  });
  const seen = new Set<string>();
  config.client_grants.forEach((grant, i) => {
    const at = (...path: (string | number)[]) => ["client_grants", i, ...path];
    const client = config.clients.find((c) => c.client_id === grant.client_id);
    if (!client)
      ctx.addIssue({ code: "custom", path: at("client_id"), message: `unknown client "${grant.client_id}"` });
    else if (!client.client_secret || !client.grant_types.includes("client_credentials")) {
      ctx.addIssue({
        code: "custom",
        path: at("client_id"),
        message: `client "${grant.client_id}" must have a client_secret and "client_credentials" in its grant_types`,
      });
    }
    const key = `${grant.client_id}\0${grant.audience}`;
    if (seen.has(key)) {
      ctx.addIssue({ code: "custom", path: at("audience"), message: `duplicate grant for this client and audience` });
    }
    seen.add(key);
    const management = isManagementAudience(grant.audience);
    if (management && config.issuer && grant.audience !== `${config.issuer}api/v2/`) {
      ctx.addIssue({
        code: "custom",
        path: at("audience"),
        message: `the Management API is "${config.issuer}api/v2/"`,
      });
    }
    const allowed: ReadonlySet<string> | undefined = management
      ? new Set<string>(MANAGEMENT_SCOPES)
      : servers.get(grant.audience);
    if (!allowed) {
      ctx.addIssue({
        code: "custom",
        path: at("audience"),
        message: `unknown audience "${grant.audience}": not a resource_servers identifier nor the Management API`,
      });
      return;
    }
    grant.scope.forEach((scope, j) => {
      if (!allowed.has(scope)) {
        ctx.addIssue({ code: "custom", path: at("scope", j), message: `"${scope}" is not a scope of this API` });
      }
    });
  });
}

/** Configuration as written by the user (before defaults). */
export type TextlockConfigInput = z.input<typeof configSchema>;
/** Configuration after validation and defaults. */
export type TextlockConfig = z.output<typeof configSchema>;
export type ClientConfig = TextlockConfig["clients"][number];
export type ConnectionConfig = TextlockConfig["connections"][number];
