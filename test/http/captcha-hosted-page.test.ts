import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTP_GRANT } from "../../core/config/schema.js";
import { type FakeCaptcha, startFakeCaptcha } from "../fakes/fake-captcha.js";
import { type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const CB = "https://app.example.test/callback";
const SECRET = "turnstile-fake-secret-0123456789";
const SITE_KEY = "0x4AAAAAAAsite-key";
const grants = [OTP_GRANT, "authorization_code"];

// The hosted page shows the vendor's widget only when the bot check will ask for a token, and loads no
// third-party code otherwise.
describe("hosted page bot check", () => {
  let fake: FakeCaptcha;
  let tl: TestTextlock;
  let server: Served;

  beforeAll(async () => {
    fake = await startFakeCaptcha("turnstile", { secret: SECRET, siteKey: SITE_KEY });
    tl = await createTestTextlock({
      clients: [
        { client_id: "open", callbacks: [CB], grant_types: grants },
        { client_id: "guarded", callbacks: [CB], grant_types: grants, captcha: "always" },
        { client_id: "watchful", callbacks: [CB], grant_types: grants, captcha: "adaptive" },
      ],
      connections: [{ name: "sms", enabled_clients: ["open", "guarded", "watchful"] }],
      protection: {
        enabled: false,
        captcha: {
          provider: "turnstile",
          siteKey: SITE_KEY,
          secret: SECRET,
          verifyUrl: fake.verifyUrl,
          adaptive: { perIp: 1, perPrefix: 0, perCountry: 0 },
        },
      },
    });
    server = await serve("standalone", tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
    await fake?.close();
  });

  const authorize = (clientId: string) => {
    const challenge = createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url");
    const q = new URLSearchParams({
      client_id: clientId,
      redirect_uri: CB,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ui_locales: "en",
    });
    return fetch(`${server.url}/authorize?${q}`, { redirect: "manual" });
  };
  const form = (fields: Record<string, string>, cookie: string) =>
    fetch(`${server.url}/sms-login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams(fields).toString(),
    });
  const txOf = (html: string) => html.match(/name="tx" value="([^"]+)"/)![1]!;
  const cookieOf = (res: Response) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  const externalScripts = (html: string) => [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
  const csp = (res: Response) => res.headers.get("content-security-policy") ?? "";

  it("policy off: no widget, no external script, a CSP with no third-party origin", async () => {
    const res = await authorize("open");
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(externalScripts(html)).toEqual([]);
    expect(html).not.toContain("cf-turnstile");
    const thirdParty = csp(res)
      .split("; ")
      .filter((d) => !d.startsWith("form-action") && d.includes("https://"));
    expect(thirdParty).toEqual([]);
    expect(csp(res)).toMatch(/script-src 'nonce-[^' ]+';/);
    expect(csp(res)).not.toContain("frame-src");
  });

  it("policy always: the Turnstile widget and script, and a CSP allowing only Cloudflare's origin", async () => {
    const res = await authorize("guarded");
    const html = await res.text();
    expect(externalScripts(html)).toEqual(["https://challenges.cloudflare.com/turnstile/v0/api.js"]);
    expect(html).toContain(`<div class="captcha cf-turnstile" data-sitekey="${SITE_KEY}"`);
    expect(csp(res)).toMatch(/script-src 'nonce-[^' ]+' https:\/\/challenges\.cloudflare\.com;/);
    expect(csp(res)).toContain("frame-src https://challenges.cloudflare.com");
    expect(csp(res)).not.toMatch(/google|hcaptcha/);
  });

  it("policy always: a send without the widget's token is refused on the page with no SMS; with it the code goes out", async () => {
    const page = await authorize("guarded");
    const cookie = cookieOf(page);
    const fields = { action: "send", country: "US", phone: "415 555 0601" };
    const refused = await form({ tx: txOf(await page.text()), ...fields }, cookie);
    const refusedHtml = await refused.text();
    expect(refused.status).toBe(400);
    expect(refusedHtml).toContain("Complete the check below to show you are not a robot");
    expect(refusedHtml).toContain("cf-turnstile");
    expect(tl.messages("+14155550601")).toHaveLength(0);

    const sent = await form({ tx: txOf(refusedHtml), ...fields, "cf-turnstile-response": fake.issue() }, cookie);
    const codeStep = await sent.text();
    expect(sent.status).toBe(200);
    expect(codeStep).toContain('name="code"');
    expect(tl.messages("+14155550601")).toHaveLength(1);
    // A resend is a new code request: the code step carries the widget in its resend form.
    expect(codeStep).toMatch(/value="resend">\s*<div class="captcha cf-turnstile"/);
  });

  it("policy adaptive: no widget until a start is refused past the threshold, then the widget, then the code", async () => {
    const page = await authorize("watchful");
    const cookie = cookieOf(page);
    const html = await page.text();
    expect(externalScripts(html)).toEqual([]);
    const first = await form({ tx: txOf(html), action: "send", country: "US", phone: "415 555 0611" }, cookie);
    expect(first.status).toBe(200);
    expect(externalScripts(await first.text())).toEqual([]);

    const again = await authorize("watchful");
    const cookie2 = cookieOf(again);
    const fields = { action: "send", country: "US", phone: "415 555 0612" };
    const refused = await form({ tx: txOf(await again.text()), ...fields }, cookie2);
    const refusedHtml = await refused.text();
    expect(refused.status).toBe(400);
    expect(externalScripts(refusedHtml)).toEqual(["https://challenges.cloudflare.com/turnstile/v0/api.js"]);
    expect(tl.messages("+14155550612")).toHaveLength(0);
    const sent = await form({ tx: txOf(refusedHtml), ...fields, "cf-turnstile-response": fake.issue() }, cookie2);
    expect(sent.status).toBe(200);
    expect(tl.messages("+14155550612")).toHaveLength(1);
  });
});

describe("hosted page widgets of the other vendors", () => {
  const cases = [
    ["hcaptcha", "https://js.hcaptcha.com/1/api.js?hl=en", 'class="captcha h-captcha"', "https://*.hcaptcha.com"],
    ["recaptcha_v2", "https://www.google.com/recaptcha/api.js?hl=en", 'class="captcha g-recaptcha"', "gstatic"],
    [
      "recaptcha_v3",
      "https://www.google.com/recaptcha/api.js?render=site-v3",
      'name="g-recaptcha-response"',
      "gstatic",
    ],
  ] as const;
  it.each(cases)("%s renders its own script, markup and CSP origins", async (provider, script, markup, origin) => {
    const tl = await createTestTextlock({
      clients: [{ client_id: "app", callbacks: [CB], grant_types: grants, captcha: "always" }],
      connections: [{ name: "sms", enabled_clients: ["app"] }],
      protection: { captcha: { provider, siteKey: provider === "recaptcha_v3" ? "site-v3" : "site", secret: SECRET } },
    });
    const server = await serve("standalone", tl);
    try {
      const q = new URLSearchParams({
        client_id: "app",
        redirect_uri: CB,
        response_type: "code",
        code_challenge: createHash("sha256").update("verifier").digest("base64url"),
        code_challenge_method: "S256",
        ui_locales: "en",
      });
      const res = await fetch(`${server.url}/authorize?${q}`, { redirect: "manual" });
      const html = await res.text();
      expect([...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1])).toEqual([script]);
      expect(html).toContain(markup);
      const policy = res.headers.get("content-security-policy") ?? "";
      expect(policy).toContain(origin);
      expect(policy).not.toContain("challenges.cloudflare.com");
      if (provider === "recaptcha_v3") expect(html).toContain("grecaptcha.execute(k,{action:a})");
    } finally {
      await server.close();
      await tl.close();
    }
  });
});
