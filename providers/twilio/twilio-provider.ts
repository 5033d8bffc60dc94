import twilio from "twilio";
import {
  abortable,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  type ReceiptRequest,
  type ReceiptVerdict,
  type SmsMessage,
  type SmsProvider,
  type VendorReceipt,
} from "../../core/plugin/index.js";
import { HeaderKeepingRequestClient } from "./request-client.js";

export interface TwilioProviderOptions {
  accountSid: string;
  authToken: string;
  /** Sender number; or use `messagingServiceSid`. */
  from?: string;
  messagingServiceSid?: string;
  /** Send the requests to another base URL (a test double); vendor behaviour is otherwise unchanged. */
  apiBaseUrl?: string;
  /** Per-request timeout of the SDK's HTTP client, ms. */
  timeoutMs?: number;
  /** WhatsApp sender (E.164, with or without `whatsapp:`); defaults to `from`, else the Messaging Service. */
  whatsappFrom?: string;
  /** Content SID (HX…) of the approved authentication template that carries the code as variable `1`. */
  whatsappContentSid?: string;
}

/** Twilio error codes about the number itself: refused for good, never retried (Lock reads 21211 as a bad number). */
const BAD_NUMBER_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614]);

/**
 * Twilio on the real `twilio` SDK: SMS from a number or a Messaging Service, voice through a TwiML
 * `<Say>` in the request language that reads the code digit by digit, and WhatsApp (when a content
 * template is configured) from `whatsapp:` addresses with the code as the template's variable `1`
 * (WhatsApp only delivers business-initiated messages as approved templates).
 */
export function createTwilioProvider(options: TwilioProviderOptions): SmsProvider {
  if (!options.from && !options.messagingServiceSid)
    throw new TypeError("twilio provider: set `from` or `messaging_service_sid`");
  const httpClient = new HeaderKeepingRequestClient(options.timeoutMs ?? 10_000, options.apiBaseUrl);
  const client = twilio(options.accountSid, options.authToken, { httpClient, timeout: options.timeoutMs ?? 10_000 });
  return defineSmsProvider({
    name: "twilio",
    channels: options.whatsappContentSid ? ["sms", "voice", "whatsapp"] : ["sms", "voice"],
    async send(message, ctx) {
      try {
        if (message.channel === "whatsapp") {
          const wa = await abortable(client.messages.create(whatsappRequest(message, options)), ctx.signal);
          return { id: wa.sid };
        }
        const sender =
          options.messagingServiceSid && message.channel === "sms"
            ? { messagingServiceSid: options.messagingServiceSid }
            : { from: message.from ?? options.from! };
        const callback = ctx.statusCallback ? { statusCallback: ctx.statusCallback } : {};
        if (message.channel === "voice") {
          const call = await abortable(
            client.calls.create({
              to: message.to,
              from: message.from ?? options.from!,
              twiml: voiceTwiml(message),
              ...callback,
            }),
            ctx.signal,
          );
          return { id: call.sid };
        }
        const sms = await abortable(
          client.messages.create({ to: message.to, body: message.body, ...sender, ...callback }),
          ctx.signal,
        );
        return { id: sms.sid };
      } catch (err) {
        throw mapTwilioError(err);
      }
    },
    parseReceipt: (request) => parseTwilioReceipt(options.authToken, request),
  });
}

/** Twilio message statuses (SDK enum) as textlock's; statuses of inbound messages are not receipts. */
const MESSAGE_STATUS: Record<string, VendorReceipt["status"]> = {
  accepted: "queued",
  scheduled: "queued",
  queued: "queued",
  sending: "queued",
  sent: "sent",
  delivered: "delivered",
  read: "delivered",
  partially_delivered: "delivered",
  undelivered: "undelivered",
  failed: "failed",
  canceled: "failed",
};
/** Call statuses: an answered call that ended is delivered; busy and no answer are undelivered. */
const CALL_STATUS: Record<string, VendorReceipt["status"]> = {
  queued: "queued",
  initiated: "queued",
  ringing: "sent",
  "in-progress": "sent",
  completed: "delivered",
  busy: "undelivered",
  "no-answer": "undelivered",
  failed: "failed",
  canceled: "failed",
};

/**
 * A Twilio status callback, authenticated with the SDK's `validateRequest`: `X-Twilio-Signature` is
 * the HMAC-SHA1 of the public URL Twilio called and every field it posted (Twilio adds fields without
 * notice, so all of them are signed and checked), keyed with the account's auth token.
 */
