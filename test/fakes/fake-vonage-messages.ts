import { randomUUID } from "node:crypto";
import { importSPKI, jwtVerify } from "jose";
import { type FakeServer, startFakeServer } from "./fake-server.js";

/** A WhatsApp message the fake Messages API accepted. */
export interface VonageMessageRecord {
  to: string;
  from: string;
  channel: string;
  messageType: string;
  /** The template name and the text parameters of its components, in order. */
  template: string;
  language: string;
  parameters: string[];
  /** `basic` or `jwt`: how the call was authenticated. */
  auth: "basic" | "jwt";
}

const problem = (status: number, title: string, detail: string, extra: Record<string, unknown> = {}) => ({
  status,
  headers: { "content-type": "application/problem+json" },
  body: {
    type: `https://developer.vonage.com/api-errors/messages#${status}`,
    title,
    detail,
    instance: randomUUID(),
    ...extra,
  },
});

/**
 * Fake Vonage Messages API on loopback: `POST /v1/messages` (JSON, snake_case, numbers as digits only),
 * authenticated with Basic `key:secret` or a Bearer JWT (RS256, `application_id` claim) that the fake
 * verifies with the application's public key. WhatsApp authentication templates go as
 * `message_type: "custom"` with a `template` (name, language, components). Success is `202
 * {message_uuid}`; errors are RFC 7807 `application/problem+json` (401 bad credentials, 422 invalid
 * parameters), which the SDK raises as a VetchError. A `to` in `notOnWhatsApp` gets 422 as well.
 */
export async function startFakeVonageMessages(options: {
  apiKey: string;
  apiSecret: string;
  applicationId?: string;
  /** SPKI PEM of the application's key: Bearer JWTs are checked against it. */
  publicKey?: string;
  notOnWhatsApp?: string[];
}) {
  const accepted: VonageMessageRecord[] = [];
  const basic = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString("base64")}`;
  const key = options.publicKey ? await importSPKI(options.publicKey, "RS256") : undefined;
  const verifyJwt = async (header: string | undefined): Promise<boolean> => {
    if (!key || !header?.startsWith("Bearer ")) return false;
    try {
      const { payload } = await jwtVerify(header.slice(7), key, { algorithms: ["RS256"] });
      return payload.application_id === options.applicationId && typeof payload.jti === "string";
    } catch {
      return false;
    }
  };
  const server = await startFakeServer(async (req) => {
    if (req.method !== "POST" || req.path !== "/v1/messages") return problem(404, "Not Found", "No such resource");
    const auth =
      req.headers.authorization === basic ? "basic" : (await verifyJwt(req.headers.authorization)) ? "jwt" : undefined;
    if (!auth) return problem(401, "Unauthorized", "You did not provide correct credentials.");
    const b = req.fields as {
      to?: string;
      from?: string;
      channel?: string;
      message_type?: string;
      custom?: {
        type?: string;
        template?: {
          name?: string;
          language?: { code?: string; policy?: string };
          components?: Array<{ type: string; parameters?: Array<{ type: string; text?: string }> }>;
        };
      };
    };
    const invalid: Array<{ name: string; reason: string }> = [];
    if (!b.to || !/^[1-9][0-9]{6,14}$/.test(b.to)) invalid.push({ name: "to", reason: "Invalid number (digits only)" });
    if (!b.from || !/^[1-9][0-9]{6,14}$/.test(b.from)) invalid.push({ name: "from", reason: "Invalid number" });
    if (b.channel !== "whatsapp") invalid.push({ name: "channel", reason: "Only whatsapp is faked" });
    if (b.message_type !== "custom" || b.custom?.type !== "template" || !b.custom.template?.name)
      invalid.push({ name: "custom", reason: "An authentication template must be sent as a custom template" });
    if (invalid.length)
      return problem(422, "Invalid params", "The value of one or more parameters is invalid.", {
        invalid_parameters: invalid,
      });
    if (options.notOnWhatsApp?.includes(`+${b.to}`))
      return problem(422, "Invalid params", "The recipient is not a WhatsApp user.", {
        invalid_parameters: [{ name: "to", reason: "Not a WhatsApp user" }],
      });
    const template = b.custom!.template!;
    accepted.push({
      to: b.to!,
      from: b.from!,
      channel: b.channel!,
      messageType: b.message_type!,
      template: template.name!,
      language: template.language?.code ?? "",
      parameters: (template.components ?? []).flatMap((c) => (c.parameters ?? []).map((p) => p.text ?? "")),
      auth,
    });
    return { status: 202, body: { message_uuid: randomUUID() } };
  });
  return Object.assign(server, { accepted }) as FakeServer & { accepted: VonageMessageRecord[] };
}
