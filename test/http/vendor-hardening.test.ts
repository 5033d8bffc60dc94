import { Agent, request } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSmsGateway } from "../fakes/fake-sms-gateway.js";
import { startFakeTwilio } from "../fakes/fake-twilio.js";
import { startFakeVonage } from "../fakes/fake-vonage.js";
import { ADAPTERS, serve } from "../helpers/adapters.js";
import { createTestTextlock } from "../helpers/create-test-textlock.js";
import { checkPhoneLock } from "../helpers/phone-lock.js";

// Issue 13, items 7–10, found trying textlock as an attacker: vendor text reaching anonymous callers,
// a vendor's Retry-After ignored, the per-phone lock without Retry-After, and a 413 resetting the
// next request on a keep-alive connection. Every check runs through every adapter.
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-token-must-stay-secret";
const VKEY = "vkey-account-1234";
const VSECRET = "vonage-secret-must-stay-secret";
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fakes() {
  const twilio = await startFakeTwilio({ accountSid: SID, authToken: TOKEN });
  const vonage = await startFakeVonage({ apiKey: VKEY, apiSecret: VSECRET });
  const gateway = await startFakeSmsGateway();
  cleanup.push(twilio.close, vonage.close, gateway.close);
  return { twilio, vonage, gateway };
}

