import { Auth } from "@vonage/auth";
import { SMS, SMSFailure } from "@vonage/sms";
import {
  abortable,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  type SmsProvider,
} from "../../core/plugin/index.js";

export interface VonageProviderOptions {
  apiKey: string;
  apiSecret: string;
  /** Sender number or alphanumeric id. */
  from: string;
  /** Another REST host (a test double); default `https://rest.nexmo.com`. */
  restHost?: string;
  timeoutMs?: number;
}

/** Vonage statuses that are about the number: 3 invalid to, 6 unroutable, 7 barred, 29 non-whitelisted. */
const BAD_NUMBER = new Set(["3", "6", "7", "29"]);
/** Statuses worth retrying: 1 throttled, 5 internal error. */
const TRANSIENT = new Set(["1", "5"]);

/**
 * Vonage SMS on the real `@vonage/sms` SDK. The API answers HTTP 200 with a per-message `status`:
 * anything but "0" is a failure, which the SDK raises as an `SMSFailure`.
 */
export function createVonageProvider(options: VonageProviderOptions): SmsProvider {
  const sms = new SMS(new Auth({ apiKey: options.apiKey, apiSecret: options.apiSecret }), {
    ...(options.restHost ? { restHost: options.restHost } : {}),
    timeout: options.timeoutMs ?? 10_000,
  });
  return defineSmsProvider({
    name: "vonage",
    channels: ["sms"],
    async send(message, ctx) {
      try {
        const result = await abortable(
          sms.send({ to: message.to.replace(/^\+/, ""), from: message.from ?? options.from, text: message.body }),
          ctx.signal,
        );
        const first = result.messages[0] as { messageId?: string; "message-id"?: string } | undefined;
        return { id: String(first?.messageId ?? first?.["message-id"] ?? "") };
      } catch (err) {
        throw mapVonageError(err);
      }
    },
  });
}

export function mapVonageError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  if (err instanceof SMSFailure) {
    const failed = (err.getFailedMessages?.() ?? []) as Array<{
      status?: string;
      "error-text"?: string;
      errorText?: string;
    }>;
    const status = String(failed[0]?.status ?? "");
    const text = `${failed[0]?.["error-text"] ?? failed[0]?.errorText ?? "Vonage refused the message"} (Code: ${status})`;
    if (BAD_NUMBER.has(status)) return new ProviderError("bad_phone", text, { vendorCode: status, cause: err });
    if (TRANSIENT.has(status)) return new ProviderError("transient", text, { vendorCode: status, cause: err });
    return new ProviderError("rejected", text, { vendorCode: status, cause: err });
  }
  const status = (err as { response?: { status?: number } })?.response?.status;
  if (typeof status === "number" && status < 500 && status !== 429)
    return new ProviderError("rejected", `Vonage answered ${status}`, { vendorCode: status, cause: err });
  return new ProviderError("transient", "Vonage could not be reached", { cause: err });
}
