import { createHash, createHmac, randomBytes } from "node:crypto";
import { type ClientConfig, type ConnectionConfig, OTP_GRANT, type TextlockConfig } from "../config/schema.js";
import type { Engine } from "../engine/engine.js";
import { authenticateClient, requireParam, resolveClient, secretsEqual } from "../engine/steps.js";
import type { RequestFacts, StartResult, VerifyResult } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { TokenResponse, TokenService } from "../tokens/token-service.js";
import type { User, UserStore } from "../users/user-store.js";
import type { OneTimeStore } from "./one-time-store.js";

export type ResponseMode = "query" | "fragment" | "form_post" | "web_message";
const RESPONSE_MODES = new Set<ResponseMode>(["query", "fragment", "form_post", "web_message"]);
/** Response types textlock answers (hybrid `code id_token` would need `c_hash`; it is refused). */
const RESPONSE_TYPES = new Set(["code", "token", "id_token", "id_token token"]);

/** Where an `/authorize` answer goes, once `client_id` and `redirect_uri` are known to be valid. */
export interface AuthorizeTarget {
  client: ClientConfig;
  redirect_uri: string;
  response_mode: ResponseMode;
  state?: string;
}

/** A validated `/authorize` request. */
export interface AuthorizeRequest extends AuthorizeTarget {
  /** Normalized: `code`, `token`, `id_token` or `id_token token`. */
  response_type: string;
  scope: string;
  connection: ConnectionConfig;
  nonce?: string;
  audience?: string;
  code_challenge?: string;
  prompt?: string;
  ui_locales?: string;
  login_hint?: string;
  login_ticket?: string;
  /** The raw parameters, kept to rebuild the request on the next page. */
  params: Record<string, string>;
}

/** An error to send back to the application's callback (OAuth's error response). */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly target: AuthorizeTarget,
    readonly error: TextlockError,
  ) {
    super(error.message);
  }
}

/** The parameters of a hosted-page transaction, signed into the page's forms. */
export interface Transaction {
  /** The `/authorize` parameters. */
  q: Record<string, string>;
  /** Hash of the browser-binding cookie: a form posted from another browser is refused. */
  b: string;
  /** Expiry, epoch ms. */
  e: number;
  /** The E.164 number a code was sent to (code step). */
  ph?: string;
  /** When that code was sent, epoch ms (for the resend countdown). */
  t?: number;
}

interface LoginRecord {
  u: string;
  c: string;
  n: string;
  cl: VerifyResult["claims"];
}
interface TicketRecord extends LoginRecord {
  co: string;
  v: string;
}
interface CodeRecord extends LoginRecord {
  s: string;
  a?: string;
  no?: string;
  r: string;
  cc?: string;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");
const random = (bytes: number) => randomBytes(bytes).toString("base64url");
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The browser side of textlock: `/authorize` (the hosted page and login-ticket redemption), the
 * embedded `/co/authenticate` flow of auth0-js and Lock, and the `authorization_code` grant with PKCE.
 * Authorization codes and login tickets live in a {@link OneTimeStore} (Redis when codes are in Redis),
 * so any textlock process can redeem them, once.
 */
export class BrowserFlow {
  private readonly txKey: Buffer;

  constructor(
    readonly config: TextlockConfig,
    secret: string | Buffer,
    private readonly engine: Engine,
    private readonly tokens: TokenService,
    private readonly users: UserStore,
    private readonly store: OneTimeStore,
    private readonly now: () => number = Date.now,
  ) {
    this.txKey = createHmac("sha256", secret).update("textlock hosted-login transaction v1").digest();
  }

  /** Validates `client_id` and `redirect_uri`. Failures here are shown on textlock's own error page. */
  resolveTarget(params: Record<string, string>): AuthorizeTarget {
    const client = resolveClient(this.config, requireParam("client_id", params.client_id));
    const modeParam = params.response_mode;
    const types = (params.response_type ?? "").split(" ").filter(Boolean);
    const response_mode: ResponseMode =
      modeParam && RESPONSE_MODES.has(modeParam as ResponseMode)
        ? (modeParam as ResponseMode)
        : types.some((t) => t !== "code")
          ? "fragment"
          : "query";
    let redirect_uri = params.redirect_uri;
    if (!redirect_uri) {
      if (client.callbacks.length !== 1) throw new TextlockError("ERR_INVALID_REQUEST", { description: "Missing required parameter: redirect_uri" });
      redirect_uri = client.callbacks[0]!;
    }
    if (response_mode === "web_message") {
      // web_message answers with postMessage to the page's origin: it must be a web origin of the client.
      const origin = webOrigin(redirect_uri);
      const allowed = [...client.web_origins, ...client.callbacks].map(webOrigin);
      if (!origin || !allowed.includes(origin)) {
        throw new TextlockError("ERR_INVALID_REQUEST", { description: `The origin of redirect_uri "${redirect_uri}" is not in the client's Allowed Web Origins.` });
      }
    } else if (!client.callbacks.includes(redirect_uri)) {
      throw new TextlockError("ERR_INVALID_REQUEST", {
        description: `The redirect_uri "${redirect_uri}" is not in the list of allowed callback URLs of the client.`,
      });
    }
    return { client, redirect_uri, response_mode, ...(str(params.state) ? { state: params.state } : {}) };
  }