export function parseTwilioReceipt(authToken: string, request: ReceiptRequest): ReceiptVerdict {
  const signature = request.headers["x-twilio-signature"];
  if (!signature) return { ok: false, reason: "unsigned" };
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.params)) params[k] = typeof v === "string" ? v : String(v);
  if (!twilio.validateRequest(authToken, signature, request.url, params)) return { ok: false, reason: "forged" };
  const call = params.CallSid !== undefined && params.CallStatus !== undefined && params.MessageSid === undefined;
  const id = call ? params.CallSid : (params.MessageSid ?? params.SmsSid);
  const vendorStatus = call ? params.CallStatus : (params.MessageStatus ?? params.SmsStatus);
  const status = vendorStatus === undefined ? undefined : (call ? CALL_STATUS : MESSAGE_STATUS)[vendorStatus];
  if (!id || !vendorStatus || !status) return { ok: true, receipts: [] };
  return {
    ok: true,
    receipts: [{ messageId: id, status, vendorStatus, ...(params.ErrorCode ? { errorCode: params.ErrorCode } : {}) }],
  };
}

/**
 * The Messages API request of a WhatsApp code: `whatsapp:` addresses, the content template and its
 * variables as a JSON string (`{"1":"<code>"}`), no `Body` (a template sent as a body is refused).
 */
export function whatsappRequest(
  message: SmsMessage,
  options: TwilioProviderOptions,
): { to: string; contentSid: string; contentVariables: string; from?: string; messagingServiceSid?: string } {
  if (!options.whatsappContentSid) throw new ProviderError("rejected", "twilio: no WhatsApp content template is set");
  const address = (n: string) => (n.startsWith("whatsapp:") ? n : `whatsapp:${n}`);
  const from = options.whatsappFrom ?? (message.from?.startsWith("+") ? message.from : undefined) ?? options.from;
  const sender =
    from || !options.messagingServiceSid
      ? { from: address(from ?? "") }
      : { messagingServiceSid: options.messagingServiceSid };
  return {
    to: address(message.to),
    ...sender,
    contentSid: options.whatsappContentSid,
    contentVariables: JSON.stringify({ 1: message.code }),
  };
}

/** TwiML that says the message twice, with the code's digits spaced so they are read one by one. */
export function voiceTwiml(message: SmsMessage): string {
  const spoken = message.body.replace(message.code, message.code.split("").join(", "));
  const response = new twilio.twiml.VoiceResponse();
  const language = sayLanguage(message.language);
  for (let i = 0; i < 2; i++) response.say({ language } as never, spoken);
  return response.toString();
}

function sayLanguage(header: string | null): string {
  const tag = header?.split(",")[0]?.split(";")[0]?.trim();
  return tag && /^[a-z]{2}(-[A-Za-z]{2})?$/.test(tag) ? tag : "en-US";
}

/**
 * Maps the SDK's errors to provider errors. The message keeps Twilio's "<message> (Code: <code>)" for
 * the operator log (the caller gets a generic description); HTTP status and Retry-After ride along.
 */
export function mapTwilioError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  const e = err as { status?: number; code?: number | string; message?: string; retryAfter?: number };
  const retryAfter = typeof e?.retryAfter === "number" ? e.retryAfter : undefined;
  if (typeof e?.status === "number" && e.code !== undefined && typeof e.code === "number") {
    const text = `${e.message ?? "Twilio error"} (Code: ${e.code})`;
    const detail = { vendorCode: e.code, httpStatus: e.status, retryAfter, cause: err };
    if (BAD_NUMBER_CODES.has(e.code)) return new ProviderError("bad_phone", text, detail);
    if (e.status === 429 || e.status >= 500) return new ProviderError("transient", text, detail);
    return new ProviderError("rejected", text, detail);
  }
  const status = (err as { status?: number })?.status ?? (err as { response?: { status?: number } })?.response?.status;
  if (typeof status === "number" && status < 500 && status !== 429) {
    return new ProviderError("rejected", `Twilio answered ${status}`, {
      vendorCode: status,
      httpStatus: status,
      cause: err,
    });
  }
  return new ProviderError("transient", "Twilio could not be reached", {
    httpStatus: status,
    retryAfter,
    cause: err,
  });
}
