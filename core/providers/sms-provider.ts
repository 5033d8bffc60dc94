import { brand, hasBrand } from "../errors/brand.js";
import type { ReceiptRequest, ReceiptVerdict } from "./receipts.js";
import type { CodeVerification } from "./verification.js";

/** How a message reaches the phone: a text message, a voice call, or a WhatsApp message. */
export type DeliveryChannel = "sms" | "voice" | "whatsapp";

/** Every delivery channel textlock knows, in its default escalation order. */
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = ["sms", "whatsapp", "voice"];

/** True for a known {@link DeliveryChannel}. */
export function isDeliveryChannel(value: unknown): value is DeliveryChannel {
  return value === "sms" || value === "voice" || value === "whatsapp";
}

/** The message a provider must deliver. Plain data: providers never see textlock internals. */
export interface SmsMessage {
  /** Recipient in E.164 form, e.g. `+14155550100`. */
  to: string;
  /** The rendered text (for voice, the text to speak; for WhatsApp, the text a template-less send would carry). */
  body: string;
  channel: DeliveryChannel;
  /** Sender number or alphanumeric id from the connection (`options.from`), if any. */
  from?: string;
  /** The one-time code. Providers may need it (voice spelling, Actions `event.notification.code`); never log it. */
  code: string;
  /** The resolved request language (raw header value, e.g. `fr-FR,fr;q=0.9`), or null. */
  language: string | null;
  /** Name of the connection the code belongs to. */
  connection: string;
  /** The client the login is for. */
  client: { client_id: string; name: string };
}

/** Per-send context: cancellation and request facts a provider may forward. */
export interface SendContext {
  /** Aborted when the delivery deadline passes; providers should pass it to their HTTP calls. */
  signal: AbortSignal;
  /** The provider's own options, as its descriptor validated them (never another provider's). */
  options: Readonly<Record<string, unknown>>;
  /** Facts about the request that asked for the code. */
  request: { ip?: string; userAgent?: string; language: string | null };
  /**
   * Where the vendor should post status callbacks for this message (Twilio `StatusCallback`, a
   * Messages API `webhook_url`), when delivery receipts are on; see {@link SmsProvider.parseReceipt}.
   */
  statusCallback?: string;
}

/** What a provider returns when the vendor accepted the message. */
export interface SendResult {
  /** The vendor's message id (Twilio SID, Vonage message-id...). */
  id: string;
}

/**
 * A delivery provider. Build one with {@link defineSmsProvider}. Vendor errors must be mapped at this
 * boundary to a {@link ProviderError} so the delivery policy knows whether to retry.
 */
export interface SmsProvider {
  /** Unique name, used in config (`options.provider`) and logs. */
  readonly name: string;
  /** Channels this provider can deliver; defaults to `["sms"]`. */
  readonly channels?: readonly DeliveryChannel[];
  send(message: SmsMessage, ctx: SendContext): Promise<SendResult>;
  /**
   * Authenticates and reads a vendor status callback (delivery receipt) with the vendor's own check
   * (Twilio's `X-Twilio-Signature`, a Vonage signed-webhook JWT). Providers without it get no
   * receipts: their callback route answers 404.
   */
  parseReceipt?(request: ReceiptRequest): ReceiptVerdict | Promise<ReceiptVerdict>;
  /**
   * Present on providers whose vendor makes and checks the code itself (Twilio Verify): textlock then
   * sends no message of its own and asks the vendor to check the code, still applying its own attempt
   * cap, expiry, single use and per-phone limits.
   */
  verification?: CodeVerification;
  /** Releases sockets or timers; called by `textlock.close()`. */
  close?(): Promise<void> | void;
}

/**
 * Why a send failed:
 * - `bad_phone`: the vendor refused the number (invalid, unreachable, opted out). Not retried.
 * - `rejected`: the vendor refused the request for another lasting reason (auth, config). Not retried.
 * - `transient`: throttled, 5xx, timeout, network. Retried within the deadline, then failover.
 * - `limited`: the vendor refuses more messages to this number for now (Twilio Verify 60203). Not
 *   retried; the caller gets 429 `too_many_requests`.
 */