  /** Validates a whole `/authorize` request. Errors after the target is known go back to the callback. */
  parseAuthorize(params: Record<string, string>): AuthorizeRequest {
    const target = this.resolveTarget(params);
    const fail = (code: ConstructorParameters<typeof TextlockError>[0], description?: string): never => {
      throw new AuthorizeRedirectError(target, new TextlockError(code, description ? { description } : {}));
    };
    const { client } = target;
    const types = new Set((params.response_type ?? "").split(" ").filter(Boolean));
    const response_type = ["code", "id_token", "token"].filter((t) => types.has(t)).join(" ");
    if (!params.response_type) fail("ERR_INVALID_REQUEST", "Missing required parameter: response_type");
    if (!RESPONSE_TYPES.has(response_type) || types.size !== response_type.split(" ").length) {
      fail("ERR_UNSUPPORTED_RESPONSE_TYPE", `Unsupported response type: ${params.response_type}`);
    }
    if (params.response_mode && !RESPONSE_MODES.has(params.response_mode as ResponseMode)) {
      fail("ERR_INVALID_REQUEST", `Unsupported response_mode: ${params.response_mode}`);
    }
    const implicit = response_type !== "code";
    if (implicit && target.response_mode === "query") fail("ERR_INVALID_REQUEST", "response_mode query is not allowed for tokens; use fragment or form_post.");
    const grant = implicit ? "implicit" : "authorization_code";
    if (!client.grant_types.includes(grant)) fail("ERR_UNAUTHORIZED_CLIENT", `Grant type '${grant}' not allowed for the client.`);
    if (types.has("id_token") && !str(params.nonce)) fail("ERR_INVALID_REQUEST", "Nonce is required for an id_token response (implicit flow).");

    const method = params.code_challenge_method;
    if (params.code_challenge !== undefined) {
      if ((method ?? "plain") !== "S256") fail("ERR_INVALID_REQUEST", "code_challenge_method must be S256.");
      if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) fail("ERR_INVALID_REQUEST", "code_challenge must be a base64url SHA-256 (43 characters).");
    }
    if (!implicit && client.token_endpoint_auth_method === "none" && !params.code_challenge && !params.login_ticket) {
      fail("ERR_INVALID_REQUEST", "A public client must use PKCE: code_challenge and code_challenge_method=S256 are required.");
    }

    const enabled = this.config.connections.filter((c) => c.enabled_clients.includes(client.client_id));
    const connection = params.connection ? enabled.find((c) => c.name === params.connection) : enabled[0];
    if (!connection) {
      fail("ERR_INVALID_REQUEST", params.connection ? `The connection "${params.connection}" is not enabled for this client.` : "No connection is enabled for this client.");
    }
    let scope = (params.scope ?? "openid").split(" ").filter(Boolean);
    if (types.has("id_token") && !scope.includes("openid")) scope = ["openid", ...scope];
    // Refresh tokens never travel through the browser's front channel.
    if (implicit) scope = scope.filter((s) => s !== "offline_access");

    const request: AuthorizeRequest = {
      ...target,
      response_type,
      scope: scope.join(" "),
      connection: connection!,
      params,
    };
    for (const key of ["nonce", "audience", "code_challenge", "prompt", "ui_locales", "login_hint", "login_ticket"] as const) {
      const value = str(params[key]);
      if (value) request[key] = value;
    }
    if (request.prompt?.split(" ").includes("none") && !request.login_ticket) fail("ERR_LOGIN_REQUIRED");
    return request;
  }

  // --- hosted page transactions ---

  sealTransaction(tx: Transaction): string {
    const payload = Buffer.from(JSON.stringify(tx)).toString("base64url");
    return `${payload}.${createHmac("sha256", this.txKey).update(payload).digest("base64url")}`;
  }

  /** The transaction of a posted form, or undefined when forged, expired or from another browser. */
  openTransaction(sealed: unknown, bindingCookie: string | undefined): Transaction | undefined {
    if (typeof sealed !== "string" || !bindingCookie) return undefined;
    const [payload = "", mac = ""] = sealed.split(".");
    const expected = createHmac("sha256", this.txKey).update(payload).digest("base64url");
    if (!secretsEqual(mac, expected)) return undefined;
    try {
      const tx = JSON.parse(Buffer.from(payload, "base64url").toString()) as Transaction;
      if (tx.e <= this.now() || !secretsEqual(tx.b, sha256(bindingCookie))) return undefined;
      return tx;
    } catch {
      return undefined;
    }
  }

