import { randomBytes } from "node:crypto";
import { type FakeServer, type RecordedRequest, startFakeServer } from "./fake-server.js";

/** A message or call Twilio accepted. */
export interface TwilioRecord {
  kind: "sms" | "voice" | "whatsapp";
  accountSid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  twiml?: string;
  /** WhatsApp: the content template and its variables (a JSON string, as Twilio receives it). */
  contentSid?: string;
  contentVariables?: string;
  authorization?: string;
  /** The SID the fake answered with. */
  sid: string;
  /** The `StatusCallback` URL textlock asked for, if any. */
  statusCallback?: string;
}

/**
 * Fake Twilio REST API on loopback: `POST /2010-04-01/Accounts/{AC…}/Messages.json` and `Calls.json`,
 * form-encoded, HTTP Basic `AccountSid:AuthToken`, answering 201 with Twilio's JSON. Wrong credentials
 * get Twilio's 401 (code 20003); a `To` in `invalidNumbers` gets 400 code 21211.
 * WhatsApp (`To=whatsapp:+…`): the sender must be a `whatsapp:` address or a Messaging Service (else
 * 63007), `ContentVariables` needs `ContentSid` (21654), and a free-form `Body` without a template is
 * refused with 63016 (Twilio reports that one later, in the status callback; answering it at once keeps
 * the fake simple and still fails a provider that sends the code as a body).
 */
export async function startFakeTwilio(options: { accountSid: string; authToken: string; invalidNumbers?: string[] }) {
  const accepted: TwilioRecord[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  const server = await startFakeServer((req: RecordedRequest) => {
    const m = req.path.match(/^\/2010-04-01\/Accounts\/(AC\w+)\/(Messages|Calls)\.json$/);
    if (req.method !== "POST" || !m)
      return { status: 404, body: { code: 20404, message: "The requested resource was not found", status: 404 } };
    if (req.headers.authorization !== expectedAuth || m[1] !== options.accountSid) {
      return {
        status: 401,
        body: {
          code: 20003,
          message: "Authenticate",
          more_info: "https://www.twilio.com/docs/errors/20003",
          status: 401,
        },
      };
    }
    const f = req.fields as Record<string, string>;
    if (!f.To) return { status: 400, body: { code: 21604, message: "A 'To' phone number is required.", status: 400 } };
    if (options.invalidNumbers?.includes(f.To)) {
      return {
        status: 400,
        body: {
          code: 21211,
          message: `The 'To' number ${f.To} is not a valid phone number.`,
          more_info: "https://www.twilio.com/docs/errors/21211",
          status: 400,
        },
      };
    }
    const whatsapp = m[2] === "Messages" && f.To.startsWith("whatsapp:");
    const twilioError = (code: number, message: string) => ({
      status: 400,
      body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 },
    });
    if (f.ContentVariables && !f.ContentSid)
      return twilioError(21654, "ContentVariables specified without a ContentSid");
    if (whatsapp && !f.MessagingServiceSid && !f.From?.startsWith("whatsapp:"))
      return twilioError(63007, "Twilio could not find a Channel with the specified From address");
    if (whatsapp && !f.ContentSid)
      return twilioError(63016, "Failed to send freeform message because you are outside the allowed window.");
    const kind = m[2] === "Calls" ? "voice" : whatsapp ? "whatsapp" : "sms";
    const sid = `${kind === "voice" ? "CA" : "SM"}${randomBytes(16).toString("hex")}`;
    accepted.push({
      sid,
      ...(f.StatusCallback ? { statusCallback: f.StatusCallback } : {}),
      kind,
      accountSid: m[1]!,
      to: f.To,
      from: f.From,
      messagingServiceSid: f.MessagingServiceSid,
      body: f.Body,
      twiml: f.Twiml,
      contentSid: f.ContentSid,
      contentVariables: f.ContentVariables,
      authorization: req.headers.authorization,
    });
    return {
      status: 201,
      body: {
        sid,
        account_sid: m[1],
        to: f.To,
        from: f.From ?? null,
        body: f.Body,
        status: "queued",
        date_created: new Date().toUTCString(),
      },
    };
  });
  return Object.assign(server, { accepted }) as FakeServer & { accepted: TwilioRecord[] };
}
