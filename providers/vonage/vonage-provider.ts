import { Auth } from "@vonage/auth";
import { Messages, WhatsAppCustom } from "@vonage/messages";
import { SMS, SMSFailure } from "@vonage/sms";
import {
  abortable,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  parseRetryAfter,
  type SmsMessage,
  type SmsProvider,
} from "../../core/plugin/index.js";
import { parseVonageReceipt, type VonageSignatureMethod } from "./receipts.js";

export interface VonageProviderOptions {
  apiKey: string;
  apiSecret: string;
  /** Sender number or alphanumeric id. */
  from: string;
  /** Another REST host (a test double); default `https://rest.nexmo.com`. */
  restHost?: string;
  timeoutMs?: number;
  /** The account's signature secret: status callbacks are accepted only when signed with it. */
  signatureSecret?: string;
  /** How the account signs SMS API receipts (dashboard setting). @default "md5hash" */
  signatureMethod?: VonageSignatureMethod;
  /** WhatsApp over the Messages API; without it the provider sends SMS only. */
  whatsapp?: VonageWhatsAppOptions;
}

export interface VonageWhatsAppOptions {
  /** WhatsApp Business number (digits; a leading `+` is dropped). */
  from: string;
  /** Approved authentication template: the code fills its body and its copy-code button. */
  template: string;
  /** Template language, e.g. `en`. */
  locale: string;
  /** With `privateKey`: the Messages API call carries an RS256 JWT instead of Basic `key:secret`. */
  applicationId?: string;
  privateKey?: string;
  /** Another API host (a test double); default `https://api.nexmo.com`. */
  apiHost?: string;
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
  const wa = options.whatsapp;
  const messages = wa
    ? new Messages(
        new Auth({
          apiKey: options.apiKey,
          apiSecret: options.apiSecret,
          ...(wa.applicationId && wa.privateKey ? { applicationId: wa.applicationId, privateKey: wa.privateKey } : {}),
        }),
        { ...(wa.apiHost ? { apiHost: wa.apiHost } : {}), timeout: options.timeoutMs ?? 10_000 },
      )
    : undefined;
  return defineSmsProvider({
    name: "vonage",
    channels: messages ? ["sms", "whatsapp"] : ["sms"],
    async send(message, ctx) {
      try {
        if (message.channel === "whatsapp") {
          if (!messages || !wa) throw new ProviderError("rejected", "vonage: WhatsApp is not configured");
          const sent = await abortable(messages.send(whatsappTemplate(message, wa)), ctx.signal);
          return { id: sent.messageUUID };
        }
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
    ...(options.signatureSecret
      ? {
          parseReceipt: (request: Parameters<typeof parseVonageReceipt>[3]) =>
            parseVonageReceipt(sms, options.signatureSecret!, options.signatureMethod ?? "md5hash", request),
        }
      : {}),
  });
}

/**
 * A WhatsApp authentication template as the Messages API takes it: `message_type: "custom"` (copy-code
 * and one-tap buttons cannot be sent as `template`), the code in the body and in the button's URL
 * parameter, numbers as digits only.
 */
export function whatsappTemplate(message: SmsMessage, wa: VonageWhatsAppOptions): WhatsAppCustom {
  const code = { type: "text", text: message.code };
  return new WhatsAppCustom({
    to: message.to.replace(/^\+/, ""),
    from: wa.from.replace(/^\+/, ""),
    custom: {
      type: "template",
      template: {
        name: wa.template,
        language: { policy: "deterministic", code: wa.locale },
        components: [
          { type: "body", parameters: [code] },
          { type: "button", sub_type: "url", index: "0", parameters: [code] },
        ],
      },
    },
  });
}

/**
 * Maps the SDK's errors to provider errors: a failed per-message status (inside HTTP 200) by its
 * status code, an HTTP failure (the SDK's VetchError, which keeps the fetch Response) by its HTTP
 * status and Retry-After. Messages are for the operator log; callers get a generic description.
 */
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
    const detail = { vendorCode: status, httpStatus: 200, cause: err };
    if (BAD_NUMBER.has(status)) return new ProviderError("bad_phone", text, detail);
    if (TRANSIENT.has(status)) return new ProviderError("transient", text, detail);
    return new ProviderError("rejected", text, detail);
  }
  const response = (err as { response?: { status?: number; headers?: { get?(name: string): string | null } } })
    ?.response;
  const status = response?.status;
  const retryAfter = parseRetryAfter(response?.headers?.get?.("retry-after"));
  if (typeof status === "number" && status < 500 && status !== 429)
    return new ProviderError("rejected", `Vonage answered ${status}`, {
      vendorCode: status,
      httpStatus: status,
      cause: err,
    });
  return new ProviderError(
    "transient",
    typeof status === "number" ? `Vonage answered ${status}` : "Vonage could not be reached",
    { ...(typeof status === "number" ? { vendorCode: status } : {}), httpStatus: status, retryAfter, cause: err },
  );
}
