import type { DeliveryChannel, SendContext, SendResult } from "./sms-provider.js";

/** A code the vendor is asked to make and send (it never passes through textlock). */
export interface VerificationRequest {
  /** Recipient in E.164 form. */
  to: string;
  channel: DeliveryChannel;
  /** The resolved request language (raw header value), or null. */
  language: string | null;
  /** Digits in the code (the connection's `totp.length`). */
  codeLength: number;
  connection: string;
  client: { client_id: string; name: string };
}

/**
 * The vendor's answer to a code check, mapped at the provider boundary:
 * - `approved`: the code is right (the vendor has now used it up);
 * - `wrong`: the code is wrong (or not a code at all: Verify's 60200 on `Code`);
 * - `exhausted`: the vendor's own attempt cap is reached (Verify 60202);
 * - `gone`: the vendor no longer has a pending verification for the number (expired, approved or
 *   maxed out; Verify 20404).
 */
export type VerificationOutcome = "approved" | "wrong" | "exhausted" | "gone";

/**
 * A provider kind whose vendor generates, sends and checks the code (Twilio Verify). The engine keeps
 * its own record of the code all the same (no hash, since it never sees the code), so textlock's
 * attempt cap, expiry, single use and per-phone limits apply before the vendor is asked.
 */
export interface CodeVerification {
  /** Asks the vendor to send a code; returns its verification id. Errors: a {@link ProviderError}. */
  start(request: VerificationRequest, ctx: SendContext): Promise<SendResult>;
  /** Asks the vendor whether `code` is the number's pending code. Outages throw a {@link ProviderError}. */
  check(
    request: { to: string; code: string; verificationId?: string },
    ctx: Pick<SendContext, "signal" | "options">,
  ): Promise<VerificationOutcome>;
}
