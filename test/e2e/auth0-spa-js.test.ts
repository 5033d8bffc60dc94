import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { OTP_GRANT } from "../../core/config/schema.js";
import { browserAvailable, launchChromium, shot } from "../helpers/browser.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { selfSignedCert } from "../helpers/tls.js";
import { startSpaJsApp } from "./fixtures/spa-js-app.js";

type App = Awaited<ReturnType<typeof startSpaJsApp>>;

/** What the page's `client` (an unmodified auth0-spa-js `Auth0Client`) is, as far as the tests call it. */
interface SpaClient {
  loginWithRedirect(o?: unknown): Promise<void>;
  getUser(): Promise<Record<string, unknown> | undefined>;
  getTokenSilently(o?: unknown): Promise<string | Record<string, string>>;
  getIdTokenClaims(): Promise<Record<string, unknown> | undefined>;
  isAuthenticated(): Promise<boolean>;
  logout(o?: unknown): Promise<void>;
  revokeRefreshToken(o?: unknown): Promise<void>;
}
declare const client: SpaClient;

/** A JWT's payload, unverified (the SDK has verified the id_token; the tests only compare claims). */
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

// Unmodified @auth0/auth0-spa-js 2.28.3 (the npm package's browser bundle) in an app on another origin
// than textlock (both HTTPS on 127.0.0.1): loginWithRedirect → textlock's hosted page →
// handleRedirectCallback (code + PKCE at /oauth/token, id_token checked by the SDK) → getUser →
// getTokenSilently through the refresh_token grant (rotation, in the SDK's web worker) → logout to returnTo.
describe.runIf(browserAvailable())("auth0-spa-js against textlock (Chromium)", () => {
  let dir: string;
  let textlock: TestTextlock;
  let server: RunningServer;
  let app: App;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-spa-"));
    selfSignedCert(dir);
    const tls = { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) };
    app = await startSpaJsApp({ clientId: "acme-spa", tls });
    textlock = await createTestTextlock({
      clients: [
        {
          client_id: "acme-spa",
          name: "Acme SPA",
          app_type: "spa",
          token_endpoint_auth_method: "none",
          callbacks: [`${app.origin}/callback`],
          allowed_logout_urls: [`${app.origin}/logged-out`],
          web_origins: [app.origin],
          grant_types: [OTP_GRANT, "authorization_code", "refresh_token"],
        },
      ],
      connections: [{ name: "sms", enabled_clients: ["acme-spa"] }],
      server: { https: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
    });
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
    app.setDomain(`127.0.0.1:${server.port}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await textlock?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const issuer = () => `https://127.0.0.1:${server.port}/`;
  const status = (page: Page) => page.locator("#status").textContent();

  /** Posts to textlock's /oauth/token seen by the browser (page and workers), with their form fields. */
  function tokenRequests(context: BrowserContext): Array<Record<string, string>> {
    const seen: Array<Record<string, string>> = [];
    context.on("request", (r: Request) => {
      if (r.method() === "POST" && r.url() === `${issuer()}oauth/token`)
        seen.push(Object.fromEntries(new URLSearchParams(r.postData() ?? "")));
    });
    return seen;
  }

  /** From the app's home page through the hosted page back to /callback, logged in. */
  async function logIn(page: Page, phone: string, query = ""): Promise<void> {
    await page.goto(`${app.origin}/${query}`);
    await expect.poll(() => status(page)).toBe("ready");
    await page.evaluate(() => client.loginWithRedirect());
    await page.waitForURL(`${issuer()}authorize?*`);
    await page.getByLabel("Country").selectOption("US");
    await page.getByLabel("Phone number").fill(phone.replace(/^\+1/, ""));
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    await expect.poll(() => textlock.messages(phone).length).toBeGreaterThan(0);
    await page.getByLabel("Verification code").fill(textlock.lastCode(phone));
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${app.origin}/callback*`);
    await expect.poll(() => status(page)).not.toBe("loading");
    expect(await status(page)).toBe("logged in");
  }

  it("loginWithRedirect → hosted page → handleRedirectCallback → getUser; refresh rotation in getTokenSilently; revokeRefreshToken; logout to returnTo", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 800 } });
    const posts = tokenRequests(context);
    try {
      const page = await context.newPage();
      const phone = "+14155550131";
      await logIn(page, phone, "?refresh=1");
      await shot(page, "spajs-01-logged-in");

      // handleRedirectCallback exchanged the code with PKCE, as a public client.
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatchObject({ grant_type: "authorization_code", client_id: "acme-spa" });
      expect(posts[0]!.code_verifier).toMatch(/^[\w.~-]{43,128}$/);

      const user = JSON.parse((await page.locator("#user").textContent())!);
      expect(user).toMatchObject({ phone_number: phone, sub: expect.stringMatching(/^sms\|/) });
      const claims = (await page.evaluate(() => client.getIdTokenClaims()))!;
      expect(claims).toMatchObject({ iss: issuer(), aud: "acme-spa", phone_number: phone });
      expect(await page.evaluate(() => client.isAuthenticated())).toBe(true);

      // The SDK asked for offline_access and got a refresh token; the next two tokens come from the
      // refresh_token grant (cacheMode "off" skips the SDK's cache), each rotating the refresh token.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const first = await page.evaluate(() => client.getTokenSilently({ cacheMode: "off", detailedResponse: true }));
      const second = await page.evaluate(() => client.getTokenSilently({ cacheMode: "off", detailedResponse: true }));
      const refreshes = posts.slice(1);
      expect(refreshes.map((p) => p.grant_type)).toEqual(["refresh_token", "refresh_token"]);
      expect(refreshes[1]!.refresh_token).not.toBe(refreshes[0]!.refresh_token);
      // The SDK sent the rotated token the second time (a spent one would have been refused as a reuse).
      for (const t of [first, second] as Array<Record<string, string>>) {
        // No audience: an opaque token (as Auth0's) that /userinfo accepts for this user.
        expect(t.access_token!.split(".")).toHaveLength(1);
        await expect(textlock.api.userinfo(t.access_token!, { issuer: issuer() })).resolves.toMatchObject({
          sub: user.sub,
        });
        // Still the same login: its auth_time and session, however late the refresh.
        expect(claimsOf(t.id_token!)).toMatchObject({
          sub: user.sub,
          aud: "acme-spa",
          phone_number: phone,
          auth_time: claims.auth_time,
          sid: claims.sid,
        });
      }
      // The access token works at /userinfo from the app's origin (CORS).
      const profile = await page.evaluate(
        async ([url, token]) => (await fetch(url!, { headers: { authorization: `Bearer ${token}` } })).json(),
        [`${issuer()}userinfo`, (second as Record<string, string>).access_token],
      );
      expect(profile).toMatchObject({ sub: user.sub, phone_number: phone });

      // revokeRefreshToken(): the SDK's worker posts the current refresh token to /oauth/revoke, and
      // textlock revokes it (a replay is refused).
      const revokes: Array<Record<string, string>> = [];
      context.on("request", (r) => {
        if (r.method() === "POST" && r.url() === `${issuer()}oauth/revoke`)
          revokes.push(Object.fromEntries(new URLSearchParams(r.postData() ?? "")));
      });
      await page.evaluate(() => client.revokeRefreshToken());
      expect(revokes).toHaveLength(1);
      expect(revokes[0]).toMatchObject({ client_id: "acme-spa", token_type_hint: "refresh_token" });
      expect(revokes[0]!.token).toMatch(/^[\w-]{43}$/);
      const replay = await page.evaluate(
        async ([url, token]) => {
          const r = await fetch(url!, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "refresh_token", client_id: "acme-spa", refresh_token: token! }),
          });
          return { status: r.status, body: await r.json() };
        },
        [`${issuer()}oauth/token`, revokes[0]!.token],
      );
      expect(replay).toEqual({
        status: 403,
        body: { error: "invalid_grant", error_description: "Unknown or invalid refresh token." },
      });

      // logout({logoutParams:{returnTo}}) goes through /v2/logout back to the app.
      const logoutUrls: string[] = [];
      page.on("request", (r) => {
        if (r.url().startsWith(`${issuer()}v2/logout`)) logoutUrls.push(r.url());
      });
      await page.evaluate((returnTo) => client.logout({ logoutParams: { returnTo } }), `${app.origin}/logged-out`);
      await page.waitForURL(`${app.origin}/logged-out`);
      await expect.poll(() => status(page)).toBe("ready");
      expect(logoutUrls).toHaveLength(1);
      expect(Object.fromEntries(new URL(logoutUrls[0]!).searchParams)).toMatchObject({
        client_id: "acme-spa",
        returnTo: `${app.origin}/logged-out`,
      });
      expect(await page.evaluate(() => client.isAuthenticated())).toBe(false);
      await shot(page, "spajs-02-logged-out");
    } finally {
      await context.close();
    }
  });

  it("silent auth from textlock's login session: getTokenSilently in the iframe (web_message, prompt=none), SSO in a new page, logout, then login_required", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 800 } });
    const posts = tokenRequests(context);
    const silent: string[] = [];
    context.on("request", (r) => {
      if (r.url().startsWith(`${issuer()}authorize?`) && r.url().includes("prompt=none")) silent.push(r.url());
    });
    try {
      const page = await context.newPage();
      const phone = "+14155550133";
      await logIn(page, phone);
      const user = JSON.parse((await page.locator("#user").textContent())!);
      const loginClaims = (await page.evaluate(() => client.getIdTokenClaims()))!;
      expect(loginClaims.sid).toEqual(expect.any(String));

      // No refresh token: the SDK asks textlock in a hidden iframe, which answers from the session cookie.
      const token = (await page.evaluate(() =>
        client.getTokenSilently({ cacheMode: "off", detailedResponse: true }),
      )) as Record<string, string>;
      expect(silent).toHaveLength(1);
      expect(Object.fromEntries(new URL(silent[0]!).searchParams)).toMatchObject({
        prompt: "none",
        response_mode: "web_message",
        response_type: "code",
        client_id: "acme-spa",
      });
      expect(posts.map((p) => p.grant_type)).toEqual(["authorization_code", "authorization_code"]);
      expect(posts.every((p) => p.refresh_token === undefined)).toBe(true);
      const silentClaims = claimsOf(token.id_token!);
      // The same login: its sid and auth_time, not a new one.
      expect(silentClaims).toMatchObject({ sub: user.sub, sid: loginClaims.sid, auth_time: loginClaims.auth_time });
      await expect(textlock.api.userinfo(token.access_token!, { issuer: issuer() })).resolves.toMatchObject({
        sub: user.sub,
      });

      // An access token for the app's own API (another audience), from the same session.
      const api = "https://api.acme.example/";
      const apiToken = (await page.evaluate(
        (audience) => client.getTokenSilently({ authorizationParams: { audience } }),
        api,
      )) as string;
      expect(claimsOf(apiToken)).toMatchObject({ sub: user.sub, aud: [api, `${issuer()}userinfo`], azp: "acme-spa" });
      expect(silent).toHaveLength(2);

      // Another page of the app, with an empty SDK cache: createAuth0Client's checkSession (the SDK's
      // is.authenticated hint cookie is set) logs in silently, without the hosted page.
      await page.goto(`${app.origin}/`);
      await expect.poll(() => status(page)).toBe("ready");
      expect(await page.evaluate(() => client.isAuthenticated())).toBe(true);
      expect((await page.evaluate(() => client.getUser()))!).toMatchObject({ sub: user.sub, phone_number: phone });
      expect(silent).toHaveLength(3);

      // loginWithRedirect with a live session skips the hosted page: straight back to the callback.
      const hostedPages: string[] = [];
      page.on("response", (r) => {
        const top = r.request().isNavigationRequest() && r.frame() === page.mainFrame();
        if (top && r.url().startsWith(issuer()) && r.status() === 200) hostedPages.push(r.url());
      });
      await page.evaluate(() => client.loginWithRedirect());
      await page.waitForURL(`${app.origin}/callback*`);
      await expect.poll(() => status(page)).not.toBe("loading");
      expect(await status(page)).toBe("logged in");
      expect(hostedPages).toEqual([]);

      // Logout ends textlock's session: silent auth now answers login_required (the SDK's error).
      await page.evaluate((returnTo) => client.logout({ logoutParams: { returnTo } }), `${app.origin}/logged-out`);
      await page.waitForURL(`${app.origin}/logged-out`);
      await expect.poll(() => status(page)).toBe("ready");
      const after = await page.evaluate(() =>
        client.getTokenSilently({ cacheMode: "off" }).then(
          () => "token",
          (e: { error?: string; error_description?: string }) => `${e.error}: ${e.error_description}`,
        ),
      );
      expect(after).toBe("login_required: Login required");
      await shot(page, "spajs-03-after-logout");
    } finally {
      await context.close();
    }
  });

  it("a reused (rotated-away) refresh token is refused and revokes the family: the SDK reports it, no token", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const posts = tokenRequests(context);
    try {
      const page = await context.newPage();
      const phone = "+14155550132";
      await logIn(page, phone, "?refresh=1");
      await page.evaluate(() => client.getTokenSilently({ cacheMode: "off" }));
      // Someone replays the refresh token the SDK has just rotated away.
      const stolen = posts.at(-1)!.refresh_token!;
      const replay = await page.evaluate(
        async ([url, token]) => {
          const r = await fetch(url!, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "refresh_token", client_id: "acme-spa", refresh_token: token! }),
          });
          return { status: r.status, body: await r.json() };
        },
        [`${issuer()}oauth/token`, stolen],
      );
      expect(replay).toEqual({
        status: 403,
        body: { error: "invalid_grant", error_description: "Unknown or invalid refresh token." },
      });
      // The SDK's current token was in the revoked family too: the SDK gets Auth0's answer (and, with
      // useRefreshTokensFallback off, its 2.x default, does not try the iframe).
      const outcome = await page.evaluate(() =>
        client.getTokenSilently({ cacheMode: "off" }).then(
          () => "token",
          (e: { error?: string; error_description?: string }) => `${e.error}: ${e.error_description}`,
        ),
      );
      expect(outcome).toBe("invalid_grant: Unknown or invalid refresh token.");
    } finally {
      await context.close();
    }
  });

  it("logout with a returnTo that is not allowed: textlock's error page, never a redirect there", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/`);
      await expect.poll(() => status(page)).toBe("ready");
      await page.evaluate(() => client.logout({ logoutParams: { returnTo: "https://evil.example/" } }));
      await page.waitForURL(`${issuer()}v2/logout*`);
      expect(await page.locator("body").textContent()).toContain(
        'The "returnTo" querystring parameter "https://evil.example/" is not defined as a valid URL in "Allowed Logout URLs".',
      );
      await shot(page, "spajs-04-logout-not-allowed");
    } finally {
      await context.close();
    }
  });
});
