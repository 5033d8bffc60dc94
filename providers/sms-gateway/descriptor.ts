import { z } from "zod";
import { defineProvider, TEXTLOCK_VERSION } from "../../core/plugin/index.js";

/** Auth0's legacy SMS gateway options, with Auth0's names. */
export const smsGatewayOptions = z.object({
  gateway_url: z.string().url().describe("Legacy SMS gateway endpoint."),
  from: z.string().optional().describe("Sent to the gateway as `sender`."),
  gateway_authentication: z
    .object({
      method: z.literal("bearer"),
      subject: z.string().optional(),
      audience: z.string(),
      secret: z.string().min(1),
      secret_base64_encoded: z.boolean().default(false),
    })
    .nullable()
    .optional()
    .describe("Bearer JWT (HS256) sent to the gateway."),
  forward_req_info: z
    .union([z.boolean(), z.enum(["true", "false"])])
    .default(false)
    .transform((v) => v === true || v === "true")
    .describe("Send the caller's IP and User-Agent to the gateway."),
});

/** `sms_gateway`: Auth0's legacy HTTP SMS gateway contract. */
export const smsGatewayProvider = defineProvider({
  id: "sms_gateway",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms"],
  options: smsGatewayOptions,
  secretOptions: ["gateway_authentication"],
  async create(o, context) {
    const { createSmsGatewayProvider } = await import("./sms-gateway-provider.js");
    return createSmsGatewayProvider({
      url: o.gateway_url,
      ...(o.from ? { from: o.from } : {}),
      authentication: o.gateway_authentication ?? null,
      forwardReqInfo: o.forward_req_info,
      timeoutMs: context.attemptTimeoutMs,
    });
  },
});
