import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeTwilio } from "../fakes/fake-twilio.js";
import { startFakeVonage } from "../fakes/fake-vonage.js";
import { startFakeVonageMessages } from "../fakes/fake-vonage-messages.js";
import { spawnServe } from "../helpers/serve-process.js";

const OTP_GRANT = "http://auth0.com/oauth/grant-type/passwordless/otp";
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `textlock serve` with one public client and one connection whose options are `options`. */
async function serve(options: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-whatsapp-serve-"));
  const configFile = join(dataDir, "textlock.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir,
      logging: { level: "warn" },
      protection: { resendCooldownSeconds: 0 },
      clients: [{ client_id: "app" }],
      connections: [{ name: "sms", enabled_clients: ["app"], options }],
    }),
  );
  const { url, child } = await spawnServe(configFile);
  cleanup.push(() => void (child as ChildProcess).kill("SIGTERM"));
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    start: (phone: string, extra: Record<string, unknown> = {}) =>
      post("/passwordless/start", { client_id: "app", connection: "sms", phone_number: phone, send: "code", ...extra }),
    login: (phone: string, otp: string) =>
      post("/oauth/token", {
        grant_type: OTP_GRANT,
        client_id: "app",
        realm: "sms",
        username: phone,
        otp,
        scope: "openid",
      }),
  };
}

describe("textlock serve: WhatsApp", () => {
  it("Twilio: the code goes to whatsapp:+… as the content template's variable 1, and logs in; an SMS→WhatsApp switch carries the same code", async () => {
    const accountSid = `AC${randomBytes(16).toString("hex")}`;
    const authToken = randomBytes(16).toString("hex");
    const contentSid = `HX${randomBytes(16).toString("hex")}`;
    const fake = await startFakeTwilio({ accountSid, authToken });
    cleanup.push(() => fake.close());
    const tl = await serve({
      provider: "twilio",
      twilio_sid: accountSid,
      twilio_token: authToken,
      from: "+15005550006",
      twilio_whatsapp_from: "+14155238886",
      twilio_whatsapp_content_sid: contentSid,
      twilio_api_base_url: fake.url,
      delivery: "text",
      channels: ["sms", "whatsapp"],
    });

    expect((await tl.start("+14155550123", { delivery_method: "whatsapp" })).status).toBe(200);
    const wa = fake.accepted.at(-1)!;
    expect(wa).toMatchObject({
      kind: "whatsapp",
      to: "whatsapp:+14155550123",
      from: "whatsapp:+14155238886",
      contentSid,
      body: undefined,
    });
    const code = JSON.parse(wa.contentVariables!)["1"] as string;
    expect(code).toMatch(/^\d{6}$/);
    const login = await tl.login("+14155550123", code);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: "Bearer", id_token: expect.any(String) });

    // SMS first, then "send it by WhatsApp": the same code, one login.
    expect((await tl.start("+14155550124")).status).toBe(200);
    const sms = fake.accepted.at(-1)!;
    expect(sms.kind).toBe("sms");
    expect((await tl.start("+14155550124", { delivery_method: "whatsapp" })).status).toBe(200);
    const resent = fake.accepted.at(-1)!;
    expect(resent.kind).toBe("whatsapp");
    const same = JSON.parse(resent.contentVariables!)["1"] as string;
    expect(sms.body).toContain(same);
    expect((await tl.login("+14155550124", same)).status).toBe(200);

    // A channel the connection does not list: 400, nothing sent.
    const before = fake.accepted.length;
    expect(await tl.start("+14155550125", { delivery_method: "voice" })).toMatchObject({
      status: 400,
      body: { error: "bad.request" },
    });
    expect(fake.accepted).toHaveLength(before);
  }, 60_000);

  it("Vonage: a WhatsApp authentication template over the Messages API (JWT of the application), and logs in", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const applicationId = randomUUID();
    const apiKey = randomBytes(4).toString("hex");
    const apiSecret = randomBytes(8).toString("hex");
    const messages = await startFakeVonageMessages({
      apiKey,
      apiSecret,
      applicationId,
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const sms = await startFakeVonage({ apiKey, apiSecret });
    cleanup.push(() => messages.close());
    cleanup.push(() => sms.close());
    const tl = await serve({
      provider: "vonage",
      vonage_api_key: apiKey,
      vonage_api_secret: apiSecret,
      from: "TextLock",
      vonage_rest_host: sms.url,
      vonage_application_id: applicationId,
      vonage_private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      vonage_whatsapp_from: "+447700900001",
      vonage_whatsapp_template: "login_code",
      vonage_whatsapp_locale: "en",
      vonage_api_host: messages.url,
      delivery: "whatsapp",
      channels: ["whatsapp", "sms"],
    });

    expect((await tl.start("+447700900123")).status).toBe(200);
    expect(sms.accepted).toHaveLength(0);
    const wa = messages.accepted.at(-1)!;
    expect(wa).toMatchObject({
      to: "447700900123",
      from: "447700900001",
      channel: "whatsapp",
      messageType: "custom",
      template: "login_code",
      language: "en",
      auth: "jwt",
    });
    const [code, button] = wa.parameters;
    expect(code).toMatch(/^\d{6}$/);
    expect(button).toBe(code);
    expect((await tl.login("+447700900123", code!)).status).toBe(200);

    // WhatsApp not reaching the person: "send it by SMS" carries the same code.
    expect((await tl.start("+447700900124")).status).toBe(200);
    const first = messages.accepted.at(-1)!.parameters[0]!;
    expect((await tl.start("+447700900124", { delivery_method: "text" })).status).toBe(200);
    expect(sms.accepted.at(-1)).toMatchObject({ to: "447700900124" });
    expect(sms.accepted.at(-1)!.text).toContain(first);
    expect((await tl.login("+447700900124", first)).status).toBe(200);
  }, 60_000);
});
