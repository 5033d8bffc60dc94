import { EventEmitter } from "node:events";

/**
 * Events emitted by a textlock instance, named `noun.past_verb`. Payloads never contain a code or a
 * secret. Listen with `textlock.events.on("code.sent", (e) => ...)`.
 */
export interface TextlockEventMap {
  "code.sent": [
    {
      connection: string;
      client_id: string;
      phone_number: string;
      channel: "sms" | "voice" | "whatsapp";
      provider?: string;
      /** The vendor's message (or verification) id, when the provider returned one. */
      message_id?: string;
    } & RequestOrigin,
  ];
  "code.failed": [
    {
      connection: string;
      client_id: string;
      phone_number: string;
      reason: "wrong" | "expired" | "missing" | "used" | "exhausted" | "ceiling";
    } & RequestOrigin,
  ];
  "code.verified": [{ connection: string; client_id: string; phone_number: string } & RequestOrigin];
  "delivery.failed": [{ connection: string; client_id: string; phone_number: string; reason: string } & RequestOrigin];
  /**
   * A delivery receipt moved a message of a code forward (`queued → sent → delivered | failed |
   * undelivered`). `seconds` is the time from the send to `delivered`.
   */
  "delivery.updated": [
    {
      connection: string;
      phone_number: string;
      provider: string;
      channel: string;
      message_id: string;
      status: "queued" | "sent" | "delivered" | "failed" | "undelivered";
      previous: "queued" | "sent" | "delivered" | "failed" | "undelivered";
      seconds?: number;
    },
  ];
  /** The same code was re-sent over the next channel of the connection's escalation list. */
  "delivery.escalated": [
    {
      connection: string;
      client_id: string;
      phone_number: string;
      channel: string;
      reason: "timeout" | "failed" | "undelivered";
    },
  ];
  /** A status callback was refused: no signature (`unsigned`) or one that does not verify (`forged`). */
  "receipt.refused": [{ provider: string; connection: string; reason: "unsigned" | "forged" }];
  "user.created": [{ user_id: string; connection: string; client_id?: string; phone_number?: string } & RequestOrigin];
  "user.logged_in": [
    {
      user_id: string;
      connection: string;
      client_id: string;
      phone_number?: string;
      logins_count?: number;
    } & RequestOrigin,
  ];
  /**
   * A verified code did not end in a login: the user is blocked, or a post-login or pre-registration
   * hook denied it (Auth0's `f`). `reason` is the description sent to the client.
   */
  "login.failed": [
    { connection: string; client_id: string; phone_number: string; user_id?: string; reason: string } & RequestOrigin,
  ];
  /** A sign-up was refused: sign-ups disabled, or a pre-registration hook denied it (`reason`). */
  "signup.refused": [{ connection: string; client_id: string; phone_number?: string; reason?: string } & RequestOrigin];
  /** An already rotated refresh token was used again: its whole family was revoked (Auth0's `ferrt`). */
  "refresh_token.reused": [{ user_id: string; client_id: string } & RequestOrigin];
  /** A hosted-page or login-ticket login started a login session (SSO cookie). */
  "session.started": [{ user_id: string; client_id: string; connection: string; sid: string }];
  /** `/authorize` answered from a live session without showing the page (`prompt=none` included: Auth0's `ssa`). */
  "session.used": [{ user_id: string; client_id: string; sid: string; silent: boolean }];
  /** `prompt=none` found no usable session and answered `login_required` (Auth0's `fsa`). */
  "session.missing": [{ client_id: string }];
  /** Logout ended sessions (Auth0's `slo`). */
  "session.ended": [{ sids: number; client_id?: string; user_id?: string }];
  "request.refused": [{ reason: string; endpoint?: string } & RequestOrigin];
  /** A `client_credentials` grant issued an access token (Auth0's `seccft`). */
  "client_credentials.granted": [
    { client_id: string; audience: string; scope: string; ip?: string; user_agent?: string; hostname?: string },
  ];
  /** A `client_credentials` grant was refused (Auth0's `feccft`); `error`/`description` are what the caller got. */
  "client_credentials.failed": [
    {
      client_id?: string;
      audience?: string;
      scope?: string;
      error: string;
      description: string;
      ip?: string;
      user_agent?: string;
      hostname?: string;
    },
  ];
  /**
   * A Management API request was answered (`/api/v2/*`; Auth0 logs writes as `sapi`). `client_id` is
   * the caller's when its token was valid; `body` is the request body of a write (never a secret).
   */
  "management.called": [
    {
      method: string;
      path: string;
      query: Record<string, string>;
      status: number;
      client_id?: string;
      scope?: string;
      body?: Record<string, unknown>;
      ip?: string;
      user_agent?: string;
      hostname?: string;
    },
  ];
  /** A user's profile was changed through the Management API or `textlock.users.update`. */
  "user.updated": [{ user_id: string; connection: string; fields: string[] }];
  /** A user was blocked (`blocked: true`); their refresh tokens were revoked. */
  "user.blocked": [{ user_id: string; connection: string }];
  /** A user was unblocked. */
  "user.unblocked": [{ user_id: string; connection: string }];
  /** A user was deleted (Auth0's `sdu`), with their refresh tokens and sessions. */
  "user.deleted": [{ user_id: string; connection: string; phone_number: string }];
  /**
   * A number prefix or country's codes are rarely verified: quarantined (`enforce`) or only reported
   * (`monitor`) until `until` (ISO time) at least. `ratio` is verified / sent over the window.
   */
  "pumping.detected": [
    {
      scope: "prefix" | "country";
      prefix?: string;
      country?: string;
      ratio: number;
      sent: number;
      verified: number;
      mode: "enforce" | "monitor";
      until: string;
    },
  ];
  /** A quarantine ended: the window no longer shows pumping (reported by the first start after it). */
  "pumping.cleared": [
    { scope: "prefix" | "country"; prefix?: string; country?: string; ratio: number; sent: number; verified: number },
  ];
  /** A money budget reached one of `protection.budgets.alertAt` (once per threshold, budget and UTC day). */
  "budget.threshold": [
    {
      scope: "total" | "country" | "client";
      country?: string;
      client_id?: string;
      threshold: number;
      spent: number;
      limit: number;
      currency: string;
      day: string;
    },
  ];
}

/** Where the request behind an event came from (absent for in-process calls without request facts). */
export interface RequestOrigin {
  ip?: string;
  user_agent?: string;
  /** The public host the request was sent to. */
  hostname?: string;
}

export class TextlockEvents extends EventEmitter<TextlockEventMap> {}
