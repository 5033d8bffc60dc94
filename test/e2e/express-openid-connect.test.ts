import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { OTP_GRANT } from "../../core/config/schema.js";
import { browserAvailable, launchChromium, shot } from "../helpers/browser.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { selfSignedCert } from "../helpers/tls.js";
import { startEocApp } from "./fixtures/eoc-app.js";

type App = Awaited<ReturnType<typeof startEocApp>>;

// Unmodified express-openid-connect 3.4.0 (openid-client 6 underneath) in a loopback Express app,
// against textlock over HTTPS: discovery, login through the hosted page in Chromium (code flow, PKCE,
// client_secret_post), a requiresAuth() route, req.oidc.accessToken.refresh(), and /logout both ways:
// auth0Logout (GET /v2/logout?returnTo&client_id) and the discovery end_session_endpoint
// (/oidc/logout with id_token_hint and post_logout_redirect_uri).
describe.runIf(browserAvailable())("express-openid-connect against textlock (Chromium)", () => {
  let dir: string;
  let textlock: TestTextlock;
  let server: RunningServer;
  let browser: Browser;
  /** auth0Logout: true. */
  let auth0App: App;
  /** auth0Logout: false: the OIDC end-session endpoint. */
  let oidcApp: App;
  /** attemptSilentLogin: true, another client. */
  let silentApp: App;
  /** The SDK's defaults (response_type id_token, form_post, no secret), over HTTPS. */
  let defaultApp: App;
  const SECRET = "acme-web-secret-0123456789";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-eoc-"));
    selfSignedCert(dir);
    const tls = { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) };
    [auth0App, oidcApp, silentApp, defaultApp] = await Promise.all([
      startEocApp(),
      startEocApp(),
      startEocApp(),
      startEocApp(tls),
    ]);
    const client = (id: string, app: App) => ({
      client_id: id,
      name: "Acme Web",
      app_type: "regular_web" as const,
      client_secret: SECRET,
      callbacks: [`${app.origin}/callback`],
      allowed_logout_urls: [`${app.origin}/logged-out`],
      grant_types: [OTP_GRANT, "authorization_code", "refresh_token"],
    });
    textlock = await createTestTextlock({
      clients: [
        client("acme-web", auth0App),
        client("acme-web-oidc", oidcApp),
        client("acme-web-silent", silentApp),
        {
          client_id: "acme-web-default",
          name: "Acme Web",
          app_type: "regular_web" as const,
          callbacks: [`${defaultApp.origin}/callback`],
          allowed_logout_urls: [`${defaultApp.origin}/logged-out`],
          grant_types: [OTP_GRANT, "implicit"],
        },
      ],
      connections: [
        { name: "sms", enabled_clients: ["acme-web", "acme-web-oidc", "acme-web-silent", "acme-web-default"] },
      ],
      server: { https: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
    });
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
    const common = {
      clientSecret: SECRET,
      issuer: `https://127.0.0.1:${server.port}/`,
      ca: readFileSync(join(dir, "cert.pem")),
    };
    auth0App.configure({ ...common, clientId: "acme-web", auth0Logout: true });
    oidcApp.configure({ ...common, clientId: "acme-web-oidc", auth0Logout: false });
    defaultApp.configure({ issuer: common.issuer, ca: common.ca, clientId: "acme-web-default", auth0Logout: true });
    silentApp.configure({ ...common, clientId: "acme-web-silent", auth0Logout: false, attemptSilentLogin: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([auth0App?.close(), oidcApp?.close(), silentApp?.close(), defaultApp?.close()]);
    await server?.close();
    await textlock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const issuer = () => `https://127.0.0.1:${server.port}/`;

  /** Requests the browser made to textlock, by path and query. */
  function textlockRequests(context: BrowserContext): URL[] {
    const seen: URL[] = [];
    context.on("request", (r) => {
      if (r.url().startsWith(issuer())) seen.push(new URL(r.url()));
    });
    return seen;
  }

  /** The hosted page: phone, the code from the outbox, back to the app. */
  async function hostedLogin(page: Page, phone: string): Promise<void> {
    await page.waitForURL(`${issuer()}authorize?*`);
    await page.getByLabel("Country").selectOption("US");
    await page.getByLabel("Phone number").fill(phone.replace(/^\+1/, ""));
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    await expect.poll(() => textlock.messages(phone).length).toBeGreaterThan(0);
    await page.getByLabel("Verification code").fill(textlock.lastCode(phone));
    await page.getByRole("button", { name: "Log in" }).click();
  }

  const json = async (page: Page) => JSON.parse((await page.locator("body").textContent())!);

  async function profile(page: Page, app: App) {
    await page.goto(`${app.origin}/profile`);
    return json(page);
  }

  it("requiresAuth() → hosted page → profile; accessToken.refresh() rotates; /logout with auth0Logout goes through /v2/logout", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 800 } });
    const seen = textlockRequests(context);
    try {
      const page = await context.newPage();
      const phone = "+14155550141";
      await page.goto(`${auth0App.origin}/profile`);
      const authorize = seen.find((u) => u.pathname === "/authorize")!;
      expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
        client_id: "acme-web",
        response_type: "code",
        scope: "openid profile phone offline_access",
        code_challenge_method: "S256",
        redirect_uri: `${auth0App.origin}/callback`,
      });
      await shot(page, "eoc-01-hosted-page");
      await hostedLogin(page, phone);
      await page.waitForURL(`${auth0App.origin}/profile`);
      const first = await json(page);
      expect(first.user).toMatchObject({ sub: expect.stringMatching(/^sms\|/), phone_number: phone });
      expect(first.claims).toMatchObject({ iss: issuer(), aud: "acme-web", sid: expect.any(String) });
      expect(first.tokens.refresh_token).toMatch(/^[\w-]{43}$/);

      // req.oidc.accessToken.refresh(): the refresh_token grant, a rotated refresh token, a new id_token.
      await page.goto(`${auth0App.origin}/refresh`);
      const refreshed = await json(page);
      expect(refreshed.before.refresh_token).toBe(first.tokens.refresh_token);
      expect(refreshed.after.refresh_token).toMatch(/^[\w-]{43}$/);
      expect(refreshed.after.refresh_token).not.toBe(first.tokens.refresh_token);
      // No audience: an opaque access token (as Auth0's) that /userinfo accepts for this user.
      await expect(textlock.api.userinfo(refreshed.after.access_token, { issuer: issuer() })).resolves.toMatchObject({
        sub: first.user.sub,
      });
      expect(refreshed.claims).toMatchObject({ sub: first.user.sub, sid: first.claims.sid });
      // The session keeps the rotated token: a second refresh works (the first token is spent).
      await page.goto(`${auth0App.origin}/refresh`);
      expect((await json(page)).before.refresh_token).toBe(refreshed.after.refresh_token);
      expect((await profile(page, auth0App)).user.sub).toBe(first.user.sub);

      // /logout (auth0Logout: true): GET /v2/logout?returnTo=…&client_id=…, then back to the app, logged out.
      await page.goto(`${auth0App.origin}/logout`);
      await page.waitForURL(`${auth0App.origin}/logged-out`);
      expect(await page.locator("#status").textContent()).toBe("logged out");
      const logout = seen.find((u) => u.pathname === "/v2/logout")!;
      expect(Object.fromEntries(logout.searchParams)).toEqual({
        returnTo: `${auth0App.origin}/logged-out`,
        client_id: "acme-web",
      });
      // textlock's session ended too: the next login shows the hosted page again.
      await page.goto(`${auth0App.origin}/profile`);
      await page.waitForURL(`${issuer()}authorize?*`);
      await page.getByLabel("Phone number").waitFor();
      await shot(page, "eoc-02-after-logout");
    } finally {
      await context.close();
    }
  });

  it("/logout without auth0Logout: the discovery end_session_endpoint with id_token_hint and post_logout_redirect_uri", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const seen = textlockRequests(context);
    try {
      const page = await context.newPage();
      const phone = "+14155550142";
      await page.goto(`${oidcApp.origin}/profile`);
      await hostedLogin(page, phone);
      await page.waitForURL(`${oidcApp.origin}/profile`);
      const { user, tokens } = await json(page);
      expect(user.phone_number).toBe(phone);

      await page.goto(`${oidcApp.origin}/logout`);
      await page.waitForURL(`${oidcApp.origin}/logged-out`);
      expect(await page.locator("#status").textContent()).toBe("logged out");
      expect(seen.some((u) => u.pathname === "/v2/logout")).toBe(false);
      const logout = seen.find((u) => u.pathname === "/oidc/logout")!;
      expect(Object.fromEntries(logout.searchParams)).toEqual({
        client_id: "acme-web-oidc",
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: `${oidcApp.origin}/logged-out`,
      });
      // The hint's session ended: a new login needs the hosted page.
      await page.goto(`${oidcApp.origin}/profile`);
      await page.waitForURL(`${issuer()}authorize?*`);
      await page.getByLabel("Phone number").waitFor();
    } finally {
      await context.close();
    }
  });

  it("attemptSilentLogin: a browser with a textlock session is logged in to a second app without the page (prompt=none)", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const seen = textlockRequests(context);
    try {
      const page = await context.newPage();
      // No textlock session yet: the silent attempt comes back login_required, and the app carries on.
      await page.goto(`${silentApp.origin}/`);
      await page.waitForURL(`${silentApp.origin}/`);
      expect(await page.locator("#status").textContent()).toBe("logged out");
      expect(seen.filter((u) => u.pathname === "/authorize").map((u) => u.searchParams.get("prompt"))).toEqual([
        "none",
      ]);

      // Log in to the first app through the hosted page…
      const phone = "+14155550143";
      await page.goto(`${oidcApp.origin}/profile`);
      await hostedLogin(page, phone);
      await page.waitForURL(`${oidcApp.origin}/profile`);
      const first = await json(page);

      // …then the second app (a new SDK session: clear its cookies) logs in silently, same user and session.
      await context.clearCookies({ name: /^(appSession_acme-web-silent|skipSilentLogin)/ });
      const before = seen.length;
      await page.goto(`${silentApp.origin}/`);
      await page.waitForURL(`${silentApp.origin}/`);
      expect(await page.locator("#status").textContent()).toBe("logged in");
      const silent = seen.slice(before).filter((u) => u.pathname === "/authorize");
      expect(silent.map((u) => u.searchParams.get("prompt"))).toEqual(["none"]);
      const second = await profile(page, silentApp);
      expect(second.user.sub).toBe(first.user.sub);
      expect(second.claims).toMatchObject({ aud: "acme-web-silent", sid: first.claims.sid });
    } finally {
      await context.close();
    }
  });
  it("the SDK's defaults (response_type id_token, response_mode form_post, no client secret) over HTTPS", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const seen = textlockRequests(context);
    try {
      const page = await context.newPage();
      const phone = "+14155550144";
      await page.goto(`${defaultApp.origin}/profile`);
      const authorize = seen.find((u) => u.pathname === "/authorize")!;
      expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
        client_id: "acme-web-default",
        response_type: "id_token",
        response_mode: "form_post",
        scope: "openid profile email",
        nonce: expect.any(String),
      });
      await hostedLogin(page, phone);
      // textlock's form_post page posts the id_token to /callback, which redirects to /profile.
      await page.waitForURL(`${defaultApp.origin}/profile`);
      const { user, claims } = await json(page);
      expect(user).toMatchObject({ sub: expect.stringMatching(/^sms\|/), phone_number: phone });
      expect(claims).toMatchObject({ iss: issuer(), aud: "acme-web-default" });
      await page.goto(`${defaultApp.origin}/logout`);
      await page.waitForURL(`${defaultApp.origin}/logged-out`);
      expect(await page.locator("#status").textContent()).toBe("logged out");
    } finally {
      await context.close();
    }
  });
});
