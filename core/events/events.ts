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
    },
  ];
  "code.failed": [
    {
      connection: string;
      client_id: string;
      phone_number: string;
      reason: "wrong" | "expired" | "missing" | "used" | "exhausted" | "ceiling";
    },
  ];
  "code.verified": [{ connection: string; client_id: string; phone_number: string }];
  "delivery.failed": [{ connection: string; client_id: string; phone_number: string; reason: string }];
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
  "user.created": [{ user_id: string; connection: string }];
  "user.logged_in": [{ user_id: string; connection: string; client_id: string }];
  "signup.refused": [{ connection: string; client_id: string }];
  /** An already rotated refresh token was used again: its whole family was revoked (Auth0's `ferrt`). */
  "refresh_token.reused": [{ user_id: string; client_id: string }];
  /** A hosted-page or login-ticket login started a login session (SSO cookie). */
  "session.started": [{ user_id: string; client_id: string; connection: string; sid: string }];
  /** `/authorize` answered from a live session without showing the page (`prompt=none` included: Auth0's `ssa`). */
  "session.used": [{ user_id: string; client_id: string; sid: string; silent: boolean }];
  /** `prompt=none` found no usable session and answered `login_required` (Auth0's `fsa`). */
  "session.missing": [{ client_id: string }];
  /** Logout ended sessions (Auth0's `slo`). */
  "session.ended": [{ sids: number; client_id?: string; user_id?: string }];
  "request.refused": [{ reason: string; endpoint?: string }];
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

export class TextlockEvents extends EventEmitter<TextlockEventMap> {}
