import { z } from "zod";
import { defineProvider, TEXTLOCK_VERSION } from "../../core/plugin/index.js";

/** Twilio's connection options, with Auth0's names. */
export const twilioOptions = z
  .object({
    twilio_sid: z.string().min(1).describe("Twilio Account SID."),
    twilio_token: z.string().min(1).describe("Twilio Auth Token."),
    from: z.string().optional().describe("Sender number (E.164) or alphanumeric sender id."),
    messaging_service_sid: z.string().optional().describe("Twilio Messaging Service SID, used instead of `from`."),
    twilio_whatsapp_from: z
      .string()
      .regex(/^(whatsapp:)?\+[0-9]{1,15}$/, "a WhatsApp sender number in E.164 form (+14155550100)")
      .optional()
      .describe("WhatsApp sender (E.164, `whatsapp:` optional); defaults to `from`, or the Messaging Service."),
    twilio_whatsapp_content_sid: z
      .string()
      .regex(/^HX[0-9a-fA-F]{32}$/, "a Content SID (HX + 32 hex)")
      .optional()
      .describe(
        "Content SID of the approved WhatsApp authentication template; the code is its variable `1`. Needed for the `whatsapp` channel.",
      ),
    twilio_api_base_url: z
      .string()
      .url()
      .optional()
      .describe("Send Twilio API calls to this base URL instead of api.twilio.com (test doubles, egress proxies)."),
  })
  .refine((o) => o.from || o.messaging_service_sid, {
    message: "required by the twilio provider (or messaging_service_sid)",
    path: ["from"],
  });

/**
 * `twilio`: SMS, voice and WhatsApp (an approved content template) on the real `twilio` SDK, loaded when
 * a connection first sends through it.
 */
export const twilioProvider = defineProvider({
  id: "twilio",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms", "voice", "whatsapp"],
  options: twilioOptions,
  secretOptions: ["twilio_sid", "twilio_token"],
  async create(o, context) {
    const { createTwilioProvider } = await import("./twilio-provider.js");
    return createTwilioProvider({
      accountSid: o.twilio_sid,
      authToken: o.twilio_token,
      ...(o.from ? { from: o.from } : {}),
      ...(o.messaging_service_sid ? { messagingServiceSid: o.messaging_service_sid } : {}),
      ...(o.twilio_api_base_url ? { apiBaseUrl: o.twilio_api_base_url } : {}),
      ...(o.twilio_whatsapp_from ? { whatsappFrom: o.twilio_whatsapp_from } : {}),
      ...(o.twilio_whatsapp_content_sid ? { whatsappContentSid: o.twilio_whatsapp_content_sid } : {}),
      timeoutMs: context.attemptTimeoutMs,
    });
  },
});

/** Twilio Verify's connection options. */
export const twilioVerifyOptions = z.object({
  twilio_sid: z.string().min(1).describe("Twilio Account SID."),
  twilio_token: z.string().min(1).describe("Twilio Auth Token."),
  verify_service_sid: z
    .string()
    .regex(/^VA[0-9a-fA-F]{32}$/, "a Verify Service SID (VA followed by 32 hex digits)")
    .describe("Twilio Verify Service SID (`VA…`). Its code length must equal the connection's `totp.length`."),
  twilio_api_base_url: z
    .string()
    .url()
    .optional()
    .describe("Send Twilio API calls to this base URL instead of api.twilio.com (test doubles, egress proxies)."),
});

/**
 * `twilio-verify`: Twilio Verify v2 makes, sends and checks the code (a provider that owns the code).
 * textlock still applies its own attempt cap, expiry, single use and per-phone limits. It must be the
 * connection's only provider.
 */
export const twilioVerifyProvider = defineProvider({
  id: "twilio-verify",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms", "voice"],
  options: twilioVerifyOptions,
  secretOptions: ["twilio_sid", "twilio_token"],
  async create(o, context) {
    const { createTwilioVerifyProvider } = await import("./verify-provider.js");
    return createTwilioVerifyProvider({
      accountSid: o.twilio_sid,
      authToken: o.twilio_token,
      serviceSid: o.verify_service_sid,
      ...(o.twilio_api_base_url ? { apiBaseUrl: o.twilio_api_base_url } : {}),
      timeoutMs: context.attemptTimeoutMs,
    });
  },
});
