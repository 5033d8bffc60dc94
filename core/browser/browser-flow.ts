import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import {
  BOT_CHECK,
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  ONE_TIME_STORE,
  SECRET,
  SESSION_STORE,
  TOKENS,
  USER_STORE,
} from "../di-tokens.js";
import { deliveryMethodOf } from "../engine/channels.js";
import { Engine } from "../engine/engine.js";
import { requireParam, resolveClient } from "../engine/steps.js";
import type { RequestFacts, StartResult, VerifyResult } from "../engine/types.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { BotCheck, CaptchaWidget } from "../protection/bot-check.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import { LoginSessions } from "../sessions/login-sessions.js";
import type { SessionStore } from "../sessions/session-store.js";
import type { TokenResponse, TokenService } from "../tokens/token-service.js";
import type { UserStore } from "../users/user-store.js";
import { AuthorizationCodes } from "./authorization-codes.js";
import {
  checkCodeChallenge,
  checkGrantAllowed,
  checkModeFitsResponseType,
  checkNonce,
  checkPrompt,
  checkPublicClientUsesPkce,
  checkRedirectUri,
  maxAgeOf,
  nonEmpty,
  optionalParamsOf,
  promptsOf,
  redirectUriOf,
  resolveAuthorizeConnection,
  responseTypeOf,
  scopeOf,
} from "./authorize-checks.js";
import { AuthorizeRedirectError, type AuthorizeRequest, type AuthorizeTarget } from "./authorize-request.js";
import { implicitTokenValues } from "./implicit-tokens.js";
import { type Login, restoreLogin } from "./login-record.js";
import {
  asCrossOriginError,
  checkCoAuthenticateBody,
  checkCredentialType,
  checkCrossOriginAllowed,
  checkRealmEnabled,
  type IssuedTicket,
  LoginTickets,
} from "./login-tickets.js";
import type { OneTimeStore } from "./one-time-store.js";
import { checkResponseModeSupported, responseModeOf } from "./response-modes.js";
import { type CodeSent, type Transaction, TransactionSealer } from "./transaction.js";

export type { AuthorizeRequest, AuthorizeTarget, ResponseMode } from "./authorize-request.js";

/**
 * The browser side of textlock: `/authorize` (the hosted page and login-ticket redemption), the
 * embedded `/co/authenticate` flow of auth0-js and Lock, and the `authorization_code` grant with PKCE.
 * Each entry reads as its list of named checks. Authorization codes and login tickets live in a
 * {@link OneTimeStore} (Redis when codes are in Redis), so any textlock process can redeem them, once.
 */
@injectable()
export class BrowserFlow {
  private readonly transactions: TransactionSealer;
  private readonly tickets: LoginTickets;
  private readonly codes: AuthorizationCodes;
  /** Login sessions (SSO): started by a login on the hosted page or with a ticket, ended by logout. */
  readonly sessions: LoginSessions;

  constructor(
    @inject(CONFIG) readonly config: TextlockConfig,
    @inject(SECRET) secret: Buffer,
    @inject(Engine) private readonly engine: Engine,
    @inject(TOKENS) private readonly tokens: TokenService,
    @inject(USER_STORE) private readonly users: UserStore,
    @inject(ONE_TIME_STORE) store: OneTimeStore,
    @inject(CLOCK) private readonly now: Clock,
    @inject(BOT_CHECK) private readonly botCheck: BotCheck,
    @inject(SESSION_STORE) sessionStore: SessionStore,
    @inject(EVENTS) private readonly events: TextlockEvents,
  ) {
    const { sessionSeconds, sessionIdleSeconds } = config.login;
    this.sessions = new LoginSessions(
      sessionStore,
      { absoluteSeconds: sessionSeconds, idleSeconds: Math.min(sessionIdleSeconds, sessionSeconds) },
      now,
    );
    this.transactions = new TransactionSealer(secret, config.login.transactionSeconds * 1000, now);
    this.tickets = new LoginTickets(store, config.login.grantSeconds * 1000);
    this.codes = new AuthorizationCodes(config, store, users, tokens);
  }