  newTransaction(params: Record<string, string>, bindingCookie: string, sent?: { phone: string; at: number }): string {
    return this.sealTransaction({
      q: params,
      b: sha256(bindingCookie),
      e: this.now() + this.config.login.transactionSeconds * 1000,
      ...(sent ? { ph: sent.phone, t: sent.at } : {}),
    });
  }

  /** The phone step of the hosted page (and its resend), which acts for the client in the person's browser. */
  sendCodeFromHostedPage(request: AuthorizeRequest, phone: string, facts: RequestFacts): Promise<StartResult> {
    return this.engine.startForClient(request.client, { connection: request.connection.name, phone_number: phone }, facts);
  }

  /** The code step of the hosted page, which acts for the client in the person's browser. */
  verifyCodeFromHostedPage(request: AuthorizeRequest, phone: string, otp: string, facts: RequestFacts): Promise<VerifyResult> {
    return this.engine.verifyForClient(
      request.client,
      { realm: request.connection.name, username: phone, otp, scope: request.scope, ...(request.audience ? { audience: request.audience } : {}) },
      facts,
    );
  }

  // --- /co/authenticate and login tickets ---

  /**
   * `POST /co/authenticate`: checks the code like the OTP grant and answers a single-use login ticket
   * plus a verifier that ties it to this browser (cookie, or the fallback page's postMessage).
   */
  async coAuthenticate(body: Record<string, unknown>, facts: RequestFacts): Promise<{ login_ticket: string; co_verifier: string; co_id: string }> {
    const fields = ["client_id", "credential_type", "username", "otp", "realm"];
    const keys = Object.keys(body);
    if (keys.length !== fields.length || !fields.every((f) => typeof body[f] === "string" && body[f] !== "")) {
      throw new TextlockError("ERR_CO_INVALID_BODY");
    }
    const client = resolveClient(this.config, body.client_id);
    if (!client.cross_origin_authentication) throw new TextlockError("ERR_CO_NOT_ALLOWED");
    if (body.credential_type !== OTP_GRANT) throw new TextlockError("ERR_UNSUPPORTED_CREDENTIAL_TYPE");
    const realm = body.realm as string;
    if (!this.config.connections.some((c) => c.name === realm && c.enabled_clients.includes(client.client_id))) {
      throw new TextlockError("ERR_UNKNOWN_REALM", { description: `Unknown realm ${realm}.` });
    }
    let result: VerifyResult;
    try {
      // The browser cannot hold a secret: the origin check and cross_origin_authentication stand in for it.
      result = await this.engine.verifyForClient(client, { realm, username: body.username as string, otp: body.otp as string }, facts);
    } catch (err) {
      if (err instanceof TextlockError && (err.code === "ERR_WRONG_CODE" || err.code === "ERR_MAX_ATTEMPTS")) {
        throw new TextlockError("ERR_CO_WRONG_CODE", { description: err.message, cause: err });
      }
      if (err instanceof TextlockError && err.code === "ERR_USER_BLOCKED") throw new TextlockError("ERR_CO_BLOCKED_USER", { cause: err });
      throw err;
    }
    const login_ticket = random(32);
    const co_verifier = random(32);
    const co_id = random(12);
    const record: TicketRecord = { u: result.user.user_id, c: client.client_id, n: result.connection.name, cl: result.claims, co: co_id, v: sha256(co_verifier) };
    await this.store.put(`lt:${sha256(login_ticket)}`, JSON.stringify(record), this.config.login.grantSeconds * 1000);
    return { login_ticket, co_verifier, co_id };
  }

  /** The `co_id` of a live ticket for this client (to find its verifier), without redeeming it. */
  async peekTicket(ticket: string, clientId: string): Promise<{ co_id: string } | undefined> {
    const raw = await this.store.peek(`lt:${sha256(ticket)}`);
    if (!raw) return undefined;
    const record = JSON.parse(raw) as TicketRecord;
    return record.c === clientId ? { co_id: record.co } : undefined;
  }

