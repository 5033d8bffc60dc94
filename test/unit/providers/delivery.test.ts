import { Writable } from "node:stream";
import { jwtVerify } from "jose";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { CircuitBreaker } from "../../../core/providers/circuit-breaker.js";
import { startFakeSmsGateway } from "../../fakes/fake-sms-gateway.js";
import { startFakeTwilio } from "../../fakes/fake-twilio.js";
import { startFakeVonage } from "../../fakes/fake-vonage.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-token-must-stay-secret";
const VSECRET = "vonage-secret-must-stay-secret";
const CLIENT = "textlock-dev";
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fakes() {
  const twilio = await startFakeTwilio({ accountSid: SID, authToken: TOKEN, invalidNumbers: ["+14155550666"] });
  const vonage = await startFakeVonage({ apiKey: "vkey", apiSecret: VSECRET, statusFor: { "14155550777": "3" } });
  const gateway = await startFakeSmsGateway();
  cleanup.push(twilio.close, vonage.close, gateway.close);
  return { twilio, vonage, gateway };
}

function options(f: Awaited<ReturnType<typeof fakes>>, extra: Record<string, unknown> = {}) {
  return {
    twilio_sid: SID,
    twilio_token: TOKEN,
    twilio_api_base_url: f.twilio.url,
    from: "+15005550006",
    vonage_api_key: "vkey",
    vonage_api_secret: VSECRET,
    vonage_rest_host: f.vonage.url,
    gateway_url: `${f.gateway.url}/sms`,
    ...extra,
  };
}

async function instance(
  opts: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  logger?: import("../../../core/logger.js").Logger,
) {
  const tl = await createTestTextlock(
    { connections: [{ name: "sms", enabled_clients: [CLIENT], options: opts }], ...extra },
    logger ? { logger } : undefined,
  );
  cleanup.push(() => tl.close());
  return tl;
}

const start = (tl: TestTextlock, phone: string, headers: Record<string, string> = {}) =>
  tl.api.start(
    { client_id: CLIENT, connection: "sms", phone_number: phone },
    { xRequestLanguage: headers.lang, ip: "203.0.113.9", userAgent: "test-agent" },
  );
const verify = (tl: TestTextlock, phone: string, otp: string) =>
  tl.api.verify({ client_id: CLIENT, realm: "sms", username: phone, otp });
const codeIn = (text: string) => text.match(/\d{6}/)![0];
const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected failure");
    },
    (e) => toWireError(e),
  );

describe("each provider sends through its real SDK and the code verifies", () => {
  it("twilio: SMS from a number", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: "twilio" }));
    await start(tl, "+14155550101");
    expect(f.twilio.accepted).toHaveLength(1);
    const sent = f.twilio.accepted[0]!;
    expect(sent).toMatchObject({ kind: "sms", to: "+14155550101", from: "+15005550006" });
    expect(sent.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
    await expect(verify(tl, "+14155550101", codeIn(sent.body!))).resolves.toMatchObject({ created: true });
  });

  it("twilio: SMS through a Messaging Service", async () => {
    const f = await fakes();
    const tl = await instance(
      options(f, { provider: "twilio", from: undefined, messaging_service_sid: "MG0123456789abcdef0123456789abcdef" }),
    );
    await start(tl, "+14155550102");
    expect(f.twilio.accepted[0]).toMatchObject({
      messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
      from: undefined,
    });
  });

  it("twilio: voice call with <Say> in the request language, digits read one by one", async () => {
    const f = await fakes();
    const tl = await instance(
      options(f, { provider: "twilio", delivery: "voice", templates: { fr: { voice: "Votre code est @@code@@" } } }),
    );
    await start(tl, "+14155550103", { lang: "fr-FR" });
    const call = f.twilio.accepted[0]!;
    expect(call.kind).toBe("voice");
    expect(call.twiml).toMatch(/<Say language="fr-FR">Votre code est \d, \d, \d, \d, \d, \d<\/Say>/);
    const code = call.twiml!.match(/(\d, ){5}\d/)![0].replace(/, /g, "");
    await expect(verify(tl, "+14155550103", code)).resolves.toBeTruthy();
  });

  it("twilio: an invalid number (21211) is a bad phone number, not retried, and leaves no code", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: "twilio" }));
    const wire = await fail(start(tl, "+14155550666"));
    expect(wire).toMatchObject({
      status: 400,
      body: { error: "bad.phone_number", error_description: "The phone number is invalid (Code: 21211)" },
    });
    expect(f.twilio.requests).toHaveLength(1);
  });

  it("vonage: SMS, and a failed status inside an HTTP 200 is a failure", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: "vonage", from: "Textlock" }));
    await start(tl, "+14155550104");
    expect(f.vonage.accepted[0]).toMatchObject({ to: "14155550104", from: "Textlock" });
    await expect(verify(tl, "+14155550104", codeIn(f.vonage.accepted[0]!.text))).resolves.toBeTruthy();
    const wire = await fail(start(tl, "+14155550777"));
    expect(wire).toMatchObject({
      status: 400,
      body: { error: "bad.phone_number", error_description: "The phone number is invalid (Code: 3)" },
    });
  });

  it("sms_gateway: Auth0's body, bearer JWT and forwarded request info", async () => {
    const f = await fakes();
    const secret = "gateway-shared-secret";
    const tl = await instance(
      options(f, {
        provider: "sms_gateway",
        forward_req_info: "true",
        gateway_authentication: { method: "bearer", subject: "urn:Auth0", audience: "urn:MySmsGateway", secret },
      }),
    );
    await start(tl, "+14155550105");
    const got = f.gateway.accepted[0]!;
    expect(got).toMatchObject({
      recipient: "+14155550105",
      sender: "+15005550006",
      req: { ip: "203.0.113.9", "user-agent": "test-agent" },
    });
    const { payload } = await jwtVerify(got.authorization!.slice(7), new TextEncoder().encode(secret), {
      audience: "urn:MySmsGateway",
      subject: "urn:Auth0",
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    await expect(verify(tl, "+14155550105", codeIn(got.body))).resolves.toBeTruthy();
  });

  it("sms_gateway: Auth0's exact failure descriptions", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: "sms_gateway" }), {
      delivery: { retries: 0, attemptTimeoutMs: 300, deadlineMs: 2000 },
    });
    f.gateway.script.push({ status: 401 });
    expect((await fail(start(tl, "+14155550106"))).body).toEqual({
      error: "sms_provider_error",
      error_description: "Authentication failed while calling the SMS gateway: 401",
    });
    f.gateway.script.push({ status: 502 });
    expect((await fail(start(tl, "+14155550106"))).body).toEqual({
      error: "sms_provider_error",
      error_description: "Unexpected response while calling the SMS gateway: 502",
    });
    f.gateway.script.push({ hang: true });
    expect((await fail(start(tl, "+14155550106"))).body.error_description).toMatch(
      /^Timeout while calling the SMS gateway: /,
    );
  });
});

