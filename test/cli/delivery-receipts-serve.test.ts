import type { ChildProcess } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTwilio } from "../fakes/fake-twilio.js";
import { startFakeVonage } from "../fakes/fake-vonage.js";
import { parsePrometheusText } from "../helpers/prometheus-text.js";
import { spawnServe } from "../helpers/serve-process.js";

// Delivery receipts as an operator runs them: `textlock serve` behind a proxy (the public URL differs
// from the one the test posts to), Twilio and Vonage on their real SDKs against loopback fakes, and
// status callbacks signed the way the vendors sign them.
const SID = `AC${randomBytes(16).toString("hex")}`;
const TWILIO_TOKEN = randomBytes(16).toString("hex");
const VKEY = "vkey-receipts";
const VSECRET = "vsecret-receipts";
const SIGNATURE_SECRET = "vonage-signature-secret-0123456789";
const PUBLIC = "https://auth.example.com/";
const METRICS_TOKEN = "scrape-receipts-5b2d40688e1f";
const UNSIGNED = { error: "unauthorized", error_description: "The status callback is not signed." };
const FORGED = { error: "access_denied", error_description: "The status callback's signature is not valid." };

let url: string;
let child: ChildProcess;
let fakeTwilio: Awaited<ReturnType<typeof startFakeTwilio>>;
let fakeVonage: Awaited<ReturnType<typeof startFakeVonage>>;

beforeAll(async () => {
  fakeTwilio = await startFakeTwilio({ accountSid: SID, authToken: TWILIO_TOKEN });
  fakeVonage = await startFakeVonage({ apiKey: VKEY, apiSecret: VSECRET });
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-receipts-"));
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      secret: "receipts-test-secret-receipts-test-secret",
      users: { type: "memory" },
      metrics: { bearerToken: METRICS_TOKEN },
      logging: { level: "warn" },
      delivery: { receipts: { enabled: true, publicUrl: PUBLIC } },
      connections: [
        {
          name: "sms",
          enabled_clients: ["textlock-dev"],
          options: {
            provider: "twilio",
            twilio_sid: SID,
            twilio_token: TWILIO_TOKEN,
            from: "+15005550006",
            twilio_api_base_url: fakeTwilio.url,
          },
        },
        {
          name: "sms-vonage",
          enabled_clients: ["textlock-dev"],
          options: {
            provider: "vonage",
            vonage_api_key: VKEY,
            vonage_api_secret: VSECRET,
            vonage_rest_host: fakeVonage.url,
            vonage_signature_secret: SIGNATURE_SECRET,
            from: "TextLock",
          },
        },
      ],
    }),
  );
  ({ url, child } = await spawnServe(file));
}, 60_000);

afterAll(async () => {
  if (child?.exitCode === null) child.kill("SIGTERM");
  await fakeTwilio?.close();
  await fakeVonage?.close();
});

const start = async (connection: string, phone: string) => {
  const res = await fetch(`${url}/passwordless/start`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: "textlock-dev", connection, phone_number: phone }),
  });
  expect(res.status).toBe(200);
};
const form = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString(),
  });
const answer = async (res: Response) => ({ status: res.status, body: res.status === 204 ? "" : await res.json() });
const metrics = async () => {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return parsePrometheusText(await res.text());
};
const count = (m: Awaited<ReturnType<typeof metrics>>, name: string, labels: Record<string, string>) =>
  m.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

