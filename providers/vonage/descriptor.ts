import { z } from "zod";
import { defineProvider, TEXTLOCK_VERSION } from "../../core/plugin/index.js";

/** Vonage's connection options. */
export const vonageOptions = z.object({
  vonage_api_key: z.string().min(1).describe("Vonage API key."),
  vonage_api_secret: z.string().min(1).describe("Vonage API secret."),
  from: z.string().min(1, "required by the vonage provider").describe("Sender number or alphanumeric id."),
  vonage_rest_host: z
    .string()
    .url()
    .optional()
    .describe("Vonage REST host instead of https://rest.nexmo.com (test doubles, proxies)."),
  vonage_signature_secret: z
    .string()
    .min(16)
    .optional()
    .describe(
      "The account's signature secret: delivery receipts are read only when set, and only when signed with it (Messages API JWT or signed SMS receipts).",
    ),
  vonage_signature_method: z
    .enum(["md5hash", "md5", "sha1", "sha256", "sha512"])
    .default("md5hash")
    .describe("How the account signs SMS API receipts (the dashboard's signature method)."),
  vonage_application_id: z
    .string()
    .uuid()
    .optional()
    .describe("Vonage application id: WhatsApp messages are then sent with a JWT signed by `vonage_private_key`."),
  vonage_private_key: z
    .string()
    .includes("PRIVATE KEY", { message: "a PEM private key" })
    .optional()
    .describe("The application's private key (PEM), for the Messages API's JWT."),
  vonage_whatsapp_from: z
    .string()
    .regex(/^\+?[0-9]{1,15}$/, "a WhatsApp Business number")
    .optional()
    .describe("WhatsApp Business number the codes come from. Needed for the `whatsapp` channel."),
  vonage_whatsapp_template: z
    .string()
    .regex(/^[a-z0-9_]{1,512}$/, "an approved template name (lower case, digits, _)")
    .optional()
    .describe(
      "Name of the approved WhatsApp authentication template (code in the body and the copy-code button). Needed for the `whatsapp` channel.",
    ),
  vonage_whatsapp_locale: z
    .string()
    .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, "a WhatsApp template language such as en or pt_BR")
    .default("en")
    .describe("Language of the WhatsApp template."),
  vonage_api_host: z
    .string()
    .url()
    .optional()
    .describe("Vonage API host (Messages API) instead of https://api.nexmo.com (test doubles, proxies)."),
});

/**
 * `vonage`: SMS on the real `@vonage/sms` SDK, and WhatsApp (an approved authentication template) on the
 * real `@vonage/messages` SDK, loaded when a connection first sends through it.
 */
export const vonageProvider = defineProvider({
  id: "vonage",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms", "whatsapp"],
  options: vonageOptions,
  secretOptions: ["vonage_api_key", "vonage_api_secret", "vonage_private_key", "vonage_signature_secret"],
  async create(o, context) {
    const { createVonageProvider } = await import("./vonage-provider.js");
    return createVonageProvider({
      apiKey: o.vonage_api_key,
      apiSecret: o.vonage_api_secret,
      from: o.from,
      ...(o.vonage_rest_host ? { restHost: o.vonage_rest_host } : {}),
      ...(o.vonage_whatsapp_from && o.vonage_whatsapp_template
        ? {
            whatsapp: {
              from: o.vonage_whatsapp_from,
              template: o.vonage_whatsapp_template,
              locale: o.vonage_whatsapp_locale,
              ...(o.vonage_application_id ? { applicationId: o.vonage_application_id } : {}),
              ...(o.vonage_private_key ? { privateKey: o.vonage_private_key } : {}),
              ...(o.vonage_api_host ? { apiHost: o.vonage_api_host } : {}),
            },
          }
        : {}),
      timeoutMs: context.attemptTimeoutMs,
      ...(o.vonage_signature_secret ? { signatureSecret: o.vonage_signature_secret } : {}),
      signatureMethod: o.vonage_signature_method,
    });
  },
});
