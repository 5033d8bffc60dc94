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
});

/** `vonage`: SMS on the real `@vonage/sms` SDK, loaded when a connection first sends through it. */
export const vonageProvider = defineProvider({
  id: "vonage",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms"],
  options: vonageOptions,
  secretOptions: ["vonage_api_key", "vonage_api_secret", "vonage_signature_secret"],
  async create(o, context) {
    const { createVonageProvider } = await import("./vonage-provider.js");
    return createVonageProvider({
      apiKey: o.vonage_api_key,
      apiSecret: o.vonage_api_secret,
      from: o.from,
      ...(o.vonage_rest_host ? { restHost: o.vonage_rest_host } : {}),
      timeoutMs: context.attemptTimeoutMs,
      ...(o.vonage_signature_secret ? { signatureSecret: o.vonage_signature_secret } : {}),
      signatureMethod: o.vonage_signature_method,
    });
  },
});
