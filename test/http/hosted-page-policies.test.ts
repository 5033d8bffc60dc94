import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textlockExpress } from "../../adapters/express/index.js";
import { OTP_GRANT } from "../../core/config/schema.js";
import { type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// The hosted page honours everything the API honours: hooks (claims and deny), send limits,
// the connection's per-language templates, login_hint.
const CB = "https://app.example.test/callback";

describe("hosted page with hooks, protection and templates", () => {
  let tl: TestTextlock;
  let server: Served;

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [{ client_id: "spa", name: "Acme", callbacks: [CB], grant_types: [OTP_GRANT, "authorization_code"] }],
      connections: [
        {
          name: "sms",
          enabled_clients: ["spa"],
          options: { syntax: "liquid", templates: { fr: { text: "Votre code : {{ code }}" } } },
        },
      ],
      protection: { enabled: true, perPhone: { points: 2, seconds: 3_600 }, resendCooldownSeconds: 0 },
    });
    server = await serve("standalone", tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const pkce = () => {
    const verifier = randomBytes(32).toString("base64url");
    return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
  };
  const authorize = (url: string, extra: Record<string, string> = {}) => {
    const { challenge } = pkce();
    const q = new URLSearchParams({
      client_id: "spa",
      redirect_uri: CB,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...extra,
    });
    return fetch(`${url}/authorize?${q}`, { redirect: "manual" });
  };
  const form = (url: string, fields: Record<string, string>, cookie: string) =>
    fetch(`${url}/sms-login`, {
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

  it("login_hint prefills the number and its country", async () => {
    const html = await (await authorize(server.url, { login_hint: "+33612345678" })).text();
    expect(html).toContain('<option value="FR" selected>');
    expect(html).toContain('value="06 12 34 56 78"');
  });

  it("the SMS follows the page language (ui_locales=fr → the connection's French template)", async () => {
    const page = await authorize(server.url, { ui_locales: "fr-CA fr" });
    const cookie = cookieOf(page);
    const sent = await form(
      server.url,
      { tx: txOf(await page.text()), action: "send", country: "CA", phone: "514 555 0101" },
      cookie,
    );
    expect(sent.status).toBe(200);
    expect(tl.messages("+15145550101").at(-1)!.body).toMatch(/^Votre code : \d{6}$/);
  });

  it("send limits show on the page with Retry-After, and the quota is the API's", async () => {
    const page = await authorize(server.url);
    const cookie = cookieOf(page);
    const tx = txOf(await page.text());
    const first = await form(server.url, { tx, action: "send", country: "US", phone: "415 555 0177" }, cookie);
    const second = await form(server.url, { tx: txOf(await first.text()), action: "resend" }, cookie);
    expect(second.status).toBe(200);
    const third = await form(server.url, { tx: txOf(await second.text()), action: "resend" }, cookie);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await third.text()).toContain("Too many attempts. Wait a moment and try again.");
    expect(tl.messages("+14155550177")).toHaveLength(2);
  });

  it("post-login hooks add claims to the tokens of a hosted login, and a deny is shown with its reason", async () => {
    const script = join(tl.dataDir, "post-login.js");
    writeFileSync(
      script,
      `exports.onExecutePostLogin = async (event, api) => {
        if (event.user.phone_number.endsWith("99")) return api.access.deny("Not today.");
        api.idToken.setCustomClaim("https://example.com/plan", "gold");
      };`,
    );
    const hooked = await createTestTextlock({
      clients: [{ client_id: "spa", callbacks: [CB], grant_types: [OTP_GRANT, "authorization_code"] }],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
      hooks: { scripts: { "post-login": script } },
    });
    const s = await serve("standalone", hooked);
    try {
      const login = async (national: string) => {
        const { verifier, challenge } = pkce();
        const q = new URLSearchParams({
          client_id: "spa",
          redirect_uri: CB,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256",
          scope: "openid",
        });
        const page = await fetch(`${s.url}/authorize?${q}`);
        const cookie = cookieOf(page);
        const sent = await form(
          s.url,
          { tx: txOf(await page.text()), action: "send", country: "US", phone: national },
          cookie,
        );
        const done = await form(
          s.url,
          { tx: txOf(await sent.text()), action: "verify", code: hooked.lastCode(`+1${national.replace(/\D/g, "")}`) },
          cookie,
        );
        return { done, verifier };
      };
      const denied = await login("415 555 0199");
      expect(denied.done.status).toBe(403);
      expect(await denied.done.text()).toContain("Access denied. Not today.");

      const ok = await login("415 555 0188");
      expect(ok.done.status).toBe(302);
      const code = new URL(ok.done.headers.get("location")!).searchParams.get("code")!;
      const tokens = (await (
        await fetch(`${s.url}/oauth/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            grant_type: "authorization_code",
            client_id: "spa",
            code,
            redirect_uri: CB,
            code_verifier: ok.verifier,
          }),
        })
      ).json()) as { id_token: string };
      expect(decodeJwt(tokens.id_token)["https://example.com/plan"]).toBe("gold");
    } finally {
      await s.close();
      await hooked.close();
    }
  });

  it("works mounted under a path prefix (Express app.use('/auth', …)): the page's forms are relative", async () => {
    const app = express();
    app.use("/auth", textlockExpress(tl));
    const listener = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => listener.once("listening", resolve));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/auth`;
    try {
      const { verifier, challenge } = pkce();
      const q = new URLSearchParams({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "code",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const page = await fetch(`${base}/authorize?${q}`);
      const html = await page.text();
      expect(html).toContain('action="sms-login"');
      const cookie = cookieOf(page);
      // A browser resolves the relative action against /auth/authorize: /auth/sms-login.
      const action = new URL("sms-login", `${base}/authorize`).toString();
      expect(action).toBe(`${base}/sms-login`);
      const post = (fields: Record<string, string>) =>
        fetch(action, {
          method: "POST",
          redirect: "manual",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie },
          body: new URLSearchParams(fields).toString(),
        });
      const sent = await post({ tx: txOf(html), action: "send", country: "US", phone: "415 555 0166" });
      const done = await post({ tx: txOf(await sent.text()), action: "verify", code: tl.lastCode("+14155550166") });
      expect(done.status).toBe(302);
      const code = new URL(done.headers.get("location")!).searchParams.get("code")!;
      const res = await fetch(`${base}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "authorization_code",
          client_id: "spa",
          code,
          redirect_uri: CB,
          code_verifier: verifier,
        }),
      });
      expect(res.status).toBe(200);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