describe("delivery policy", () => {
  it("retries a transient failure on the same provider and delivers once", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: "twilio" }), { delivery: { backoffMs: 10 } });
    f.twilio.script.push({ status: 503 });
    await start(tl, "+14155550110");
    expect(f.twilio.requests).toHaveLength(2);
    expect(f.twilio.accepted).toHaveLength(1);
  });

  it("fails over exactly once when the primary returns 503", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: ["twilio", "vonage"] }), {
      delivery: { retries: 1, backoffMs: 10 },
    });
    f.twilio.always = { status: 503 };
    await start(tl, "+14155550111");
    expect(f.twilio.accepted).toHaveLength(0);
    expect(f.vonage.accepted).toHaveLength(1);
    await expect(verify(tl, "+14155550111", codeIn(f.vonage.accepted[0]!.text))).resolves.toBeTruthy();
  });

  it("fails over exactly once when the primary hangs, within the deadline", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: ["twilio", "sms_gateway"] }), {
      delivery: { attemptTimeoutMs: 400, deadlineMs: 3000 },
    });
    f.twilio.always = { hang: true };
    const began = Date.now();
    await start(tl, "+14155550112");
    expect(Date.now() - began).toBeLessThan(2000);
    expect(f.twilio.accepted).toHaveLength(0);
    expect(f.gateway.accepted).toHaveLength(1);
  });

  it("a hanging provider never holds a request beyond the deadline, and other requests keep flowing", async () => {
    const f = await fakes();
    const tl = await createTestTextlock({
      clients: [{ client_id: CLIENT }],
      connections: [
        { name: "slow", enabled_clients: [CLIENT], options: options(f, { provider: "twilio" }) },
        { name: "sms", enabled_clients: [CLIENT] },
      ],
      delivery: { attemptTimeoutMs: 500, deadlineMs: 800, retries: 3 },
    });
    cleanup.push(() => tl.close());
    f.twilio.always = { hang: true };
    const began = Date.now();
    const slow = Array.from({ length: 10 }, (_, i) =>
      tl.api.start({ client_id: CLIENT, connection: "slow", phone_number: `+1415555020${i}` }).then(
        () => "sent",
        () => Date.now() - began,
      ),
    );
    const fastStarted = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        tl.api.start({ client_id: CLIENT, connection: "sms", phone_number: `+1415555030${i}` }),
      ),
    );
    expect(Date.now() - fastStarted).toBeLessThan(500);
    const slowTimes = await Promise.all(slow);
    for (const t of slowTimes) {
      expect(typeof t).toBe("number");
      expect(t as number).toBeLessThan(800 + 700);
    }
  });

  it("opens the circuit after repeated failures and skips the provider", async () => {
    const f = await fakes();
    const tl = await instance(options(f, { provider: ["twilio", "vonage"] }), {
      delivery: { retries: 0, breaker: { failures: 2, coolDownMs: 60_000 } },
    });
    f.twilio.always = { status: 500 };
    for (let i = 0; i < 4; i++) await start(tl, `+1415555040${i}`);
    expect(f.twilio.requests).toHaveLength(2);
    expect(f.vonage.accepted).toHaveLength(4);
  });

  it("never writes provider secrets or codes to the log", async () => {
    const f = await fakes();
    const lines: string[] = [];
    const sink = new Writable({
      write: (c, _e, done) => {
        lines.push(String(c));
        done();
      },
    });
    const tl = await instance(
      options(f, { provider: ["twilio", "vonage"] }),
      { delivery: { retries: 1, backoffMs: 5 } },
      pino({ level: "trace" }, sink),
    );
    f.twilio.always = { status: 503 };
    await start(tl, "+14155550120");
    const code = codeIn(f.vonage.accepted[0]!.text);
    const log = lines.join("");
    expect(log).toContain("send attempt failed");
    for (const secret of [TOKEN, VSECRET, code]) expect(log).not.toContain(secret);
  });
});

describe("CircuitBreaker", () => {
  it("opens, half-opens for one trial, and closes on success", () => {
    let now = 0;
    const b = new CircuitBreaker(2, 1000, () => now);
    b.failure();
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    now = 1000;
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
  });
});
