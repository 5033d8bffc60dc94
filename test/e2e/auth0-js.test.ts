import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { OTP_GRANT } from "../../core/config/schema.js";
import { browserAvailable, launchAllowingThirdPartyCookies, launchChromium, shot } from "../helpers/browser.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { selfSignedCert } from "../helpers/tls.js";
import { startAuth0JsApp } from "./fixtures/app-server.js";

type App = Awaited<ReturnType<typeof startAuth0JsApp>>;

// Unmodified auth0-js (the npm package's browser bundle) in a page on another origin, against textlock
// over HTTPS on 127.0.0.1: passwordlessStart, passwordlessLogin (/co/authenticate, then a top-level
// /authorize?login_ticket=…), and parseHash, which checks the id_token against textlock's JWKS, the
// nonce and at_hash.
describe.runIf(browserAvailable())("auth0-js passwordless from another origin (Chromium)", () => {
  let dir: string;
  let textlock: TestTextlock;
  let server: RunningServer;
  /** http://localhost:A — another site than textlock (https://127.0.0.1:B). */
  let crossSite: App;
  /** https://127.0.0.1:C — same site as textlock, another origin. */
  let sameSite: App;
  let browser: Browser;

  const spa = (id: string, app: App) => ({
    client_id: id,
    name: "Acme SPA",
    app_type: "spa" as const,
    callbacks: [`${app.origin}/callback`, `${app.origin}/lock-callback`],
    allowed_origins: [app.origin],
    web_origins: [app.origin],
    cross_origin_authentication: true,
    cross_origin_loc: `${app.origin}/co-verify`,
    grant_types: [OTP_GRANT, "implicit"],
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-cert-"));
    selfSignedCert(dir);
    const tls = { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) };
    crossSite = await startAuth0JsApp({ clientId: "acme-spa" });
    sameSite = await startAuth0JsApp({ clientId: "acme-spa-same-site", tls });
    textlock = await createTestTextlock({
      clients: [spa("acme-spa", crossSite), spa("acme-spa-same-site", sameSite)],
      connections: [{ name: "sms", enabled_clients: ["acme-spa", "acme-spa-same-site"] }],
      server: { https: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
    });
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
    for (const app of [crossSite, sameSite]) app.setDomain(`127.0.0.1:${server.port}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await textlock?.close();
    await crossSite?.close();
    await sameSite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = (page: Page) => page.locator("#status").textContent();

  async function sendCode(page: Page, phone: string) {
    const before = textlock.messages(phone).length;
    await page.getByLabel("Phone number").fill(phone);
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => status(page)).toBe("code sent");
    await expect.poll(() => textlock.messages(phone).length).toBe(before + 1);
    return textlock.lastCode(phone);
  }

  async function submitCode(page: Page, code: string) {
    await page.getByLabel("Code").fill(code);
    await page.getByRole("button", { name: "Log in", exact: true }).click();
  }

  async function expectLoggedIn(page: Page, app: App, phone: string) {
    await page.waitForURL(`${app.origin}/callback#*`);
    await expect.poll(() => status(page)).not.toBe("parsing");
    expect(await status(page)).toBe("logged in");
    const claims = JSON.parse((await page.locator("#claims").textContent())!);
    expect(claims).toMatchObject({ phone_number: phone, iss: `https://127.0.0.1:${server.port}/` });
    expect(claims.at_hash).toMatch(/^[\w-]{22}$/);
    // The access token from the fragment works at /userinfo, called from the app's origin (CORS).
    const profile = await page.evaluate(async (userinfo) => {
      const token = (globalThis as unknown as { RESULT: { accessToken: string } }).RESULT.accessToken;
      return (await fetch(userinfo, { headers: { authorization: `Bearer ${token}` } })).json();
    }, `https://127.0.0.1:${server.port}/userinfo`);
    expect(profile).toMatchObject({ phone_number: phone, sub: claims.sub });
  }

  it("cross-site, third-party cookies allowed: wrong code, resend, newest code, tokens via the verifier cookie, then checkSession from the session", async () => {
    const profileDir = mkdtempSync(join(tmpdir(), "textlock-e2e-profile-"));
    const context = await launchAllowingThirdPartyCookies(profileDir, {
      ignoreHTTPSErrors: true,
      viewport: { width: 480, height: 720 },
    });
    try {
      const page = await context.newPage();
      const verifyPages = crossSite.requests.filter((p) => p === "/co-verify").length;
      await page.goto(`${crossSite.origin}/`);
      const phone = "+14155550123";
      const first = await sendCode(page, phone);
      await shot(page, "auth0js-01-code-sent");

      await submitCode(page, first === "000000" ? "111111" : "000000");
      await expect.poll(() => status(page)).toBe("error: Wrong phone number or verification code.");
      await shot(page, "auth0js-02-wrong-code");

      const second = await sendCode(page, phone);
      if (second !== first) {
        // Only the newest code is valid.
        await submitCode(page, first);
        await expect.poll(() => status(page)).toBe("error: Wrong phone number or verification code.");
      }
      await submitCode(page, second);
      await expectLoggedIn(page, crossSite, phone);
      expect(crossSite.requests.filter((p) => p === "/co-verify").length).toBe(verifyPages);
      await shot(page, "auth0js-03-logged-in");

      // The login started textlock's session: checkSession (a hidden iframe, web_message, prompt=none)
      // gets tokens for the same person without a code.
      const loggedIn = JSON.parse((await page.locator("#claims").textContent())!);
      await page.goto(`${crossSite.origin}/check-session`);
      await expect.poll(() => status(page)).toBe("session");
      expect(JSON.parse((await page.locator("#claims").textContent())!)).toMatchObject({
        sub: loggedIn.sub,
        phone_number: phone,
        sid: loggedIn.sid,
        auth_time: loggedIn.auth_time,
      });
    } finally {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("popup mode (passwordlessLogin with popup: true): /authorize answers by web_message in a hidden iframe", async () => {
    const profileDir = mkdtempSync(join(tmpdir(), "textlock-e2e-profile-"));
    const context = await launchAllowingThirdPartyCookies(profileDir, {
      ignoreHTTPSErrors: true,
      viewport: { width: 480, height: 720 },
    });
    try {
      const page = await context.newPage();
      await page.goto(`${crossSite.origin}/`);
      const phone = "+14155550127";
      await page.getByLabel("Code").fill(await sendCode(page, phone));
      await page.getByRole("button", { name: "Log in without leaving the page" }).click();
      await expect.poll(() => status(page)).toBe("logged in without leaving");
      expect(page.url()).toBe(`${crossSite.origin}/`);
      // auth0-js camel-cases the callback's result in this mode (phone_number → phoneNumber, at_hash → atHash).
      expect(JSON.parse((await page.locator("#claims").textContent())!)).toMatchObject({
        phoneNumber: phone,
        aud: "acme-spa",
        atHash: expect.any(String),
      });
      await shot(page, "auth0js-06-web-message");
    } finally {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    }
  });

  it("no verifier cookie reaches /authorize: the cross_origin_loc fallback page supplies the verifier", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 720 } });
    // Act as a browser that does not keep textlock's verifier cookie (Safari ITP and the like).
    await context.route(`https://127.0.0.1:${server.port}/co/authenticate`, async (route) => {
      const response = await route.fetch();
      // route.fetch() stores the cookie in the context's jar: take it out again.
      await context.clearCookies({ name: /^tl_co_/ });
      const headers = { ...response.headers() };
      delete headers["set-cookie"];
      await route.fulfill({ response, headers });
    });
    const verifyPages = sameSite.requests.filter((p) => p === "/co-verify").length;
    const page = await context.newPage();
    await page.goto(`${sameSite.origin}/`);
    const phone = "+14155550124";
    await submitCode(page, await sendCode(page, phone));
    await expectLoggedIn(page, sameSite, phone);
    expect(sameSite.requests.filter((p) => p === "/co-verify").length).toBe(verifyPages + 1);
    await shot(page, "auth0js-04-fallback-logged-in");
    await context.close();
  });

  it("cross-site with third-party cookies and storage blocked: the callback gets a clear access_denied, no tokens", async () => {
    // Chromium's incognito-like contexts block third-party cookies and partition the fallback iframe's
    // storage, so neither way can prove the ticket belongs to this browser. textlock refuses, with reasons.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 720 } });
    const page = await context.newPage();
    await page.goto(`${crossSite.origin}/`);
    const phone = "+14155550125";
    await submitCode(page, await sendCode(page, phone));
    await page.waitForURL(`${crossSite.origin}/callback#*`);
    await expect.poll(() => status(page)).toMatch(/^error: access_denied Cross-origin verification failed/);
    expect(page.url()).not.toContain("access_token");
    await shot(page, "auth0js-05-third-party-blocked");
    await context.close();
  });

  it("checkSession (web_message, prompt=none) without a textlock session answers login_required", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${crossSite.origin}/check-session`);
    await expect.poll(() => status(page)).toBe("error: login_required Login required");
    await context.close();
  });

  it("Lock Passwordless (auth0-lock, unmodified): client script, country lookup, code, tokens", async () => {
    const profileDir = mkdtempSync(join(tmpdir(), "textlock-e2e-profile-"));
    const context = await launchAllowingThirdPartyCookies(profileDir, {
      ignoreHTTPSErrors: true,
      viewport: { width: 480, height: 800 },
    });
    try {
      const page = await context.newPage();
      const seen: string[] = [];
      page.on("request", (r) => seen.push(new URL(r.url()).pathname));
      // Lock fetches its badge from Auth0's CDN: nothing leaves loopback in tests.
      await context.route(
        (url) => !["127.0.0.1", "localhost"].includes(url.hostname),
        (route) => route.abort(),
      );
      await page.goto(`${crossSite.origin}/lock`);
      const phoneInput = page.locator('input[name="phoneNumber"], input[type="tel"]').first();
      await phoneInput.waitFor({ timeout: 10_000 });
      expect(seen).toContain("/client/acme-spa.js");
      expect(seen).toContain("/user/geoloc/country");
      await shot(page, "lock-01-phone");
      const phone = "+14155550126";
      await phoneInput.fill("4155550126");
      await page.locator("button.auth0-lock-submit").click();
      const codeInput = page.locator('input[name="vcode"], input[autocomplete="one-time-code"]').first();
      await codeInput.waitFor({ timeout: 10_000 });
      await expect.poll(() => textlock.messages(phone).length).toBe(1);
      await shot(page, "lock-02-code");
      await codeInput.fill(textlock.lastCode(phone));
      await page.locator("button.auth0-lock-submit").click();
      await page.waitForURL(`${crossSite.origin}/lock-callback#*`);
      await expect.poll(() => status(page)).toBe("logged in");
      expect(JSON.parse((await page.locator("#claims").textContent())!)).toMatchObject({
        phone_number: phone,
        aud: "acme-spa",
      });
      // Lock asked for an SSO session first (checkSession: web_message, prompt=none) and went on without one.
      expect(seen.filter((p) => p === "/authorize").length).toBeGreaterThanOrEqual(2);
      await shot(page, "lock-03-logged-in");
    } finally {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    }
  });
});