  /** Validates `client_id` and `redirect_uri`. Failures here are shown on textlock's own error page. */
  resolveTarget(params: Record<string, string>): AuthorizeTarget {
    const client = resolveClient(this.config, requireParam("client_id", params.client_id));
    const response_mode = responseModeOf(params);
    const redirect_uri = redirectUriOf(client, params.redirect_uri);
    checkRedirectUri(client, redirect_uri, response_mode);
    return { client, redirect_uri, response_mode, ...(nonEmpty(params.state) ? { state: params.state } : {}) };
  }

  /** Validates a whole `/authorize` request. Errors after the target is known go back to the callback. */
  parseAuthorize(params: Record<string, string>): AuthorizeRequest {
    const target = this.resolveTarget(params);
    const { client } = target;
    try {
      const response_type = responseTypeOf(params.response_type);
      checkResponseModeSupported(params.response_mode);
      checkModeFitsResponseType(response_type, target.response_mode);
      checkGrantAllowed(client, response_type);
      checkNonce(response_type, params.nonce);
      checkCodeChallenge(params.code_challenge, params.code_challenge_method);
      checkPublicClientUsesPkce(client, response_type, params);
      const connection = resolveAuthorizeConnection(this.config, client, params.connection);
      const scope = scopeOf(response_type, params.scope);
      checkPrompt(params.prompt);
      const maxAge = maxAgeOf(params.max_age);
      const request: AuthorizeRequest = {
        ...target,
        response_type,
        scope,
        connection,
        params,
        ...optionalParamsOf(params),
        ...(maxAge !== undefined ? { max_age: maxAge } : {}),
      };
      return request;
    } catch (err) {
      throw isTextlockError(err) ? new AuthorizeRedirectError(target, err) : err;
    }
  }

  // --- hosted page ---

  /** The transaction of a posted form, or undefined when forged, expired or from another browser. */
  openTransaction(sealed: unknown, bindingCookie: string | undefined): Transaction | undefined {
    return this.transactions.open(sealed, bindingCookie);
  }

  newTransaction(params: Record<string, string>, bindingCookie: string, codeSent?: CodeSent): string {
    return this.transactions.create(params, bindingCookie, codeSent);
  }

  /**
   * The phone step of the hosted page (and its resend and channel switch), which acts for the client in
   * the person's browser. A `channel` the live code was not sent over gets the same code.
   */
  sendCodeFromHostedPage(
    request: AuthorizeRequest,
    phone: string,
    facts: RequestFacts,
    captcha?: string,
    channel?: DeliveryChannel,
  ): Promise<StartResult> {
    return this.engine.startForClient(
      request.client,
      {
        connection: request.connection.name,
        phone_number: phone,
        ...(captcha ? { captcha } : {}),
        ...(channel ? { delivery_method: deliveryMethodOf(channel) } : {}),
      },
      facts,
    );
  }

  /**
   * The bot-check widget the hosted page shows for a client: always under policy `always`; under
   * `adaptive` only once a start was refused for lack of a CAPTCHA (`refused`); never when `off`.
   */
  captchaWidget(client: ClientConfig, refused = false): CaptchaWidget | undefined {
    const policy = this.botCheck.policy(client);
    if (policy === "off" || (policy === "adaptive" && !refused)) return undefined;
    return this.botCheck.widget(client);
  }

  /** The code step of the hosted page, which acts for the client in the person's browser. */
  verifyCodeFromHostedPage(
    request: AuthorizeRequest,
    phone: string,
    otp: string,
    facts: RequestFacts,
  ): Promise<VerifyResult> {
    const { scope, audience } = request;
    return this.engine.verifyForClient(
      request.client,
      { realm: request.connection.name, username: phone, otp, scope, ...(audience ? { audience } : {}) },
      facts,
    );
  }

  // --- /co/authenticate and login tickets ---

  /**
   * `POST /co/authenticate`: checks the code like the OTP grant and answers a single-use login ticket
   * plus a verifier that ties it to this browser (cookie, or the fallback page's postMessage).
   */
  async coAuthenticate(body: Record<string, unknown>, facts: RequestFacts): Promise<IssuedTicket> {
    const { client_id, credential_type, realm, username, otp } = checkCoAuthenticateBody(body);
    const client = resolveClient(this.config, client_id);
    checkCrossOriginAllowed(client);
    checkCredentialType(credential_type);
    checkRealmEnabled(this.config, client, realm);
    // The browser cannot hold a secret: the origin check and cross_origin_authentication stand in for it.
    const result = await this.engine.verifyForClient(client, { realm, username, otp }, facts).catch(asCrossOriginError);
    return this.tickets.issue(result, client.client_id);
  }

