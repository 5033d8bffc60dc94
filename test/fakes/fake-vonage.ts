import { randomBytes } from "node:crypto";
import { type FakeServer, startFakeServer } from "./fake-server.js";

export interface VonageRecord {
  to: string;
  from: string;
  text: string;
  /** The message id the fake answered with. */
  messageId: string;
}

/**
 * Fake Vonage SMS API on loopback: `POST /sms/json` with a JSON body and HTTP Basic `key:secret`
 * (also accepts `api_key`/`api_secret` fields, as legacy clients send). Like the real API it answers
 * HTTP 200 even for failures, with a per-message `status` ("0" = accepted). `statusFor` sets the
 * status for a number (e.g. "3" invalid number, "1" throttled).
 */
export async function startFakeVonage(options: {
  apiKey: string;
  apiSecret: string;
  statusFor?: Record<string, string>;
}) {
  const accepted: VonageRecord[] = [];
  const basic = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString("base64")}`;
  const server = await startFakeServer((req) => {
    if (req.method !== "POST" || req.path !== "/sms/json") return { status: 404, body: {} };
    const f = req.fields as Record<string, string>;
    const authed =
      req.headers.authorization === basic || (f.api_key === options.apiKey && f.api_secret === options.apiSecret);
    const status = !authed ? "4" : (options.statusFor?.[f.to] ?? "0");
    const errorText: Record<string, string> = {
      "1": "Throttled",
      "3": "Invalid to param",
      "4": "Bad Credentials",
      "6": "Invalid message",
    };
    const messageId = randomBytes(8).toString("hex");
    if (status === "0") accepted.push({ to: f.to, from: f.from, text: f.text, messageId });
    const message =
      status === "0"
        ? {
            to: f.to,
            "message-id": messageId,
            status: "0",
            "remaining-balance": "10.0",
            "message-price": "0.01",
            network: "12345",
          }
        : { to: f.to, status, "error-text": errorText[status] ?? "Failed" };
    return { status: 200, body: { "message-count": "1", messages: [message] } };
  });
  return Object.assign(server, { accepted }) as FakeServer & { accepted: VonageRecord[] };
}