/** A Vonage Messages API signed webhook: HS256 JWT with the SHA-256 of the body as `payload_hash`. */
async function vonageJwt(body: string, secret: string, iat = Math.floor(Date.now() / 1000)) {
  return new SignJWT({
    api_key: VKEY,
    payload_hash: createHash("sha256").update(body).digest("hex"),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(iat)
    .setJti(randomBytes(8).toString("hex"))
    .sign(new TextEncoder().encode(secret));
}

describe("delivery receipts through textlock serve", () => {
  it("Twilio: asks for the callback at the public URL; refuses unsigned and forged callbacks; a valid one is counted once", async () => {
    await start("sms", "+14155550141");
    const sent = fakeTwilio.accepted.at(-1)!;
    expect(sent.statusCallback).toBe(`${PUBLIC}delivery-receipts/twilio/sms`);
    const params = {
      AccountSid: SID,
      ApiVersion: "2010-04-01",
      From: "+15005550006",
      MessageSid: sent.sid,
      SmsSid: sent.sid,
      MessageStatus: "delivered",
      SmsStatus: "delivered",
      To: "+14155550141",
      RawDlrDoneDate: "2612011330",
    };
    const path = "/delivery-receipts/twilio/sms";
    const valid = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, sent.statusCallback!, params);

    expect(await answer(await form(path, params))).toEqual({ status: 401, body: UNSIGNED });
    // Signed with another account's token; signed over the local URL (what a proxy forwards, not
    // what Twilio signed); a valid signature over other fields.
    const otherToken = twilio.getExpectedTwilioSignature("0".repeat(32), sent.statusCallback!, params);
    expect(await answer(await form(path, params, { "x-twilio-signature": otherToken }))).toEqual({
      status: 403,
      body: FORGED,
    });
    const localUrl = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${url}${path}`, params);
    expect(await answer(await form(path, params, { "x-twilio-signature": localUrl }))).toEqual({
      status: 403,
      body: FORGED,
    });
    expect(
      await answer(await form(path, { ...params, MessageStatus: "failed" }, { "x-twilio-signature": valid })),
    ).toEqual({ status: 403, body: FORGED });
    let m = await metrics();
    expect(count(m, "textlock_delivery_receipts_refused_total", { provider: "twilio", reason: "unsigned" })).toBe(1);
    expect(count(m, "textlock_delivery_receipts_refused_total", { provider: "twilio", reason: "forged" })).toBe(3);
    expect(count(m, "textlock_delivery_receipts_total", { provider: "twilio" })).toBe(0);

    expect(await answer(await form(path, params, { "x-twilio-signature": valid }))).toEqual({ status: 204, body: "" });
    m = await metrics();
    expect(count(m, "textlock_delivery_receipts_total", { provider: "twilio", status: "delivered" })).toBe(1);
    expect(count(m, "textlock_delivery_seconds_count", { provider: "twilio", channel: "sms", country: "US" })).toBe(1);

    // The state only moves forward: a late `sent` after `delivered`, or the same receipt again, changes nothing.
    const late = { ...params, MessageStatus: "sent", SmsStatus: "sent" };
    const lateSig = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, sent.statusCallback!, late);
    expect((await form(path, late, { "x-twilio-signature": lateSig })).status).toBe(204);
    expect((await form(path, params, { "x-twilio-signature": valid })).status).toBe(204);
    m = await metrics();
    expect(count(m, "textlock_delivery_receipts_total", { provider: "twilio" })).toBe(1);
    expect(count(m, "textlock_delivery_seconds_count", { provider: "twilio" })).toBe(1);
  }, 30_000);

  it("Vonage: refuses an unsigned callback, a JWT with another secret, a tampered body and a stale JWT; a signed one is counted", async () => {
    await start("sms-vonage", "+447400123141");
    const { messageId } = fakeVonage.accepted.at(-1)!;
    const path = "/delivery-receipts/vonage/sms-vonage";
    const body = JSON.stringify({
      message_uuid: messageId,
      to: "447400123141",
      from: "TextLock",
      timestamp: new Date().toISOString(),
      status: "delivered",
      channel: "sms",
      usage: { currency: "EUR", price: "0.0333" },
    });
    const post = (text: string, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: text,
      });

    expect(await answer(await post(body))).toEqual({ status: 401, body: UNSIGNED });
    const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
    expect(await answer(await post(body, bearer(await vonageJwt(body, "another-secret-another-secret"))))).toEqual({
      status: 403,
      body: FORGED,
    });
    const tampered = body.replace('"delivered"', '"rejected"');
    expect(await answer(await post(tampered, bearer(await vonageJwt(body, SIGNATURE_SECRET))))).toEqual({
      status: 403,
      body: FORGED,
    });
    const stale = await vonageJwt(body, SIGNATURE_SECRET, Math.floor(Date.now() / 1000) - 3600);
    expect(await answer(await post(body, bearer(stale)))).toEqual({ status: 403, body: FORGED });
    let m = await metrics();
    expect(count(m, "textlock_delivery_receipts_refused_total", { provider: "vonage", reason: "unsigned" })).toBe(1);
    expect(count(m, "textlock_delivery_receipts_refused_total", { provider: "vonage", reason: "forged" })).toBe(3);

    expect(await answer(await post(body, bearer(await vonageJwt(body, SIGNATURE_SECRET))))).toEqual({
      status: 204,
      body: "",
    });
    m = await metrics();
    expect(count(m, "textlock_delivery_receipts_total", { provider: "vonage", status: "delivered" })).toBe(1);
    expect(count(m, "textlock_delivery_seconds_count", { provider: "vonage", channel: "sms", country: "GB" })).toBe(1);
  }, 30_000);

  it("Vonage SMS API receipts: a signed receipt (md5hash `sig`) is read, a wrong `sig` refused", async () => {
    await start("sms-vonage", "+447700900142");
    const { messageId } = fakeVonage.accepted.at(-1)!;
    const fields: Record<string, string> = {
      msisdn: "447700900142",
      to: "TextLock",
      "network-code": "23410",
      messageId,
      price: "0.03330000",
      status: "failed",
      scts: "2612011330",
      "err-code": "1",
      "api-key": VKEY,
      "message-timestamp": "2026-12-01 13:30:00",
      timestamp: String(Math.floor(Date.now() / 1000)),
      nonce: randomBytes(8).toString("hex"),
    };
    const query = Object.keys(fields)
      .sort()
      .map((k) => `&${k}=${fields[k]!.replace(/[&=]/g, "_")}`)
      .join("");
    const sig = createHash("md5")
      .update(query + SIGNATURE_SECRET)
      .digest("hex");
    const path = "/delivery-receipts/vonage/sms-vonage";
    const wrong = createHmac("sha256", SIGNATURE_SECRET).update(query).digest("hex");
    expect(await answer(await form(path, { ...fields, sig: wrong }))).toEqual({ status: 403, body: FORGED });
    expect((await form(path, { ...fields, sig })).status).toBe(204);
    const m = await metrics();
    expect(count(m, "textlock_delivery_receipts_total", { provider: "vonage", status: "failed" })).toBe(1);
  }, 30_000);

  it("a provider that reads no receipts, or an unknown connection, is 404", async () => {
    expect((await form("/delivery-receipts/console/sms", {})).status).toBe(404);
    expect((await form("/delivery-receipts/twilio/nope", {})).status).toBe(404);
  });
});
