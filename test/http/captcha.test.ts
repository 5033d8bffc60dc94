import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeCaptcha, startFakeCaptcha } from "../fakes/fake-captcha.js";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const SECRET = "0x4AAAAAAAturnstile-fake-secret-key";
const SITE_KEY = "0x4AAAAAAAturnstile-site";

// Auth0's `captcha` field on /passwordless/start, checked before any code exists, through every adapter.
describe.each(ADAPTERS)("bot check on /passwordless/start through %s", (adapter) => {
  let captcha: FakeCaptcha;
  let tl: TestTextlock;
  let server: Served;

  beforeAll(async () => {
    captcha = await startFakeCaptcha("turnstile", { secret: SECRET, siteKey: SITE_KEY });
    tl = await createTestTextlock({
      clients: [
        { client_id: "guarded", name: "Guarded", captcha: "always" },
        { client_id: "open", name: "Open" },
      ],
      connections: [{ name: "sms", enabled_clients: ["guarded", "open"] }],
      protection: {
        enabled: false,
        captcha: { provider: "turnstile", siteKey: SITE_KEY, secret: SECRET, verifyUrl: captcha.verifyUrl },
      },
    });
    server = await serve(adapter, tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
    await captcha?.close();
  });

  const start = (clientId: string, phone: string, extra: Record<string, unknown> = {}) =>
    fetch(`${server.url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: clientId, connection: "sms", phone_number: phone, send: "code", ...extra }),
    });

  it("refuses a start without a captcha: invalid_captcha, no SMS, the vendor never asked", async () => {
    const before = captcha.requests.length;
    const res = await start("guarded", "+14155550301");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_captcha",
      error_description: "Missing captcha value: solve the bot check and send its token in `captcha`",
    });
    const empty = await start("guarded", "+14155550301", { captcha: "" });
    expect(empty.status).toBe(400);
    expect(tl.messages("+14155550301")).toHaveLength(0);
    expect(captcha.requests.length).toBe(before);
  });

  it("refuses an invalid captcha with Auth0's wording and sends no SMS", async () => {
    const res = await start("guarded", "+14155550302", { captcha: "forged-token" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_captcha", error_description: "Invalid captcha value" });
    expect(tl.messages("+14155550302")).toHaveLength(0);
    const asked = captcha.requests.at(-1)!;
    expect(asked.fields).toMatchObject({ secret: SECRET, response: "forged-token", remoteip: "127.0.0.1" });
  });

  it("a solved captcha lets the code go out, once: the same token again is refused", async () => {
    const token = captcha.issue();
    const ok = await start("guarded", "+14155550303", { captcha: token });
    expect(ok.status).toBe(200);
    expect(tl.messages("+14155550303")).toHaveLength(1);
    const replay = await start("guarded", "+14155550303", { captcha: token });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_captcha");
    expect(tl.messages("+14155550303")).toHaveLength(1);
  });

  it("a form-encoded start carries the captcha too", async () => {
    const res = await fetch(`${server.url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: "guarded",
        connection: "sms",
        phone_number: "+14155550304",
        captcha: captcha.issue(),
      }).toString(),
    });
    expect(res.status).toBe(200);
    expect(tl.messages("+14155550304")).toHaveLength(1);
  });

  it("a client whose policy is off needs no captcha (and a stray one is tolerated, as Auth0 does)", async () => {
    expect((await start("open", "+14155550305")).status).toBe(200);
    expect((await start("open", "+14155550306", { captcha: "anything" })).status).toBe(200);
    expect(tl.messages("+14155550305")).toHaveLength(1);
    expect(tl.messages("+14155550306")).toHaveLength(1);
  });
});
