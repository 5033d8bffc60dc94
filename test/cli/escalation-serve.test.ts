import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeTwilio } from "../fakes/fake-twilio.js";
import { parsePrometheusText } from "../helpers/prometheus-text.js";
import { spawnServe } from "../helpers/serve-process.js";

// Escalation as an operator runs it: TWO `textlock serve` processes sharing Redis (each sweeps for due
// escalations), one Twilio account (SMS, WhatsApp and voice on the real SDK against a loopback fake),
// and signed status callbacks. Every step must happen once, with the same code, within the limits.
const SID = `AC${randomBytes(16).toString("hex")}`;
const TOKEN = randomBytes(16).toString("hex");
const CONTENT_SID = `HX${randomBytes(16).toString("hex")}`;
const PUBLIC = "https://auth.example.com/";
const METRICS_TOKEN = "scrape-escalation-40688e1f";
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const AFTER = 5;
const redisUrl = inject("redisUrl");

let urls: string[] = [];
const children: ChildProcess[] = [];
let fake: Awaited<ReturnType<typeof startFakeTwilio>>;

beforeAll(async () => {
  fake = await startFakeTwilio({ accountSid: SID, authToken: TOKEN });
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-escalation-"));
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      secret: "escalation-test-secret-escalation-test-01",
      users: { type: "memory" },
      store: { type: "redis", url: redisUrl, namespace: `esc${process.pid}` },
      metrics: { bearerToken: METRICS_TOKEN },
      logging: { level: "warn" },
      // Three sends per phone per hour: a code, and at most two escalations.
      protection: { resendCooldownSeconds: 0, perPhone: { points: 3 } },
      delivery: { receipts: { enabled: true, publicUrl: PUBLIC }, escalationSweepMs: 200 },
      connections: [
        {
          name: "sms",
          enabled_clients: ["textlock-dev"],
          options: {
            provider: "twilio",
            twilio_sid: SID,
            twilio_token: TOKEN,
            from: "+15005550006",
            twilio_whatsapp_from: "+14155238886",
            twilio_whatsapp_content_sid: CONTENT_SID,
            twilio_api_base_url: fake.url,
            channels: ["sms", "whatsapp", "voice"],
            escalation: { after_seconds: AFTER },
          },
        },
      ],
    }),
  );
  for (let i = 0; i < 2; i++) {
    const { url, child } = await spawnServe(file);
    urls.push(url);
    children.push(child);
  }
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  urls = [];
  await fake?.close();
});

const post = async (url: string, path: string, body: object) => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const start = (phone: string) =>
  post(urls[0]!, "/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone });
const login = (phone: string, otp: string) =>
  post(urls[1]!, "/oauth/token", { grant_type: OTP, client_id: "textlock-dev", realm: "sms", username: phone, otp });
const sends = (phone: string) => fake.accepted.filter((m) => m.to.replace(/^whatsapp:/, "") === phone);
/** The code each send carried: the SMS text, the WhatsApp template variable, the digits the call reads. */
const codeOf = (m: (typeof fake.accepted)[number]) =>
  m.kind === "whatsapp"
    ? (JSON.parse(m.contentVariables ?? "{}") as Record<string, string>)["1"]
    : m.kind === "voice"
      ? m.twiml?.match(/(\d, ){5}\d/)?.[0]?.replaceAll(", ", "")
      : m.body?.match(/\d{6}/)?.[0];
const waitFor = async (check: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
};
/** A status callback for a message, signed as Twilio signs it, posted to the second process. */
const receipt = (sid: string, status: string) => {
  const url = `${PUBLIC}delivery-receipts/twilio/sms`;
  const params = { AccountSid: SID, MessageSid: sid, MessageStatus: status, ApiVersion: "2010-04-01" };
  return fetch(`${urls[1]}/delivery-receipts/twilio/sms`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, url, params),
    },
    body: new URLSearchParams(params).toString(),
  });
};
const scrape = async (url: string) =>
  parsePrometheusText(
    await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text(),
  );

describe.skipIf(!redisUrl)("escalation through two textlock serve processes on Redis", () => {
  it("an SMS with no receipt escalates to WhatsApp, then voice, once each, with the same code; the user logs in with it", async () => {
    const phone = "+14155550161";
    const began = Date.now();
    expect((await start(phone)).status).toBe(200);
    expect(sends(phone).map((m) => m.kind)).toEqual(["sms"]);
    expect(sends(phone)[0]!.statusCallback).toBe(`${PUBLIC}delivery-receipts/twilio/sms`);

    expect(await waitFor(() => sends(phone).length >= 2, AFTER * 1000 + 4_000)).toBe(true);
    expect(Date.now() - began).toBeGreaterThanOrEqual(AFTER * 1000 - 500);
    expect(await waitFor(() => sends(phone).length >= 3, AFTER * 1000 + 4_000)).toBe(true);
    // Two processes sweep every 200 ms: still one send per step, and none after the last.
    await new Promise((r) => setTimeout(r, 1_500));
    const all = sends(phone);
    expect(all.map((m) => m.kind)).toEqual(["sms", "whatsapp", "voice"]);
    const codes = new Set(all.map(codeOf));
    expect(codes.size).toBe(1);
    const [code] = [...codes];
    expect(code).toMatch(/^\d{6}$/);

    const ok = await login(phone, code!);
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toEqual(expect.any(String));
    const m = [await scrape(urls[0]!), await scrape(urls[1]!)];
    const escalations = (channel: string) =>
      m
        .flatMap((x) => x.samples)
        .filter((s) => s.name === "textlock_escalations_total" && s.labels.channel === channel)
        .reduce((sum, s) => sum + s.value, 0);
    expect(escalations("whatsapp")).toBe(1);
    expect(escalations("voice")).toBe(1);
  }, 40_000);

  it("an `undelivered` receipt escalates at once; a `delivered` one ends the escalation", async () => {
    const phone = "+14155550162";
    expect((await start(phone)).status).toBe(200);
    const sms = sends(phone)[0]!;
    const sentAt = Date.now();
    expect((await receipt(sms.sid, "undelivered")).status).toBe(204);
    expect(await waitFor(() => sends(phone).length >= 2, 2_000)).toBe(true);
    expect(Date.now() - sentAt).toBeLessThan(AFTER * 1000);
    const whatsapp = sends(phone)[1]!;
    expect(whatsapp.kind).toBe("whatsapp");
    expect(codeOf(whatsapp)).toBe(codeOf(sms));
    expect((await receipt(whatsapp.sid, "delivered")).status).toBe(204);
    await new Promise((r) => setTimeout(r, AFTER * 1000 + 1_500));
    expect(sends(phone).map((m) => m.kind)).toEqual(["sms", "whatsapp"]);
    expect((await login(phone, codeOf(whatsapp)!)).status).toBe(200);
  }, 40_000);

  it("never escalates beyond the per-phone limit, and not once the code is used", async () => {
    const limited = "+14155550163";
    expect((await start(limited)).status).toBe(200);
    expect((await start(limited)).status).toBe(200);
    // Two sends used of three: WhatsApp may go, voice may not.
    await new Promise((r) => setTimeout(r, 2 * AFTER * 1000 + 2_000));
    expect(sends(limited).map((m) => m.kind)).toEqual(["sms", "sms", "whatsapp"]);

    const used = "+14155550164";
    expect((await start(used)).status).toBe(200);
    expect((await login(used, codeOf(sends(used)[0]!)!)).status).toBe(200);
    await new Promise((r) => setTimeout(r, AFTER * 1000 + 1_500));
    expect(sends(used).map((m) => m.kind)).toEqual(["sms"]);
  }, 40_000);
});