export type ProviderErrorKind = "bad_phone" | "rejected" | "transient" | "limited";

/** What a provider may attach to a {@link ProviderError} besides its kind and message. */
export interface ProviderErrorOptions {
  /** Vendor error code, e.g. Twilio `21211`. */
  vendorCode?: string | number | undefined;
  /** The vendor's HTTP status, when it answered. */
  httpStatus?: number | undefined;
  /** Seconds the vendor asked us to wait (its HTTP `Retry-After`), if any. */
  retryAfter?: number | undefined;
  /**
   * Fixed wording to show the caller instead of textlock's generic description. Only for text the
   * provider itself wrote that carries no vendor text (the legacy gateway's documented Auth0
   * descriptions); never copy a vendor's message here.
   */
  callerDescription?: string | undefined;
  cause?: unknown;
}

/**
 * The one error type providers throw. `message` is the vendor's detail for the operator log (secrets
 * such as the provider's `secretOptions` values and account SIDs are redacted there); callers get a
 * generic description, so vendor text never reaches an anonymous caller. textlock recognises it by a
 * brand, not by `instanceof`: a plugin built against another copy of textlock (the CommonJS build
 * under an ESM host, or the reverse) is retried and failed over the same.
 */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  /** Vendor error code, e.g. Twilio `21211`. */
  readonly vendorCode: string | number | undefined;
  /** The vendor's HTTP status, when it answered. */
  readonly httpStatus: number | undefined;
  /** Seconds the vendor asked us to wait (HTTP Retry-After), if any. */
  readonly retryAfter: number | undefined;
  /** Provider-written wording safe for the caller (see {@link ProviderErrorOptions.callerDescription}). */
  readonly callerDescription: string | undefined;

  constructor(kind: ProviderErrorKind, message: string, options: ProviderErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "ProviderError";
    this.kind = kind;
    this.vendorCode = options.vendorCode;
    this.httpStatus = options.httpStatus;
    this.retryAfter = options.retryAfter;
    this.callerDescription = options.callerDescription;
    brand(this, "ProviderError");
  }
}

/**
 * Seconds to wait from an HTTP `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** True for a {@link ProviderError} from any copy of textlock. */
export function isProviderError(value: unknown): value is ProviderError {
  return hasBrand(value, "ProviderError");
}

/**
 * Declares a provider from a plain object, like a nodemailer transport. Checks the shape early so a
 * plugin mistake fails at startup, not on the first login.
 */
export function defineSmsProvider<P extends SmsProvider>(provider: P): P {
  if (!provider || typeof provider !== "object") throw new TypeError("defineSmsProvider() expects an object");
  if (typeof provider.name !== "string" || !/^[a-z0-9][a-z0-9_.-]*$/i.test(provider.name)) {
    throw new TypeError("defineSmsProvider(): `name` must be a non-empty identifier (letters, digits, _ . -)");
  }
  if (typeof provider.send !== "function")
    throw new TypeError(`defineSmsProvider(${provider.name}): \`send\` must be a function`);
  if (provider.channels !== undefined) {
    const ok = Array.isArray(provider.channels) && provider.channels.every(isDeliveryChannel);
    if (!ok)
      throw new TypeError(
        `defineSmsProvider(${provider.name}): \`channels\` must list "sms", "voice" and/or "whatsapp"`,
      );
  }
  return provider;
}

export function isSmsProvider(value: unknown): value is SmsProvider {
  return (
    !!value &&
    typeof value === "object" &&
    typeof (value as SmsProvider).name === "string" &&
    typeof (value as SmsProvider).send === "function"
  );
}

/**
 * Settles `work` as soon as `signal` aborts, with a transient {@link ProviderError}. For vendor SDKs
 * that take no abort signal: the request may finish in the background, but the send returns on time.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const timedOut = () =>
    new ProviderError("transient", "The provider did not answer in time", { cause: signal.reason });
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(timedOut());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timedOut());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
