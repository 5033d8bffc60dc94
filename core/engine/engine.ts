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
import type { OtpStore, RedeemResult } from "../otp/otp-store.js";
import { CodeSealer } from "../otp/seal-code.js";
import type { BotCheck } from "../protection/bot-check.js";
import type { Protection, Reservation } from "../protection/protection.js";
import type { Delivery, ProviderRegistry } from "../providers/provider-registry.js";
import type { DeliveryChannel, SmsMessage } from "../providers/sms-provider.js";
import type { PreSendRisk } from "../risk/pre-send-risk.js";
import type { User, UserStore } from "../users/user-store.js";
import { requestedChannel, requireAllowedChannel } from "./channels.js";
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
    await this.checkFailureCeiling(connection, key, client, phone, "ERR_PHONE_LOCKED");
    const reservation =
      testCode === undefined
        ? await this.protection.reserve({
            ip: request.ip,
            phone,
            connection: connection.name,
            client: client.client_id,
          })
        : undefined;
    // After the send limits, so a flood cannot run up billed lookups; a refusal keeps the quota used.
    // A test number is never sent, so it is never looked up either.
    if (testCode === undefined) await this.risk.check({ client, connection, request, phone, channel });
    const language = resolveRequestLanguage(
      request.xRequestLanguage,
      request.acceptLanguage,
      connection.options.default_language,
    );
    const result = { _id: randomHexId(), phone_number: phone, phone_verified: false, request_language: language };

    // A provider that owns the code (Twilio Verify) makes and checks it; textlock keeps a record with
    // no hash (it never sees the code) for its own attempt cap, expiry and single use.
    const owner = testCode === undefined ? await this.providers.codeOwner(connection) : undefined;
    // A switch to a channel the live code was not sent over sends that same code again: no new code and
    // no new guessing budget (its attempts carry over). The send limits above were charged all the same.
    const live = reservation && !owner ? await this.claimLiveCode(client, key, channel) : undefined;
    const code = owner ? "" : (live?.code ?? testCode ?? generateCode(connection.options.totp.length));
    const codeId = live?.codeId ?? randomId();
    const expiresAt = live?.expiresAt ?? this.now() + connection.options.totp.time_step * 1000;
    if (!live) {
      await this.codes.issue(key, {
        codeId,
        hash: owner
          ? randomBytes(32).toString("base64url")
          : hashCode(this.secret, { connection: connection.name, clientId: client.client_id, phone }, code),
        expiresAt,
        maxAttempts: this.config.otp.maxAttempts,
        ...(testCode === undefined && !owner
          ? { sealed: this.sealer.seal(key, codeId, { code, clientId: client.client_id }), channel }
          : {}),
      });
    }
    if (!reservation) {
      this.logger.info({ connection: connection.name, phone_number: phone }, "code issued to a test number (not sent)");
      this.events.emit("code.sent", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        channel,
        provider: TEST_NUMBER_PROVIDER,
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
      this.deliver(connection, key, { codeId, expiresAt }, sent, send, reservation, live ? "release" : "discard");
    if (connection.options.disable_signup) {
      // Sign-ups disabled: unknown and blocked numbers keep the (never sent) code above, so attempts,
      // answers and lockouts look the same as for real users; delivery runs after the response for
      // every number, so timing does not tell which numbers exist either.
      void this.users
        .findByPhone(connection.name, phone)
        .then(async (user) => {
          if (user && !user.blocked) await deliver();
          else this.events.emit("signup.refused", { connection: connection.name, client_id: client.client_id });
        })
        .catch((err) => this.logger.warn({ err: { code: (err as TextlockError).code } }, "background delivery failed"));
    } else {
      const user = await this.users.findByPhone(connection.name, phone);
      if (!user?.blocked) await deliver();
    }
    return result;
  }

  /** The passwordless OTP grant: count, compare, consume, then find or create the user. */
  async verify(input: VerifyInput, request: RequestFacts = {}): Promise<VerifyResult> {
    const client = resolveClient(this.config, requireParam("client_id", input.client_id));
    authenticateClient(client, input.client_secret);
    return this.verifyForClient(client, input, request);
  }

  /**
   * The OTP grant for a client textlock itself vouches for, so client authentication is skipped: the
   * hosted page and `/co/authenticate` run in the person's browser, which never holds the client's
   * secret. Every other step of {@link verify} runs unchanged. Never reach this with a client taken
   * from unauthenticated input without checking it another way first (origin, redirect_uri).
   */
  async verifyForClient(
    client: ClientConfig,
    input: ClientVerifyInput,
    request: RequestFacts = {},
  ): Promise<VerifyResult> {
    checkOtpGrant(client);
    const connection = resolveRealm(this.config, client, input.realm);
    const phone = requireParam("username", input.username);
    const otp = requireParam("otp", input.otp);
    const key = otpKey(connection, phone);
    await this.checkFailureCeiling(connection, key, client, phone, "ERR_TOO_MANY_ATTEMPTS");

    await this.redeemCode(connection, client, key, phone, otp);

    const hookContext: HookContext = { client, connection, request, scope: input.scope, audience: input.audience };
    const { user, created } = await this.findOrCreateUser(connection, client, phone, hookContext);
    if (user.blocked) throw new TextlockError("ERR_USER_BLOCKED");
    const loggedIn = await this.users.recordLogin(user.user_id, { ip: request.ip, at: new Date(this.now()) });
    const postLogin = await this.hooks.postLogin({ ...hookContext, user: loggedIn });
    if (postLogin.denied) throw new TextlockError("ERR_ACCESS_DENIED", { description: postLogin.denied.reason });
    const finalUser =
      postLogin.user_metadata || postLogin.app_metadata
        ? await this.users.update(user.user_id, {
            user_metadata: postLogin.user_metadata,
            app_metadata: postLogin.app_metadata,
          })
        : loggedIn;
    this.events.emit("user.logged_in", {
      user_id: user.user_id,
      connection: connection.name,
      client_id: client.client_id,
    });
    return {
      user: finalUser,
      created,
      client,
      connection,
      claims: { idToken: postLogin.idTokenClaims, accessToken: postLogin.accessTokenClaims },
      scope: input.scope,
      audience: input.audience,
    };
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
      reservation = await this.protection.reserve({
        ip: request.ip,
        phone,
        connection: connection.name,
        client: client.client_id,
      });
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
      reservation,
      "release",
    );
    return { status: "sent", channel, provider: delivery.provider, message_id: delivery.id };
  }

  /**
   * Claims `channel` for the live code of `key` when it was issued through `client`: the code to send
   * again, or undefined (no live code, already sent over `channel`, or another client's code).
   */
  private async claimLiveCode(
    client: ClientConfig,
    key: string,
    channel: DeliveryChannel,
  ): Promise<{ code: string; codeId: string; expiresAt: number } | undefined> {
    const claim = await this.codes.claimChannel(key, channel, this.now());
    if (claim.status !== "claimed") return undefined;
    const opened = this.sealer.open(key, claim.codeId, claim.sealed);
    if (opened?.clientId === client.client_id)
      return { code: opened.code, codeId: claim.codeId, expiresAt: claim.expiresAt };
    await this.codes.releaseChannel(key, claim.codeId, channel);
    return undefined;
  }

  /**
   * Refuses a phone past its consecutive-failure ceiling, before any code is issued or sent: `/start`
   * with 429 `too_many_requests`, the token endpoint with Auth0's 429 `too_many_attempts`; both say in
   * `Retry-After` when the failure window frees the phone.
   */
  private async checkFailureCeiling(
    connection: ConnectionConfig,
    key: string,
    client: ClientConfig,
    phone: string,
    refusal: "ERR_PHONE_LOCKED" | "ERR_TOO_MANY_ATTEMPTS",
  ): Promise<void> {
    if (!connection.options.brute_force_protection) return;
    const now = this.now();
    const window = await this.codes.failureWindow(key, now);
    if (window.count >= this.config.otp.failureCeiling.max) {
      this.events.emit("code.failed", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
        reason: "ceiling",
      });
      const retryAfter = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
      throw new TextlockError(refusal, { headers: { "retry-after": String(retryAfter) } });
    }
  }

  /**
   * Count the attempt, compare in constant time, consume: one atomic store step, exactly one concurrent
   * winner. The hash binds the code to the client it was requested through, so redeeming it as another
   * client is a wrong code (and costs an attempt).
   */
  private async redeemCode(
    connection: ConnectionConfig,
    client: ClientConfig,
    key: string,
    phone: string,
    otp: string,
  ): Promise<void> {
    const owner =
      testNumberCode(connection, phone) === undefined ? await this.providers.codeOwner(connection) : undefined;
    const result = owner
      ? await this.redeemVendorCode(connection, key, phone, otp)
      : await this.codes.redeem(
          key,
          hashCode(this.secret, { connection: connection.name, clientId: client.client_id, phone }, otp),
          this.now(),
        );
    if (result.status === "verified") {
      await this.codes.clearFailures(key);
      await this.protection.recordVerified(phone);
      this.events.emit("code.verified", {
        connection: connection.name,
        client_id: client.client_id,
        phone_number: phone,
      });
      return;
    }
    // A double submission of the right code (the loser of a race, or a replay): answered like a wrong
    // code, but it is not a guess, so it is not counted towards the failure ceiling.
    if (result.status !== "used" && connection.options.brute_force_protection) {
      await this.codes.recordFailure(key, this.config.otp.failureCeiling.windowSeconds * 1000, this.now());
    }
    this.events.emit("code.failed", {
      connection: connection.name,
      client_id: client.client_id,
      phone_number: phone,
      reason: result.status,
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
  ): Promise<{ user: User; created: boolean }> {
    const existing = await this.users.findByPhone(connection.name, phone);
    if (existing) return { user: existing, created: false };
    if (connection.options.disable_signup) {
      this.events.emit("signup.refused", { connection: connection.name, client_id: client.client_id });
      throw new TextlockError("ERR_WRONG_CODE");
    }
    const pre = await this.hooks.preUserRegistration({ ...hookContext, phone_number: phone });
    if (pre.denied)
      throw new TextlockError("ERR_ACCESS_DENIED", { description: pre.denied.userMessage ?? pre.denied.reason });
    const result = await this.users.create(connection.name, phone, {
      user_metadata: pre.user_metadata,
      app_metadata: pre.app_metadata,
    });
    if (result.created) {
      this.events.emit("user.created", { user_id: result.user.user_id, connection: connection.name });
      await this.hooks.postUserRegistration({ ...hookContext, user: result.user });
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
    reservation: Reservation,
    onFailure: "discard" | "release",
  ): Promise<Delivery> {
    const { codeId } = code;
    try {
      const delivery = await send();
      await this.protection.recordSent(message.to);
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
      });
      throw err;
    }
  }
}
