import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startFakeTwilioVerify } from "../fakes/fake-twilio-verify.js";
import { spawnServe } from "../helpers/serve-process.js";

// A connection whose codes Twilio Verify makes, sends and checks, run as an operator runs it:
// `textlock serve` with the real twilio SDK pointed at a loopback Verify fake. textlock still applies
// its own attempt cap, single use and per-phone limits, and maps Verify's errors to Auth0's.
const SID = `AC${randomBytes(16).toString("hex")}`;
const TOKEN = randomBytes(16).toString("hex");
const SERVICE = `VA${randomBytes(16).toString("hex")}`;
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const WRONG = { error: "invalid_grant", error_description: "Wrong phone number or verification code." };
const MAXED = {
  error: "invalid_grant",
  error_description: "You've reached the maximum number of attempts. Please try to login again.",
};

let url: string;
let child: ChildProcess;
let fake: Awaited<ReturnType<typeof startFakeTwilioVerify>>;

const post = async (path: string, body: object, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const start = (phone: string, headers: Record<string, string> = {}) =>
  post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone }, headers);
const login = (phone: string, otp: string) =>
  post("/oauth/token", {
    grant_type: OTP,
    client_id: "textlock-dev",
    realm: "sms",
    username: phone,
    otp,
    scope: "openid",
  });
const codeOf = (phone: string) => fake.verifications.filter((v) => v.to === phone).at(-1)!.code;
const checksOf = (phone: string) =>
  fake.requests.filter((r) => r.path.endsWith("/VerificationCheck") && r.fields.To === phone).length;

// On Redis too: the record without a hash goes through the start's one script (limits), and the
// exchange runs charge, the vendor check and consume outside it, with the ceiling and failure window.
const redisUrl = inject("redisUrl");
const stores: Array<[string, Record<string, unknown> | undefined]> = [
  ["memory", undefined],
  ...(redisUrl
    ? ([["redis", { type: "redis", url: redisUrl, namespace: `verify${process.pid}` }]] as Array<
        [string, Record<string, unknown>]
      >)
    : []),
];

describe.each(stores)("Twilio Verify through textlock serve (%s code store)", (_name, store) => {
  beforeAll(async () => {
    fake = await startFakeTwilioVerify({ accountSid: SID, authToken: TOKEN, serviceSid: SERVICE });
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-verify-"));
    const file = join(dataDir, "textlock.config.json");
    writeFileSync(
      file,
      JSON.stringify({
        dataDir,
        secret: "verify-test-secret-verify-test-secret-0001",
        users: { type: "memory" },
        ...(store ? { store } : {}),
        logging: { level: "warn" },
        // Verify's own send cap (5 while pending) is reached before textlock's per-phone limit here.
        protection: { resendCooldownSeconds: 0, perPhone: { points: 20 }, perPrefix: { points: 50 } },
        connections: [
          {
            name: "sms",
            enabled_clients: ["textlock-dev"],
            options: {
              provider: "twilio-verify",
              twilio_sid: SID,
              twilio_token: TOKEN,
              verify_service_sid: SERVICE,
              twilio_api_base_url: fake.url,
            },
          },
        ],
      }),
    );
    ({ url, child } = await spawnServe(file));
  }, 60_000);

  afterAll(async () => {
    if (child?.exitCode === null) child.kill("SIGTERM");
    await fake?.close();
  });

  it("logs in with the code Verify sent; the code is single use", async () => {
    const phone = "+14155550151";
    expect((await start(phone, { "accept-language": "fr-FR,fr;q=0.9" })).status).toBe(200);
    const sent = fake.verifications.at(-1)!;
    expect(sent).toMatchObject({ to: phone, channel: "sms", locale: "fr" });
    const ok = await login(phone, sent.code);
    expect(ok.status).toBe(200);
    expect(ok.body.id_token).toEqual(expect.any(String));
    // Replayed: textlock's record is used, so Verify is not even asked.
    const before = checksOf(phone);
    expect(await login(phone, sent.code)).toEqual({ status: 403, body: WRONG });
    expect(checksOf(phone)).toBe(before);
  }, 30_000);

  it("textlock's attempt cap (3) kills the code before Verify's own (5): the right code then fails too", async () => {
    const phone = "+14155550152";
    expect((await start(phone)).status).toBe(200);
    const code = codeOf(phone);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) expect(await login(phone, wrong)).toEqual({ status: 403, body: WRONG });
    expect(await login(phone, code)).toEqual({ status: 403, body: MAXED });
    expect(checksOf(phone)).toBe(3);
    // Not a code at all: a wrong code, charged, without a vendor call.
    const other = "+14155550153";
    expect((await start(other)).status).toBe(200);
    expect(await login(other, "12ab")).toEqual({ status: 403, body: WRONG });
    expect(checksOf(other)).toBe(0);
    expect((await login(other, codeOf(other))).status).toBe(200);
  }, 30_000);

  it("of 10 concurrent submissions of the right code, exactly one logs in", async () => {
    const phone = "+14155550156";
    expect((await start(phone)).status).toBe(200);
    const code = codeOf(phone);
    const results = await Promise.all(Array.from({ length: 10 }, () => login(phone, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 403)).toHaveLength(9);
  }, 30_000);

  it("maps Verify's errors: 20404 (verification gone) is a wrong code, 60200 a bad number, 60203 a 429", async () => {
    const phone = "+14155550154";
    expect((await start(phone)).status).toBe(200);
    fake.expire(phone);
    expect(await login(phone, codeOf(phone))).toEqual({ status: 403, body: WRONG });

    expect(await start("+1415")).toEqual({
      status: 400,
      body: { error: "bad.phone_number", error_description: "The phone number is invalid (Code: 60200)" },
    });

    const busy = "+14155550155";
    for (let i = 0; i < 5; i++) expect((await start(busy)).status).toBe(200);
    expect(fake.pending(busy)?.sends).toBe(5);
    expect(await start(busy)).toEqual({
      status: 429,
      body: {
        error: "too_many_requests",
        error_description: "Too many codes were sent to this phone number. Try again later.",
      },
    });
  }, 30_000);
});