/** A textlock with one connection served through `adapter`, its log kept in `log`. */
async function served(
  adapter: (typeof ADAPTERS)[number],
  f: Awaited<ReturnType<typeof fakes>>,
  provider: string | string[],
  delivery: Record<string, unknown> = {},
) {
  const lines: string[] = [];
  const sink = new Writable({
    write: (c, _e, done) => {
      lines.push(String(c));
      done();
    },
  });
  const tl = await createTestTextlock(
    {
      clients: [{ client_id: "spa" }],
      connections: [
        {
          name: "sms",
          enabled_clients: ["spa"],
          options: {
            provider,
            from: "+15005550006",
            twilio_sid: SID,
            twilio_token: TOKEN,
            twilio_api_base_url: f.twilio.url,
            vonage_api_key: VKEY,
            vonage_api_secret: VSECRET,
            vonage_rest_host: f.vonage.url,
            gateway_url: `${f.gateway.url}/sms`,
          },
        },
      ],
      delivery,
    },
    { logger: pino({ level: "info" }, sink) },
  );
  const server = await serve(adapter, tl);
  cleanup.push(async () => {
    await server.close();
    await tl.close();
  });
  const start = (phone: string) =>
    fetch(`${server.url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "spa", connection: "sms", phone_number: phone }),
    });
  return { tl, server, start, log: () => lines.join("") };
}

describe.each(ADAPTERS)("vendor failures through %s", (adapter) => {
  it("a Twilio 401 carrying the account SID reaches the caller as a generic sms_provider_error; the log keeps the vendor code and status, redacted", async () => {
    const f = await fakes();
    const { start, log } = await served(adapter, f, "twilio");
    f.twilio.always = {
      status: 401,
      body: { code: 20003, message: `Authenticate: account ${SID} rejected token ${TOKEN}`, status: 401 },
    };
    const res = await start("+14155550201");
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: "sms_provider_error",
      error_description: "The message could not be delivered. Please try again later.",
    });
    for (const secret of [SID, TOKEN, "Authenticate"]) expect(text).not.toContain(secret);
    const lines = log();
    expect(lines).toContain('"vendorCode":20003');
    expect(lines).toContain('"vendorStatus":401');
    expect(lines).toContain("Authenticate: account [redacted] rejected token [redacted]");
    for (const secret of [SID, TOKEN]) expect(lines).not.toContain(secret);
  });

  it("a Vonage failure whose text carries the API key and secret: generic for the caller, redacted in the log", async () => {
    const f = await fakes();
    const { start, log } = await served(adapter, f, "vonage");
    f.vonage.always = {
      status: 200,
      body: {
        "message-count": "1",
        messages: [{ status: "4", "error-text": `Bad Credentials for ${VKEY}:${VSECRET}` }],
      },
    };
    const res = await start("+14155550202");
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: "sms_provider_error",
      error_description: "The message could not be delivered. Please try again later.",
    });
    for (const secret of [VKEY, VSECRET, "Bad Credentials"]) expect(text).not.toContain(secret);
    const lines = log();
    expect(lines).toContain('"vendorCode":"4"');
    expect(lines).toContain('"vendorStatus":200');
    expect(lines).toContain("Bad Credentials for [redacted]:[redacted]");
    for (const secret of [VKEY, VSECRET]) expect(lines).not.toContain(secret);
  });

  it("a Twilio 429 with Retry-After: 1 is retried after the vendor's second, not the 200 ms backoff", async () => {
    const f = await fakes();
    const { start } = await served(adapter, f, "twilio", { retries: 1, deadlineMs: 8000 });
    f.twilio.script.push({
      status: 429,
      headers: { "retry-after": "1" },
      body: { code: 20429, message: "Too Many Requests", status: 429 },
    });
    expect((await start("+14155550203")).status).toBe(200);
    expect(f.twilio.requests).toHaveLength(2);
    expect(f.twilio.requests[1]!.at - f.twilio.requests[0]!.at).toBeGreaterThanOrEqual(900);
    expect(f.twilio.accepted).toHaveLength(1);
  });

  it("a Vonage 429 with an HTTP-date Retry-After and a gateway 503 with Retry-After are honoured too", async () => {
    const f = await fakes();
    const vonage = await served(adapter, f, "vonage", { retries: 1, deadlineMs: 8000 });
    f.vonage.script.push({ status: 429, headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() } });
    expect((await vonage.start("+14155550204")).status).toBe(200);
    expect(f.vonage.requests).toHaveLength(2);
    expect(f.vonage.requests[1]!.at - f.vonage.requests[0]!.at).toBeGreaterThanOrEqual(900);

    const gateway = await served(adapter, f, "sms_gateway", { retries: 1, deadlineMs: 8000 });
    f.gateway.script.push({ status: 503, headers: { "retry-after": "1" } });
    expect((await gateway.start("+14155550205")).status).toBe(200);
    expect(f.gateway.requests).toHaveLength(2);
    expect(f.gateway.requests[1]!.at - f.gateway.requests[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it("a Retry-After past the send deadline fails over at once instead of waiting", async () => {
    const f = await fakes();
    const { start } = await served(adapter, f, ["twilio", "sms_gateway"], { retries: 2, deadlineMs: 3000 });
    f.twilio.always = {
      status: 429,
      headers: { "retry-after": "30" },
      body: { code: 20429, message: "Too Many Requests", status: 429 },
    };
    const began = Date.now();
    expect((await start("+14155550206")).status).toBe(200);
    expect(Date.now() - began).toBeLessThan(2500);
    expect(f.twilio.requests).toHaveLength(1);
    expect(f.gateway.accepted).toHaveLength(1);
  });
});

describe.each(ADAPTERS)("the per-phone failure lock through %s (memory store)", (adapter) => {
  it("answers /passwordless/start 429 too_many_requests with Retry-After and sends nothing; the token endpoint too_many_attempts with Retry-After", async () => {
    await checkPhoneLock(adapter, "+14155550301");
  });
});

// Fastify reads the body with its own parser (textlock sets only its limit) and already answered well;
// it stays in the loop as a guard.
describe.each(ADAPTERS)("an oversized body on a keep-alive connection through %s", (adapter) => {
  it("gets a 413 that closes the connection, and the next request on the pool gets a normal answer", async () => {
    const tl = await createTestTextlock({
      clients: [{ client_id: "spa" }],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
      server: { bodyLimitBytes: 2048 },
    });
    const server = await serve(adapter, tl);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(async () => {
      agent.destroy();
      await server.close();
      await tl.close();
    });
    const post = (body: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = request(
          `${server.url}/passwordless/start`,
          { method: "POST", agent, headers: { "content-type": "application/json" } },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const normal = JSON.stringify({ client_id: "spa", connection: "sms", phone_number: "+14155550401" });
    expect((await post(normal)).status).toBe(200);
    const big = JSON.stringify({
      client_id: "spa",
      connection: "sms",
      phone_number: "+14155550401",
      pad: "x".repeat(64 * 1024),
    });
    const tooLarge = await post(big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.connection).toBe("close");
    expect(JSON.parse(tooLarge.body)).toMatchObject({ error: "invalid_request" });
    const next = await post(normal);
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toMatchObject({ phone_number: "+14155550401" });
  });
});
