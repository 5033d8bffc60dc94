import { randomBytes } from "node:crypto";
import type { ClientConfig, ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import type { DeliveryStore } from "../delivery/delivery-store.js";
import { DeliveryTracker } from "../delivery/delivery-tracker.js";
import {
  BOT_CHECK,
  CLOCK,
  type Clock,
  CONFIG,
  DELIVERY_STORE,
  EVENTS,
  HOOKS,
  LOGGER,
  MESSAGE_RENDERER,
  OTP_STORE,
  PROTECTION,
  PROVIDERS,
  RISK,
  SECRET,
  USER_STORE,
} from "../di-tokens.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import type { HookContext, HookRunner } from "../hooks/hook-runner.js";
import type { Logger } from "../logger.js";
import { withAutofill } from "../messages/autofill.js";
import { resolveRequestLanguage } from "../messages/language.js";
import type { MessageRenderer } from "../messages/render-message.js";
import { generateCode, randomHexId, randomId } from "../otp/generate-code.js";
import { hashCode } from "../otp/hash-code.js";
import type { FailureWindow, OtpStore, PendingCode, RedeemResult } from "../otp/otp-store.js";
import { CodeSealer } from "../otp/seal-code.js";
import type { BotCheck } from "../protection/bot-check.js";
import type { ClaimedCode, Protection, Reservation } from "../protection/protection.js";
import type { Delivery, ProviderRegistry } from "../providers/provider-registry.js";
import type { DeliveryChannel, SmsMessage } from "../providers/sms-provider.js";
import type { PreSendRisk } from "../risk/pre-send-risk.js";
import { applyLogin } from "../users/profile.js";
import type { User, UserStore } from "../users/user-store.js";
import { canResend, requestedChannel, requireAllowedChannel } from "./channels.js";
import {
  authenticateClient,
  checkOtpGrant,
  checkStartFields,
  otpKey,
  requireParam,
  requirePhone,
  resolveClient,
  resolveRealm,
  resolveStartConnection,
  testNumberCode,
} from "./steps.js";
import type {
  ClientStartInput,
  ClientVerifyInput,
  RequestFacts,
  ResendInput,
  ResendResult,
  StartInput,
  StartResult,
  VerifyInput,
  VerifyResult,
} from "./types.js";

/**
 * The request facts an event carries (for the audit log): IP, user agent, host. Set one by one: an
 * object literal that starts with a spread and adds keys after it gets a hidden class of its own on
 * every call on Node 20 (see docs/performance.md), and this runs for every event.
 */
const origin = (request: RequestFacts) => {
  const facts: { ip?: string; user_agent?: string; hostname?: string } = {};
  if (request.ip) facts.ip = request.ip;
  if (request.userAgent) facts.user_agent = request.userAgent;
  if (request.host) facts.hostname = request.host;
  return facts;
};

/** What a login records on the user: when, and from which IP. */
const loginFacts = (request: RequestFacts, now: number) => ({ ip: request.ip, at: new Date(now) });

/** The `provider` of a `code.sent` event for a test number: nothing was sent. */
export const TEST_NUMBER_PROVIDER = "test_number";

/**
 * The OTP lifecycle. `start()` and `verify()` each read top to bottom as the list of steps of the
 * Auth0 flow; the HTTP layer and in-process callers both go through here.
 */
@injectable()
export class Engine {
  private readonly sealer: CodeSealer;

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(SECRET) private readonly secret: Buffer,
    @inject(OTP_STORE) private readonly codes: OtpStore,
    @inject(USER_STORE) private readonly users: UserStore,
    @inject(MESSAGE_RENDERER) private readonly messages: MessageRenderer,
    @inject(PROVIDERS) private readonly providers: ProviderRegistry,
    @inject(HOOKS) private readonly hooks: HookRunner,
    @inject(EVENTS) private readonly events: TextlockEvents,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(CLOCK) private readonly now: Clock,
    @inject(PROTECTION) private readonly protection: Protection,
    @inject(BOT_CHECK) private readonly botCheck: BotCheck,
    @inject(RISK) private readonly risk: PreSendRisk,
    @inject(DELIVERY_STORE) private readonly deliveries: DeliveryStore,
    @inject(DeliveryTracker) private readonly tracker: DeliveryTracker,
  ) {
    this.sealer = new CodeSealer(secret);
  }

  /** `POST /passwordless/start`: issue a code for a phone and deliver it. */
  async start(input: StartInput, request: RequestFacts = {}): Promise<StartResult> {
    checkStartFields(input);
    if (input.client_id === undefined || input.client_id === "") throw new TextlockError("ERR_MISSING_CLIENT_ID");
    const client = resolveClient(this.config, input.client_id);
    authenticateClient(client, input.client_secret);
    return this.startForClient(client, input, request);
  }

  /**
   * `start()` for a client textlock itself vouches for (the hosted page, which runs in the person's
   * browser and never holds the client's secret): every step but client authentication.
   */
  async startForClient(
    client: ClientConfig,
    input: ClientStartInput,
    request: RequestFacts = {},
  ): Promise<StartResult> {
    checkOtpGrant(client);
    const connection = resolveStartConnection(this.config, client, input.connection);
    const phone = requirePhone(input.phone_number);
    const channel = requestedChannel(connection, input.delivery_method);
    // A test number's code is never sent, so the phone policy and send limits (which guard what sending
    // costs) do not apply to it; the bot check, failure ceiling, expiry, single use and attempts do.
    const testCode = testNumberCode(connection, phone);
    if (testCode === undefined) this.protection.checkPhone(phone);
    // Before anything is counted against the phone or generated: a bot never costs a real person quota.
    await this.botCheck.check(client, { ip: request.ip, phone, captcha: input.captcha });
    const key = otpKey(connection, phone);
    const language = resolveRequestLanguage(
      request.xRequestLanguage,
      request.acceptLanguage,
      connection.options.default_language,
    );
    const result = { _id: randomHexId(), phone_number: phone, phone_verified: false, request_language: language };

    // A provider that owns the code (Twilio Verify) makes and checks it; textlock keeps a record with
    // no hash (it never sees the code) for its own attempt cap, expiry and single use.
    const owner = testCode === undefined ? await this.providers.codeOwner(connection) : undefined;
    const fresh = owner ? "" : (testCode ?? generateCode(connection.options.totp.length));
    const newCode: PendingCode = {
      codeId: randomId(),
      hash: owner
        ? randomBytes(32).toString("base64url")
        : hashCode(this.secret, { connection: connection.name, clientId: client.client_id, phone }, fresh),
      expiresAt: this.now() + connection.options.totp.time_step * 1000,
      maxAttempts: this.config.otp.maxAttempts,
    };
    // A sealed copy only where another channel could ever re-send this code (it costs an AES-GCM seal and
    // ~80 bytes per pending code).
    const resendable = testCode === undefined && !owner && canResend(connection);
    if (resendable) {
      newCode.sealed = this.sealer.seal(key, newCode.codeId, { code: fresh, clientId: client.client_id });
      newCode.channel = channel;
    }
    // The failure ceiling, the send limits and storing the code are one step of the protection layer
    // (one Redis call). The risk step runs after the send limits, so a flood cannot run up billed
    // lookups (a refusal keeps the quota used), and before the code is stored. A test number is never
    // sent, so the send limits do not apply to it and it is never looked up either. A switch to a
    // channel the live code was not sent over claims that code in the same step instead of storing a
    // new one: the same code is sent again, with no new guessing budget (its attempts carry over); the
    // send limits are charged all the same.
    const admitted = await this.protection.admitStart({
      key,
      facts: { ip: request.ip, phone, connection: connection.name, client: client.client_id },
      ...(connection.options.brute_force_protection ? { ceiling: this.config.otp.failureCeiling.max } : {}),
      limits: testCode === undefined,
      code: newCode,
      ...(resendable && input.delivery_method !== undefined ? { claim: channel } : {}),
      ...(testCode === undefined && this.risk.active
        ? { beforeIssue: () => this.risk.check({ client, connection, request, phone, channel }) }
        : {}),
    });
    if ("locked" in admitted)
      this.refuseLocked(connection, client, phone, admitted.locked, "ERR_PHONE_LOCKED", request);
    const reservation = testCode === undefined ? admitted.reservation : undefined;
    const live = admitted.claimed ? await this.openClaim(client, key, admitted.claimed, newCode) : undefined;
    const code = live?.code ?? fresh;
    const codeId = live?.codeId ?? newCode.codeId;
    const expiresAt = live?.expiresAt ?? newCode.expiresAt;
    if (!reservation) {
      this.logger.info({ connection: connection.name, phone_number: phone }, "code issued to a test number (not sent)");
      this.events.emit("code.sent", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        channel,
        provider: TEST_NUMBER_PROVIDER,
        ...origin(request),
      });
      return result;
    }

    const facts = { ip: request.ip, userAgent: request.userAgent, language };
    const send: () => Promise<Delivery> = owner
      ? () =>
          this.providers.startVerification(
            connection,
            {
              to: phone,
              channel,
              language,
              codeLength: connection.options.totp.length,
              connection: connection.name,
              client: { client_id: client.client_id, name: client.name },
            },
            facts,
          )
      : () =>
          this.providers.deliver(
            connection,
            this.composeMessage(client, connection, phone, code, language, channel, request),
            facts,
          );
    const sent = { to: phone, channel, language, client };
    const deliver = () =>
      this.deliver(
        connection,
        key,
        { codeId, expiresAt },
        sent,
        send,
        request,
        reservation,
        live ? "release" : "discard",
      );
    if (connection.options.disable_signup) {
      // Sign-ups disabled: unknown and blocked numbers keep the (never sent) code above, so attempts,
      // answers and lockouts look the same as for real users; delivery runs after the response for
      // every number, so timing does not tell which numbers exist either.
      void this.users
        .findByPhone(connection.name, phone)
        .then(async (user) => {
          if (user && !user.blocked) await deliver();
          else {
            await reservation.unsent();
            this.events.emit("signup.refused", {
              connection: connection.name,
              client_id: client.client_id,
              phone_number: phone,
              ...origin(request),
            });
          }
        })
        .catch((err) => this.logger.warn({ err: { code: (err as TextlockError).code } }, "background delivery failed"));
    } else {
      const user = await this.users.findByPhone(connection.name, phone);
      if (!user?.blocked) await deliver();
      else await reservation.unsent();
    }
    return result;
  }

  /**
   * The passwordless OTP grant: count, compare, consume, then find or create the user. With `then`
   * (issuing the tokens, say), that runs while the login's write commits, and its result is returned
   * once both are done: see {@link verifyForClient}.
   */
  verify(input: VerifyInput, request?: RequestFacts): Promise<VerifyResult>;
  verify<T>(input: VerifyInput, request: RequestFacts, then: (result: VerifyResult) => Promise<T>): Promise<T>;
  async verify<T>(
    input: VerifyInput,
    request: RequestFacts = {},
    then?: (result: VerifyResult) => Promise<T>,
  ): Promise<T | VerifyResult> {
    const client = resolveClient(this.config, requireParam("client_id", input.client_id));
    authenticateClient(client, input.client_secret);
    return then ? this.verifyForClient(client, input, request, then) : this.verifyForClient(client, input, request);
  }

  /**
   * The OTP grant for a client textlock itself vouches for, so client authentication is skipped: the
   * hosted page and `/co/authenticate` run in the person's browser, which never holds the client's
   * secret. Every other step of {@link verify} runs unchanged. Never reach this with a client taken
   * from unauthenticated input without checking it another way first (origin, redirect_uri).
   *
   * The login's write (last login, login count) is durable before this resolves, but nothing waits for
   * it before then: post-login hooks see the user as that write leaves it (computed here, as the store
   * computes it), and `then` (issuing the tokens: a signature, a refresh token to store) runs while it
   * commits, so the signing overlaps the fsync and a refresh token joins the same group commit. If the
   * write fails, whatever `then` made is dropped and the error is thrown; `user.logged_in` is emitted
   * only once both have succeeded.
   */
  verifyForClient(client: ClientConfig, input: ClientVerifyInput, request?: RequestFacts): Promise<VerifyResult>;
  verifyForClient<T>(
    client: ClientConfig,
    input: ClientVerifyInput,
    request: RequestFacts,
    then: (result: VerifyResult) => Promise<T>,
  ): Promise<T>;
  async verifyForClient<T>(
    client: ClientConfig,
    input: ClientVerifyInput,
    request: RequestFacts = {},
    then?: (result: VerifyResult) => Promise<T>,
  ): Promise<T | VerifyResult> {
    checkOtpGrant(client);
    const connection = resolveRealm(this.config, client, input.realm);
    const phone = requireParam("username", input.username);
    const otp = requireParam("otp", input.otp);
    await this.redeemCode(connection, client, otpKey(connection, phone), phone, otp, request);

    const hookContext: HookContext = { client, connection, request, scope: input.scope, audience: input.audience };
    const failed = (reason: string, user_id?: string) =>
      this.events.emit("login.failed", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        reason,
        ...(user_id ? { user_id } : {}),
        ...origin(request),
      });
    const { user, created } = await this.findOrCreateUser(connection, client, phone, hookContext, request);
    if (user.blocked) {
      failed("user is blocked", user.user_id);
      throw new TextlockError("ERR_USER_BLOCKED");
    }
    // A user this login created has it counted already (one write for the sign-up); a store that
    // ignores `login` on create leaves no last_login, and the login is counted here as for anyone else.
    let loggedIn = user;
    let recording: Promise<unknown> = Promise.resolve();
    if (!(created && user.last_login)) {
      const facts = loginFacts(request, this.now());
      recording = this.users.recordLogin(user.user_id, facts);
      // Awaited below (with `then`); a denial or a hook failure first must not leave it unhandled.
      recording.catch(() => undefined);
      loggedIn = applyLogin(user, facts);
    }
    const postLogin = await this.hooks.postLogin({ user: loggedIn, ...hookContext });
    if (postLogin.denied) {
      failed(postLogin.denied.reason, user.user_id);
      throw new TextlockError("ERR_ACCESS_DENIED", { description: postLogin.denied.reason });
    }
    const finalUser =
      postLogin.user_metadata || postLogin.app_metadata
        ? await this.users.update(user.user_id, {
            user_metadata: postLogin.user_metadata,
            app_metadata: postLogin.app_metadata,
          })
        : loggedIn;
    const result: VerifyResult = {
      user: finalUser,
      created,
      client,
      connection,
      claims: { idToken: postLogin.idTokenClaims, accessToken: postLogin.accessTokenClaims },
      scope: input.scope,
      audience: input.audience,
    };
    const [, out] = await Promise.all([recording, then ? then(result) : result]);
    this.events.emit("user.logged_in", {
      user_id: user.user_id,
      connection: connection.name,
      client_id: client.client_id,
      phone_number: phone,
      ...(typeof finalUser.logins_count === "number" ? { logins_count: finalUser.logins_count } : {}),
      ...origin(request),
    });
    return out;
  }

  /**
   * Sends the live code of (connection, phone) again over `channel`, the same code: no new code, no new
   * guessing budget (attempts are shared with every other send of it), each channel at most once per
   * code (of concurrent calls for one channel exactly one sends), and it counts against the same
   * per-phone send limits, pumping and money budgets as a `/passwordless/start` (a refusal there is
   * thrown, as on `/start`). This is what a channel switch on `/passwordless/start` runs, and what
   * escalation (SMS → WhatsApp → voice) builds on. Nothing is sent, and the answer says why, when
   * there is no live code (none issued, expired, used or out of attempts), when it was already sent
   * over `channel`, or when the user is blocked (or unknown with sign-ups disabled).
   */
  async resendLiveCode(input: ResendInput, request: RequestFacts = {}): Promise<ResendResult> {
    const connection = this.config.connections.find((c) => c.name === input.connection);
    if (!connection) throw new TextlockError("ERR_UNKNOWN_CONNECTION");
    const channel = requireAllowedChannel(connection, input.channel);
    const phone = requirePhone(input.phone_number);
    const key = otpKey(connection, phone);
    const claim = await this.codes.claimChannel(key, channel, this.now());
    if (claim.status === "already_sent") return { status: "already_sent", channel };
    if (claim.status !== "claimed") return { status: "no_live_code", channel };
    const opened = this.sealer.open(key, claim.codeId, claim.sealed);
    const client = opened && this.config.clients.find((c) => c.client_id === opened.clientId);
    if (!opened || !client) {
      await this.codes.releaseChannel(key, claim.codeId, channel);
      return { status: "no_live_code", channel };
    }
    const user = await this.users.findByPhone(connection.name, phone);
    if (user?.blocked || (connection.options.disable_signup && !user)) return { status: "suppressed", channel };
    let reservation: Reservation;
    try {
      this.protection.checkPhone(phone);
      // The send limits and budgets of a start, without a new code (the live one stays).
      const admitted = await this.protection.admitStart({
        key,
        facts: { ip: request.ip, phone, connection: connection.name, client: client.client_id },
        ...(connection.options.brute_force_protection ? { ceiling: this.config.otp.failureCeiling.max } : {}),
        limits: true,
      });
      if ("locked" in admitted)
        this.refuseLocked(connection, client, phone, admitted.locked, "ERR_PHONE_LOCKED", request);
      reservation = admitted.reservation;
    } catch (err) {
      await this.codes.releaseChannel(key, claim.codeId, channel);
      throw err;
    }
    const language = resolveRequestLanguage(
      request.xRequestLanguage,
      request.acceptLanguage,
      connection.options.default_language,
    );
    const message = this.composeMessage(client, connection, phone, opened.code, language, channel, request);
    const facts = { ip: request.ip, userAgent: request.userAgent, language };
    const delivery = await this.deliver(
      connection,
      key,
      { codeId: claim.codeId, expiresAt: claim.expiresAt },
      message,
      () => this.providers.deliver(connection, message, facts),
      request,
      reservation,
      "release",
    );
    return { status: "sent", channel, provider: delivery.provider, message_id: delivery.id };
  }

  /**
   * The live code a start claimed for a channel switch, opened: the code to send again when it was
   * issued through `client`; else (another client's code, or sealed under another secret) the new
   * code replaces it, as a start that found no live code would have done.
   */
  private async openClaim(
    client: ClientConfig,
    key: string,
    claimed: ClaimedCode,
    newCode: PendingCode,
  ): Promise<{ code: string; codeId: string; expiresAt: number } | undefined> {
    const opened = this.sealer.open(key, claimed.codeId, claimed.sealed);
    if (opened?.clientId === client.client_id)
      return { code: opened.code, codeId: claimed.codeId, expiresAt: claimed.expiresAt };
    await this.codes.issue(key, newCode);
    return undefined;
  }

  /**
   * Refuses a phone past its consecutive-failure ceiling, before any code is issued or sent: `/start`
   * with 429 `too_many_requests`, the token endpoint with Auth0's 429 `too_many_attempts`; both say in
   * `Retry-After` when the failure window frees the phone.
   */
  private refuseLocked(
    connection: ConnectionConfig,
    client: ClientConfig,
    phone: string,
    window: FailureWindow,
    refusal: "ERR_PHONE_LOCKED" | "ERR_TOO_MANY_ATTEMPTS",
    request: RequestFacts,
  ): never {
    this.events.emit("code.failed", {
      connection: connection.name,
      client_id: client.client_id,
      phone_number: phone,
      reason: "ceiling",
      ...origin(request),
    });
    const retryAfter = Math.max(1, Math.ceil((window.resetAt - this.now()) / 1000));
    throw new TextlockError(refusal, { headers: { "retry-after": String(retryAfter) } });
  }

  /**
   * The failure ceiling, then count the attempt, compare in constant time, consume, and clear or add
   * to the phone's failure window: one atomic step of the protection layer (one Redis call), exactly
   * one concurrent winner. The hash binds the code to the client it was requested through, so
   * redeeming it as another client is a wrong code (and costs an attempt). A double submission of the
   * right code (the loser of a race, or a replay) is answered like a wrong code but is not a guess, so
   * it does not count towards the failure ceiling.
   */
  private async redeemCode(
    connection: ConnectionConfig,
    client: ClientConfig,
    key: string,
    phone: string,
    otp: string,
    request: RequestFacts,
  ): Promise<void> {
    const owner =
      testNumberCode(connection, phone) === undefined ? await this.providers.codeOwner(connection) : undefined;
    const { max, windowSeconds } = this.config.otp.failureCeiling;
    const redeemed = await this.protection.redeem({
      key,
      phone,
      hash: owner ? "" : hashCode(this.secret, { connection: connection.name, clientId: client.client_id, phone }, otp),
      ...(connection.options.brute_force_protection ? { bruteForce: { max, windowMs: windowSeconds * 1000 } } : {}),
      ...(owner ? { vendor: () => this.redeemVendorCode(connection, key, phone, otp) } : {}),
    });
    if ("locked" in redeemed)
      this.refuseLocked(connection, client, phone, redeemed.locked, "ERR_TOO_MANY_ATTEMPTS", request);
    const { result } = redeemed;
    if (result.status === "verified") {
      this.events.emit("code.verified", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        ...origin(request),
      });
      return;
    }
    this.events.emit("code.failed", {
      connection: connection.name,
      client_id: client.client_id,
      phone_number: phone,
      reason: result.status,
      ...origin(request),
    });
    throw new TextlockError(result.status === "exhausted" ? "ERR_MAX_ATTEMPTS" : "ERR_WRONG_CODE");
  }

  /**
   * A code the vendor checks (Twilio Verify): textlock charges the attempt first (its own cap, expiry
   * and single use apply before the vendor is asked), then asks the vendor, then consumes its record;
   * exactly one of concurrent right submissions wins. A code of the wrong form is a wrong code without
   * a vendor call. The vendor's own verdicts map to textlock's: its attempt cap kills the code, a
   * verification it no longer has is a wrong code.
   */
  private async redeemVendorCode(
    connection: ConnectionConfig,
    key: string,
    phone: string,
    otp: string,
  ): Promise<RedeemResult> {
    const charged = await this.codes.charge(key, this.now());
    if (charged.status !== "charged") return charged.status === "used" ? { status: "missing" } : charged;
    const wrong = { status: "wrong" as const, attempts: charged.attempts, maxAttempts: charged.maxAttempts };
    if (!/^[0-9]{4,10}$/.test(otp)) return wrong;
    const outcome = await this.providers.checkVerification(connection, { to: phone, code: otp });
    if (outcome === "exhausted") return { status: "exhausted" };
    if (outcome !== "approved") return wrong;
    return (await this.codes.consume(key, charged.codeId))
      ? { status: "verified", codeId: charged.codeId }
      : { status: "used" };
  }

  /** The user for a verified phone; sign-up runs the registration hooks unless sign-ups are disabled. */
  private async findOrCreateUser(
    connection: ConnectionConfig,
    client: ClientConfig,
    phone: string,
    hookContext: HookContext,
    request: RequestFacts,
  ): Promise<{ user: User; created: boolean }> {
    const existing = await this.users.findByPhone(connection.name, phone);
    if (existing) return { user: existing, created: false };
    const refused = (reason?: string) =>
      this.events.emit("signup.refused", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        ...(reason ? { reason } : {}),
        ...origin(request),
      });
    if (connection.options.disable_signup) {
      refused();
      throw new TextlockError("ERR_WRONG_CODE");
    }
    const pre = await this.hooks.preUserRegistration({ phone_number: phone, ...hookContext });
    if (pre.denied) {
      refused(pre.denied.userMessage ?? pre.denied.reason);
      throw new TextlockError("ERR_ACCESS_DENIED", { description: pre.denied.userMessage ?? pre.denied.reason });
    }
    const result = await this.users.create(connection.name, phone, {
      user_metadata: pre.user_metadata,
      app_metadata: pre.app_metadata,
      login: loginFacts(request, this.now()),
    });
    if (result.created) {
      this.events.emit("user.created", {
        user_id: result.user.user_id,
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        ...origin(request),
      });
      await this.hooks.postUserRegistration({ user: result.user, ...hookContext });
    }
    return result;
  }

  private composeMessage(
    client: ClientConfig,
    connection: ConnectionConfig,
    phone: string,
    code: string,
    language: string,
    channel: DeliveryChannel,
    request: RequestFacts,
  ): SmsMessage {
    const rendered = this.messages.render(connection, channel, {
      code,
      phone_number: phone,
      application: { name: client.name },
      request_language: language,
    });
    const body =
      channel === "sms"
        ? withAutofill(rendered, code, client.sms_autofill, this.config.issuer ?? request.host, this.logger)
        : rendered;
    return {
      to: phone,
      body,
      channel,
      ...(connection.options.from ? { from: connection.options.from } : {}),
      code,
      language,
      connection: connection.name,
      client: { client_id: client.client_id, name: client.name },
    };
  }

  /**
   * Delivers; on failure a new code is discarded, so a failed send never leaves a valid code (a code
   * sent again over another channel stays valid, as it was delivered before, and only the channel is
   * given back), and the quota is given back. With delivery receipts on, the message is recorded with
   * the code (with the connection's escalation plan when it is the code's first send) so its receipts
   * can find it.
   */
  private async deliver(
    connection: ConnectionConfig,
    key: string,
    code: { codeId: string; expiresAt: number },
    message: { to: string; channel: DeliveryChannel; language: string | null; client: { client_id: string } },
    send: () => Promise<Delivery>,
    request: RequestFacts,
    reservation: Reservation,
    onFailure: "discard" | "release",
  ): Promise<Delivery> {
    const { codeId } = code;
    try {
      const delivery = await send();
      await reservation.sent();
      if (this.config.delivery.receipts.enabled && delivery.id) {
        await this.deliveries.recordSend(
          key,
          code,
          { provider: delivery.provider, messageId: delivery.id, channel: message.channel, sentAt: this.now() },
          // A re-send of a live code (a channel switch, an escalation) keeps the plan the first send made.
          onFailure === "discard"
            ? this.tracker.planFor(connection, message.channel, message.client.client_id, message.language)
            : undefined,
        );
      }
      this.events.emit("code.sent", {
        connection: connection.name,
        client_id: message.client.client_id,
        phone_number: message.to,
        channel: message.channel,
        provider: delivery.provider,
        ...(delivery.id ? { message_id: delivery.id } : {}),
        ...origin(request),
      });
      return delivery;
    } catch (err) {
      if (onFailure === "discard") await this.codes.discard(key, codeId);
      else await this.codes.releaseChannel(key, codeId, message.channel);
      // A message that never left does not use up the person's quota; a refused number does.
      if (!isTextlockError(err) || err.code !== "ERR_PROVIDER_BAD_PHONE") await reservation.refund();
      this.events.emit("delivery.failed", {
        connection: connection.name,
        client_id: message.client.client_id,
        phone_number: message.to,
        reason: isTextlockError(err) ? err.code : "ERR_PROVIDER_FAILED",
        ...origin(request),
      });
      throw err;
    }
  }
}
