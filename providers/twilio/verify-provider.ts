import twilio from "twilio";
import {
  abortable,
  defineSmsProvider,
  isProviderError,
  ProviderError,
  type SmsProvider,
  type VerificationOutcome,
} from "../../core/plugin/index.js";
import { HeaderKeepingRequestClient } from "./request-client.js";
import { mapTwilioError } from "./twilio-provider.js";

export interface TwilioVerifyProviderOptions {
  accountSid: string;
  authToken: string;
  /** The Verify Service SID (`VA…`); its code length must match the connection's `totp.length`. */
  serviceSid: string;
  /** Send the requests to another base URL (a test double); vendor behaviour is otherwise unchanged. */
  apiBaseUrl?: string;
  /** Per-request timeout of the SDK's HTTP client, ms. */
  timeoutMs?: number;
}

/** textlock channels as Verify's. */
const VERIFY_CHANNEL: Record<string, string> = { sms: "sms", voice: "call", whatsapp: "whatsapp" };

/**
 * Twilio Verify v2 on the real `twilio` SDK: Twilio makes, sends and checks the code
 * (`Services/{sid}/Verifications` and `VerificationCheck`). textlock still keeps its own record of
 * each code for its attempt cap, expiry, single use and per-phone limits (see the engine).
 */
export function createTwilioVerifyProvider(options: TwilioVerifyProviderOptions): SmsProvider {
  const httpClient = new HeaderKeepingRequestClient(options.timeoutMs ?? 10_000, options.apiBaseUrl);
  const client = twilio(options.accountSid, options.authToken, { httpClient, timeout: options.timeoutMs ?? 10_000 });
  const service = client.verify.v2.services(options.serviceSid);
  return defineSmsProvider({
    name: "twilio-verify",
    channels: ["sms", "voice"],
    async send() {
      // Never called: the engine asks a code-owning provider to start a verification instead.
      throw new ProviderError("rejected", "twilio-verify sends only its own codes (verification.start)");
    },
    verification: {
      async start(request, ctx) {
        try {
          const locale = verifyLocale(request.language);
          const verification = await abortable(
            service.verifications.create({
              to: request.to,
              channel: VERIFY_CHANNEL[request.channel] ?? "sms",
              ...(locale ? { locale } : {}),
            }),
            ctx.signal,
          );
          return { id: verification.sid };
        } catch (err) {
          throw mapVerifyStartError(err);
        }
      },
      async check(request, ctx): Promise<VerificationOutcome> {
        try {
          const check = await abortable(
            service.verificationChecks.create({ to: request.to, code: request.code }),
            ctx.signal,
          );
          return check.status === "approved" && check.valid !== false ? "approved" : "wrong";
        } catch (err) {
          const code = (err as { code?: unknown })?.code;
          if (code === 20404) return "gone";
          if (code === 60202) return "exhausted";
          if (code === 60200) return "wrong";
          throw mapTwilioError(err);
        }
      },
    },
  });
}

/**
 * Verify's errors on a send: 60200 (invalid parameter, a number Verify will not take) and 60205 (SMS
 * to a landline) are about the number; 60203 (more than 5 sends while a verification is pending) and
 * 60212 (too many concurrent requests for the number) are a per-number limit.
 */
export function mapVerifyStartError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  const e = err as { status?: number; code?: unknown; message?: string };
  if (typeof e?.code === "number") {
    const text = `${e.message ?? "Twilio Verify error"} (Code: ${e.code})`;
    const detail = { vendorCode: e.code, httpStatus: e.status, cause: err };
    if (e.code === 60200 || e.code === 60205) return new ProviderError("bad_phone", text, detail);
    if (e.code === 60203 || e.code === 60212) return new ProviderError("limited", text, detail);
  }
  return mapTwilioError(err);
}

/** Verify's `Locale` from the request language (`fr-FR,fr;q=0.9` → `fr`); undefined for none. */
function verifyLocale(header: string | null): string | undefined {
  const tag = header?.split(",")[0]?.split(";")[0]?.trim().toLowerCase();
  const primary = tag?.split("-")[0];
  return primary && /^[a-z]{2}$/.test(primary) ? primary : undefined;
}
