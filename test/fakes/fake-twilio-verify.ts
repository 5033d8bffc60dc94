import { randomBytes, randomInt } from "node:crypto";
import { type FakeServer, startFakeServer } from "./fake-server.js";

/** One verification the fake holds: what Twilio would have sent the person. */
export interface FakeVerification {
  sid: string;
  to: string;
  channel: string;
  locale?: string;
  code: string;
  status: "pending" | "approved" | "canceled" | "max_attempts_reached" | "expired";
  sends: number;
  checks: number;
  expiresAt: number;
}

/**
 * Fake Twilio Verify v2 on loopback, speaking its wire format: form-encoded
 * `POST /v2/Services/{VA…}/Verifications` (`To`, `Channel`, `Locale`) and `…/VerificationCheck`
 * (`To`, `Code`), HTTP Basic. Like Verify it resends the same code while a verification is pending,
 * refuses a 6th send (429, 60203) and a 6th check (429, 60202), answers a wrong code with 200
 * `pending`/`valid:false`, deletes a verification once approved, maxed out or expired (later checks
 * are 404, 20404), and refuses a non-E.164 `To` or a `Code` that is not 4–10 digits (400, 60200).
 */
export async function startFakeTwilioVerify(options: {
  accountSid: string;
  authToken: string;
  serviceSid: string;
  codeLength?: number;
  ttlMs?: number;
}) {
  const verifications = new Map<string, FakeVerification>();
  const history: FakeVerification[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  const error = (status: number, code: number, message: string) => ({
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });
  const view = (v: FakeVerification) => ({
    sid: v.sid,
    service_sid: options.serviceSid,
    account_sid: options.accountSid,
    to: v.to,
    channel: v.channel,
    status: v.status,
    valid: v.status === "approved",
    send_code_attempts: Array.from({ length: v.sends }, () => ({ channel: v.channel })),
    date_created: new Date().toISOString(),
    date_updated: new Date().toISOString(),
    url: `https://verify.twilio.com/v2/Services/${options.serviceSid}/Verifications/${v.sid}`,
  });
  const server = await startFakeServer((req) => {
    const m = req.path.match(/^\/v2\/Services\/(VA\w+)\/(Verifications|VerificationCheck)$/);
    if (req.method !== "POST" || !m) return error(404, 20404, "The requested resource was not found");
    if (req.headers.authorization !== expectedAuth) return error(401, 20003, "Authenticate");
    if (m[1] !== options.serviceSid) return error(404, 20404, "The requested resource was not found");
    const f = req.fields as Record<string, string>;
    if (!/^\+[1-9][0-9]{6,14}$/.test(f.To ?? "")) return error(400, 60200, "Invalid parameter: To");
    const live = verifications.get(f.To!);
    if (live && live.expiresAt <= Date.now()) {
      live.status = "expired";
      verifications.delete(f.To!);
    }
    const current = verifications.get(f.To!);
    if (m[2] === "Verifications") {
      if (!["sms", "call", "whatsapp", "email"].includes(f.Channel ?? ""))
        return error(400, 60200, "Invalid parameter: Channel");
      if (current) {
        if (current.sends >= 5) return error(429, 60203, "Max send attempts reached");
        current.sends += 1;
        current.channel = f.Channel!;
        return { status: 201, body: view(current) };
      }
      const v: FakeVerification = {
        sid: `VE${randomBytes(16).toString("hex")}`,
        to: f.To!,
        channel: f.Channel!,
        ...(f.Locale ? { locale: f.Locale } : {}),
        code: String(randomInt(0, 10 ** (options.codeLength ?? 6))).padStart(options.codeLength ?? 6, "0"),
        status: "pending",
        sends: 1,
        checks: 0,
        expiresAt: Date.now() + (options.ttlMs ?? 600_000),
      };
      verifications.set(f.To!, v);
      history.push(v);
      return { status: 201, body: view(v) };
    }
    if (!/^[0-9]{4,10}$/.test(f.Code ?? "")) return error(400, 60200, "Invalid parameter: Code");
    if (!current) return error(404, 20404, "The requested resource was not found");
    if (current.checks >= 5) return error(429, 60202, "Max check attempts reached");
    current.checks += 1;
    if (f.Code === current.code) {
      current.status = "approved";
      verifications.delete(f.To!);
    } else if (current.checks >= 5) {
      current.status = "max_attempts_reached";
      verifications.delete(f.To!);
      return { status: 200, body: { ...view(current), status: "max_attempts_reached", valid: false } };
    }
    return { status: 200, body: view(current) };
  });
  return Object.assign(server, {
    /** Every verification ever started, oldest first (the code each person got). */
    verifications: history,
    /** The pending verification of a number, if any. */
    pending: (to: string) => verifications.get(to),
    /** Ages a number's verification past its expiry. */
    expire: (to: string) => {
      const v = verifications.get(to);
      if (v) v.expiresAt = 0;
    },
  }) as FakeServer & {
    verifications: FakeVerification[];
    pending(to: string): FakeVerification | undefined;
    expire(to: string): void;
  };
}
