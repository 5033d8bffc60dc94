import { EventEmitter } from "node:events";

/**
 * Events emitted by a textlock instance, named `noun.past_verb`. Payloads never contain a code or a
 * secret. Listen with `textlock.events.on("code.sent", (e) => ...)`.
 */
export interface TextlockEventMap {
  "code.sent": [
    { connection: string; client_id: string; phone_number: string; channel: "sms" | "voice"; provider?: string },
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
  "user.created": [{ user_id: string; connection: string }];
  "user.logged_in": [{ user_id: string; connection: string; client_id: string }];
  "signup.refused": [{ connection: string; client_id: string }];
  "request.refused": [{ reason: string; endpoint?: string }];
}

export class TextlockEvents extends EventEmitter<TextlockEventMap> {}