  /** The `co_id` of a live ticket for this client (to find its verifier), without redeeming it. */
  peekTicket(ticket: string, clientId: string): Promise<{ co_id: string } | undefined> {
    return this.tickets.peek(ticket, clientId);
  }

  /** Redeems a ticket with its verifier; the ticket is gone afterwards, whatever the outcome. */
  async redeemTicket(request: AuthorizeRequest, verifier: string): Promise<Login> {
    const record = await this.tickets.redeem(request.login_ticket ?? "", request.client.client_id, verifier);
    return restoreLogin(record, this.config, this.users);
  }

  // --- login sessions ---

  /**
   * Starts the login session of a login that just happened (the code was typed now); the login then
   * carries the session's `sid` and its `auth_time`. The browser's previous session, if any, ends.
   */
  async startSession(
    login: Login,
    clientId: string,
    previousCookie?: string,
  ): Promise<{ login: Login; cookie: string }> {
    const authTime = this.now();
    const { session, cookie } = await this.sessions.start(
      { userId: login.user.user_id, connection: login.connection.name, authTime, claims: login.claims },
      clientId,
      previousCookie,
    );
    this.events.emit("session.started", {
      user_id: login.user.user_id,
      client_id: clientId,
      connection: login.connection.name,
      sid: session.sid,
    });
    return { login: { ...login, authTime, sid: session.sid }, cookie };
  }

  /**
   * The login a live session answers for this `/authorize`, or undefined when the page must be shown:
   * no session (or an expired, forged or ended one), `prompt=login`, a login older than `max_age`, a
   * connection the session did not log in with, or a user since blocked or deleted.
   */
  async loginFromSession(request: AuthorizeRequest, cookie: string | undefined): Promise<Login | undefined> {
    if (promptsOf(request.prompt).has("login") || request.max_age === 0) return undefined;
    const session = await this.sessions.find(cookie);
    if (!session) return undefined;
    if (request.max_age !== undefined && session.authTime + request.max_age * 1000 < this.now()) return undefined;
    const connection = this.config.connections.find((c) => c.name === session.connection);
    if (!connection?.enabled_clients.includes(request.client.client_id)) return undefined;
    if (request.params.connection && request.params.connection !== session.connection) return undefined;
    const user = await this.users.findById(session.userId);
    if (!user) {
      await this.sessions.end(undefined, session.sid);
      return undefined;
    }
    if (user.blocked) return undefined;
    const touched = await this.sessions.touch(session, request.client.client_id);
    this.events.emit("session.used", {
      user_id: user.user_id,
      client_id: request.client.client_id,
      sid: session.sid,
      silent: promptsOf(request.prompt).has("none"),
    });
    return { user, connection, claims: touched.claims, authTime: touched.authTime, sid: touched.sid };
  }

  /** `prompt=none` without a usable session: Auth0's `login_required`, sent back to the callback. */
  loginRequired(request: AuthorizeRequest): TextlockError {
    this.events.emit("session.missing", { client_id: request.client.client_id });
    return new TextlockError("ERR_LOGIN_REQUIRED");
  }

  /** Logout: ends the session of the browser's cookie and/or a named `sid`. */
  async endSession(cookie: string | undefined, sid?: string, who: { client_id?: string; user_id?: string } = {}) {
    const ended = await this.sessions.end(cookie, sid);
    if (ended) this.events.emit("session.ended", { sids: ended, ...who });
    return ended;
  }

  // --- the answer to the application ---

  /** The values sent to the callback for a finished login: a code, or tokens (implicit). */
  async complete(request: AuthorizeRequest, login: Login, issuer: string): Promise<Record<string, string>> {
    const values =
      request.response_type === "code"
        ? { code: await this.codes.issue(request, login) }
        : await implicitTokenValues(this.tokens, request, login, issuer);
    return request.state ? { ...values, state: request.state } : values;
  }

  /** `grant_type=authorization_code`: one redemption per code, PKCE for public clients. */
  exchangeCode(params: Record<string, unknown>, request: RequestFacts & { issuer: string }): Promise<TokenResponse> {
    return this.codes.exchange(params, request);
  }
}