  /** Redeems a ticket with its verifier; the ticket is gone afterwards, whatever the outcome. */
  async redeemTicket(request: AuthorizeRequest, verifier: string): Promise<{ user: User; connection: ConnectionConfig; claims: VerifyResult["claims"] }> {
    const raw = await this.store.take(`lt:${sha256(request.login_ticket ?? "")}`);
    if (!raw) throw new TextlockError("ERR_LOGIN_TICKET");
    const record = JSON.parse(raw) as TicketRecord;
    if (record.c !== request.client.client_id) throw new TextlockError("ERR_LOGIN_TICKET");
    if (!verifier) {
      throw new TextlockError("ERR_LOGIN_TICKET", {
        description: "Cross-origin verification failed: the application's cross_origin_loc page had no verifier for this login (its storage is partitioned or blocked in this browser).",
      });
    }
    if (!secretsEqual(sha256(verifier), record.v)) {
      throw new TextlockError("ERR_LOGIN_TICKET", { description: "Cross-origin verification failed: the verifier does not match this login ticket." });
    }
    return this.loginOf(record);
  }

  private async loginOf(record: LoginRecord) {
    const user = await this.users.findById(record.u);
    const connection = this.config.connections.find((c) => c.name === record.n);
    if (!user || !connection) throw new TextlockError("ERR_LOGIN_TICKET", { description: "The user of this login no longer exists." });
    if (user.blocked) throw new TextlockError("ERR_USER_BLOCKED");
    return { user, connection, claims: record.cl };
  }

  // --- the answer to the application ---

  /** The values sent to the callback for a finished login: a code, or tokens (implicit). */
  async complete(
    request: AuthorizeRequest,
    login: { user: User; connection: ConnectionConfig; claims: VerifyResult["claims"] },
    issuer: string,
  ): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    if (request.response_type === "code") {
      const code = random(32);
      const record: CodeRecord = {
        u: login.user.user_id,
        c: request.client.client_id,
        n: login.connection.name,
        cl: login.claims,
        s: request.scope,
        r: request.redirect_uri,
        ...(request.audience ? { a: request.audience } : {}),
        ...(request.nonce ? { no: request.nonce } : {}),
        ...(request.code_challenge ? { cc: request.code_challenge } : {}),
      };
      await this.store.put(`ac:${sha256(code)}`, JSON.stringify(record), this.config.login.grantSeconds * 1000);
      values.code = code;
    } else {
      const types = new Set(request.response_type.split(" "));
      const tokens = await this.tokens.issueForLogin(
        { ...login, created: false, client: request.client, scope: request.scope, ...(request.audience ? { audience: request.audience } : {}) },
        { issuer, ...(request.nonce ? { nonce: request.nonce } : {}), atHash: types.has("token") },
      );
      if (types.has("token")) {
        values.access_token = tokens.access_token;
        values.token_type = "Bearer";
        values.expires_in = String(tokens.expires_in);
        if (tokens.scope) values.scope = tokens.scope;
      }
      if (types.has("id_token") && tokens.id_token) values.id_token = tokens.id_token;
    }
    if (request.state) values.state = request.state;
    return values;
  }

  /** `grant_type=authorization_code`: one redemption per code, PKCE for public clients. */
  async exchangeCode(params: Record<string, unknown>, request: RequestFacts & { issuer: string }): Promise<TokenResponse> {
    const client = resolveClient(this.config, requireParam("client_id", params.client_id));
    if (!client.grant_types.includes("authorization_code")) {
      throw new TextlockError("ERR_GRANT_NOT_ALLOWED", { description: "Grant type 'authorization_code' not allowed for the client." });
    }
    if (client.token_endpoint_auth_method !== "none") authenticateClient(client, str(params.client_secret));
    const code = requireParam("code", params.code);
    // Taken before any other check: a code met with a wrong verifier is burnt, not left for retries.
    const raw = await this.store.take(`ac:${sha256(code)}`);
    if (!raw) throw new TextlockError("ERR_INVALID_AUTH_CODE");
    const record = JSON.parse(raw) as CodeRecord;
    if (record.c !== client.client_id) throw new TextlockError("ERR_INVALID_AUTH_CODE");
    if (params.redirect_uri !== undefined && params.redirect_uri !== record.r) {
      throw new TextlockError("ERR_INVALID_GRANT", { description: "The redirect_uri does not match the one of the authorization request." });
    }
    if (record.cc) {
      const verifier = str(params.code_verifier);
      if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !secretsEqual(sha256(verifier), record.cc)) throw new TextlockError("ERR_PKCE_FAILED");
    } else if (client.token_endpoint_auth_method === "none") {
      throw new TextlockError("ERR_PKCE_FAILED");
    }
    const login = await this.loginOf(record);
    return this.tokens.issueForLogin(
      { ...login, created: false, client, scope: record.s, ...(record.a ? { audience: record.a } : {}) },
      { issuer: request.issuer, ...(record.no ? { nonce: record.no } : {}) },
    );
  }
}

/**
 * The origin a browser page at `url` has, or undefined for non-URLs and URLs without one (custom
 * schemes give the opaque `null`, which must never become a postMessage target or a CSP source).
 * Unlike the CORS check's origin helper, which keeps `null`, this one refuses it.
 */
export function webOrigin(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}
