import { createHash, randomBytes } from "node:crypto";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTP_GRANT } from "../../core/config/schema.js";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// The browser flow over real HTTP, through every adapter: /authorize validation, the hosted page's
// forms, the authorization_code grant with PKCE, /co/authenticate and login tickets, Lock's helpers.
const APP = "https://app.example.test";
const CB = `${APP}/callback`;
const WEB_CB = "https://web.example.test/cb";

const b64url = (buf: Buffer) => buf.toString("base64url");
function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash("sha256").update(verifier).digest()) };
}

describe.each(ADAPTERS)("browser flow through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let seq = 0;
  const phone = () => `+1415555${String(2000 + ++seq).padStart(4, "0")}`;

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [
        {
          client_id: "spa",
          name: "Acme <Travel>",
          callbacks: [CB],
          allowed_origins: [APP],
          web_origins: [APP],
          cross_origin_authentication: true,
          grant_types: [OTP_GRANT, "authorization_code", "implicit"],
        },
        {
          client_id: "web",
          client_secret: "web-secret-web-secret",
          callbacks: [WEB_CB],
          grant_types: [OTP_GRANT, "authorization_code"],
        },
        { client_id: "closed", callbacks: [CB], web_origins: [APP] },
      ],
      connections: [{ name: "sms", enabled_clients: ["spa", "web", "closed"] }],
    });
    server = await serve(adapter, tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const authorizeUrl = (params: Record<string, string>) => `${server.url}/authorize?${new URLSearchParams(params)}`;
  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: "manual", headers });
  const form = (path: string, fields: Record<string, string>, cookie: string) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, accept: "text/html" },
      body: new URLSearchParams(fields).toString(),
    });
  const txOf = (html: string) => html.match(/name="tx" value="([^"]+)"/)![1]!;
  const cookieOf = (res: Response) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  const token = (body: Record<string, unknown>) =>
    fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const redirectParams = (res: Response) => {
    const location = new URL(res.headers.get("location")!);
    return Object.fromEntries(new URLSearchParams(location.hash ? location.hash.slice(1) : location.search));
  };

  /** Drives the hosted page with plain HTTP, as a browser without JavaScript would; returns the final redirect. */
  async function hostedLogin(params: Record<string, string>, p = phone()) {
    const page = await get(authorizeUrl(params), { "accept-language": "en-US" });
    expect(page.status).toBe(200);
    const cookie = cookieOf(page);
    const sent = await form(
      "/sms-login",
      { tx: txOf(await page.text()), action: "send", country: "US", phone: p.replace("+1", "") },
      cookie,
    );
    expect(sent.status).toBe(200);
    const done = await form(
      "/sms-login",
      { tx: txOf(await sent.text()), action: "verify", code: tl.lastCode(p) },
      cookie,
    );
    return { res: done, phone: p };
  }

  describe("/authorize validation", () => {
    it("an unknown client or a redirect_uri outside the callbacks is never redirected to: JSON for APIs, a page for browsers", async () => {
      const bad = await get(
        authorizeUrl({ client_id: "spa", response_type: "code", redirect_uri: "https://evil.example/cb" }),
      );
      expect(bad.status).toBe(400);
      expect(bad.headers.get("location")).toBeNull();
      expect(await bad.json()).toMatchObject({
        error: "invalid_request",
        error_description: expect.stringContaining("not in the list of allowed callback URLs"),
      });

      const page = await get(authorizeUrl({ client_id: "nope", response_type: "code", redirect_uri: CB }), {
        accept: "text/html",
      });
      expect(page.headers.get("content-type")).toContain("text/html");
      const html = await page.text();
      expect(html).toContain("invalid_client");
      expect(html).not.toMatch(/at \w+ \(/); // no stack trace
    });

    it("errors after the callback is known go back to it, with state, in the right response mode", async () => {
      const { challenge } = pkce();
      const cases: Array<[Record<string, string>, string, string | RegExp]> = [
        [
          { response_type: "code", prompt: "none", code_challenge: challenge, code_challenge_method: "S256" },
          "login_required",
          "Login required",
        ],
        [{ response_type: "code" }, "invalid_request", /must use PKCE/],
        [
          { response_type: "code", code_challenge: challenge, code_challenge_method: "plain" },
          "invalid_request",
          "code_challenge_method must be S256.",
        ],
        [
          { response_type: "code id_token", nonce: "n" },
          "unsupported_response_type",
          "Unsupported response type: code id_token",
        ],
        [{ response_type: "token id_token" }, "invalid_request", /Nonce is required/],
        [{ response_type: "token", response_mode: "query" }, "invalid_request", /response_mode query is not allowed/],
        [
          { response_type: "code", connection: "email", code_challenge: challenge, code_challenge_method: "S256" },
          "invalid_request",
          /not enabled/,
        ],
      ];
      for (const [params, error, description] of cases) {
        const res = await get(authorizeUrl({ client_id: "spa", redirect_uri: CB, state: "st<1>", ...params }));
        expect(res.status, JSON.stringify(params)).toBe(302);
        const values = redirectParams(res);
        expect(values.error, JSON.stringify(params)).toBe(error);
        expect(values.error_description).toMatch(description);
        expect(values.state).toBe("st<1>");
      }
      // A client without the implicit grant cannot ask for tokens in the front channel.
      const implicit = await get(
        authorizeUrl({ client_id: "web", redirect_uri: WEB_CB, response_type: "token", state: "s" }),
      );
      expect(redirectParams(implicit)).toMatchObject({
        error: "unauthorized_client",
        error_description: "Grant type 'implicit' not allowed for the client.",
        state: "s",
      });
    });

    it("prompt=none with response_mode=web_message posts login_required to the opener's origin only", async () => {
      const res = await get(
        authorizeUrl({
          client_id: "spa",
          redirect_uri: APP,
          response_type: "token id_token",
          nonce: "n",
          state: "s1",
          prompt: "none",
          response_mode: "web_message",
        }),
      );
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('"error":"login_required"');
      expect(html).toContain(`"${APP}"`);
      expect(res.headers.get("content-security-policy")).toContain(`frame-ancestors ${APP}`);
    });
  });

  describe("hosted page and the authorization_code grant", () => {
    it("renders an accessible, escaped, nonce-locked page that sets a browser-binding cookie", async () => {
      const { challenge } = pkce();
      const res = await get(
        authorizeUrl({
          client_id: "spa",
          redirect_uri: CB,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256",
          ui_locales: "es",
        }),
      );
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<html lang="es">');
      expect(html).toContain("Iniciar sesión en Acme &#60;Travel&#62;");
      expect(html).toMatch(/<label for="phone">/);
      expect(html).toMatch(/autocomplete="tel-national"/);
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toMatch(/script-src 'nonce-[^']+'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${APP}`);
      expect(res.headers.getSetCookie()[0]).toMatch(/^tl_tx=[\w-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/);
    });

    it("logs in through the forms and exchanges the code once, with the PKCE verifier", async () => {
      const { verifier, challenge } = pkce();
      const { res, phone: p } = await hostedLogin({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "code",
        scope: "openid profile phone offline_access",
        state: "abc",
        nonce: "n-1",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      expect(res.status).toBe(302);
      const { code, state } = redirectParams(res);
      expect(state).toBe("abc");
      expect(res.headers.get("location")!.startsWith(`${CB}?`)).toBe(true);

      const wrongVerifier = await token({
        grant_type: "authorization_code",
        client_id: "spa",
        code,
        redirect_uri: CB,
        code_verifier: pkce().verifier,
      });
      expect(wrongVerifier.status).toBe(403);
      expect(await wrongVerifier.json()).toEqual({
        error: "invalid_grant",
        error_description: "Failed to verify code verifier",
      });
      // A code met with a wrong verifier is burnt: the right verifier is now too late.
      const late = await token({
        grant_type: "authorization_code",
        client_id: "spa",
        code,
        redirect_uri: CB,
        code_verifier: verifier,
      });
      expect(await late.json()).toEqual({ error: "invalid_grant", error_description: "Invalid authorization code" });

      const second = await hostedLogin(
        {
          client_id: "spa",
          redirect_uri: CB,
          response_type: "code",
          scope: "openid profile phone offline_access",
          nonce: "n-2",
          code_challenge: challenge,
          code_challenge_method: "S256",
        },
        p,
      );
      const ok = await token({
        grant_type: "authorization_code",
        client_id: "spa",
        code: redirectParams(second.res).code,
        redirect_uri: CB,
        code_verifier: verifier,
      });
      expect(ok.status).toBe(200);
      const tokens = (await ok.json()) as { id_token: string; refresh_token?: string };
      const jwks = createLocalJWKSet(
        (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0],
      );
      const { payload } = await jwtVerify(tokens.id_token, jwks, { audience: "spa" });
      expect(payload).toMatchObject({
        phone_number: p,
        nonce: "n-2",
        sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
      });
      expect(tokens.refresh_token).toBeUndefined(); // spa has no refresh_token grant here
    });

    it("redeems one code exactly once under 12 concurrent exchanges", async () => {
      const { verifier, challenge } = pkce();
      const { res } = await hostedLogin({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "code",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const { code } = redirectParams(res);
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          token({
            grant_type: "authorization_code",
            client_id: "spa",
            code,
            redirect_uri: CB,
            code_verifier: verifier,
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(11).fill(403)]);
    });

    it("a confidential client authenticates with its secret; a mismatching redirect_uri is refused", async () => {
      const { res } = await hostedLogin({ client_id: "web", redirect_uri: WEB_CB, response_type: "code", state: "w" });
      const { code } = redirectParams(res);
      const noSecret = await token({ grant_type: "authorization_code", client_id: "web", code, redirect_uri: WEB_CB });
      expect(noSecret.status).toBe(401);
      const otherUri = await token({
        grant_type: "authorization_code",
        client_id: "web",
        client_secret: "web-secret-web-secret",
        code,
        redirect_uri: CB,
      });
      expect(await otherUri.json()).toMatchObject({
        error: "invalid_grant",
        error_description: expect.stringContaining("redirect_uri"),
      });

      const again = await hostedLogin({ client_id: "web", redirect_uri: WEB_CB, response_type: "code" });
      const ok = await token({
        grant_type: "authorization_code",
        client_id: "web",
        client_secret: "web-secret-web-secret",
        code: redirectParams(again.res).code,
        redirect_uri: WEB_CB,
      });
      expect(ok.status).toBe(200);
    });

    it("implicit token id_token in the fragment carries nonce and a correct at_hash; form_post answers an escaped self-posting form", async () => {
      const { res } = await hostedLogin({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "token id_token",
        nonce: "nn",
        state: "s",
      });
      const location = res.headers.get("location")!;
      expect(location.startsWith(`${CB}#`)).toBe(true);
      const values = redirectParams(res);
      const claims = decodeJwt(values.id_token!);
      const atHash = createHash("sha256").update(values.access_token!).digest().subarray(0, 16).toString("base64url");
      expect(claims).toMatchObject({ nonce: "nn", at_hash: atHash, aud: "spa" });
      expect(values).toMatchObject({ token_type: "Bearer", state: "s" });

      const posted = await hostedLogin({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "id_token",
        response_mode: "form_post",
        nonce: "n",
        state: '"><script>alert(1)</script>',
      });
      expect(posted.res.status).toBe(200);
      const html = await posted.res.text();
      expect(html).toContain(`<form method="post" action="${CB}" id="form">`);
      expect(html).toContain('name="state" value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
      expect(html).not.toContain("<script>alert(1)");
      expect(posted.res.headers.get("content-security-policy")).toContain(`form-action ${APP}`);
    });

    it("shows errors on the page: bad number, wrong code, and refuses a form from another browser", async () => {
      const { challenge } = pkce();
      const page = await get(
        authorizeUrl({
          client_id: "spa",
          redirect_uri: CB,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256",
        }),
        { "accept-language": "fr-FR" },
      );
      const cookie = cookieOf(page);
      const tx = txOf(await page.text());
      const bad = await form("/sms-login", { tx, action: "send", country: "FR", phone: "12" }, cookie);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain("Ce numéro de téléphone n’est pas valide");

      const p = "+33612340000";
      const sent = await form("/sms-login", { tx, action: "send", country: "FR", phone: "06 12 34 00 00" }, cookie);
      const codeTx = txOf(await sent.text());
      const wrong = await form(
        "/sms-login",
        { tx: codeTx, action: "verify", code: String((Number(tl.lastCode(p)) + 1) % 1e6).padStart(6, "0") },
        cookie,
      );
      expect(wrong.status).toBe(403);
      const html = await wrong.text();
      expect(html).toContain('role="alert"');
      expect(html).toContain("Ce code n’est pas le bon");
      expect(html).not.toContain(tl.lastCode(p)); // the code is never echoed

      // The same form posted with another browser's cookie (login CSRF) is refused.
      const foreign = await form(
        "/sms-login",
        { tx: codeTx, action: "verify", code: tl.lastCode(p) },
        "tl_tx=someone-elses-binding-cookie-value",
      );
      expect(foreign.status).toBe(400);
      const tampered = await form(
        "/sms-login",
        { tx: `${codeTx.split(".")[0]}x.${codeTx.split(".")[1]}`, action: "verify", code: tl.lastCode(p) },
        cookie,
      );
      expect(tampered.status).toBe(400);
    });
  });

  describe("/co/authenticate and login tickets", () => {
    const co = (body: unknown, origin = APP) =>
      fetch(`${server.url}/co/authenticate`, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: JSON.stringify(body),
      });
    async function codeFor(p: string) {
      await fetch(`${server.url}/passwordless/start`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: "spa", connection: "sms", phone_number: p, send: "code" }),
      });
      return tl.lastCode(p);
    }
    const body = (p: string, otp: string, extra: Record<string, unknown> = {}) => ({
      client_id: "spa",
      username: p,
      otp,
      realm: "sms",
      credential_type: OTP_GRANT,
      ...extra,
    });

    it("answers Auth0's errors", async () => {
      const p = phone();
      const otp = await codeFor(p);
      const cases: Array<[unknown, number, string, string]> = [
        [
          { client_id: "spa", username: p, otp, realm: "sms" },
          400,
          "invalid_request",
          "Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.",
        ],
        [
          body(p, otp, { extra: 1 }),
          400,
          "invalid_request",
          "Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.",
        ],
        [
          body(p, otp, { credential_type: "password" }),
          400,
          "unsupported_credential_type",
          "Unknown credential type parameter.",
        ],
        [body(p, otp, { realm: "nope" }), 400, "invalid_request", "Unknown realm nope."],
        [body(p, otp, { client_id: "closed" }), 401, "unauthorized_client", "Cross origin login not allowed."],
        [
          body(p, "000000" === otp ? "111111" : "000000"),
          403,
          "access_denied",
          "Wrong phone number or verification code.",
        ],
      ];
      for (const [b, status, error, description] of cases) {
        const res = await co(b);
        expect(res.status, JSON.stringify(b)).toBe(status);
        expect(await res.json()).toEqual({ error, error_description: description });
      }
      const foreign = await co(body(p, otp), "https://evil.example");
      expect(foreign.status).toBe(403);
      expect(await foreign.text()).toBe("Origin https://evil.example is not allowed.");
    });

    it("gives a ticket, a verifier and a cross-site cookie; the ticket is redeemed once even under 10 parallel redemptions", async () => {
      const p = phone();
      const res = await co(body(p, await codeFor(p)));
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      const { login_ticket, co_verifier, co_id } = (await res.json()) as {
        login_ticket: string;
        co_verifier: string;
        co_id: string;
      };
      const setCookie = res.headers.getSetCookie()[0]!;
      expect(setCookie).toBe(`tl_co_${co_id}=${co_verifier}; Path=/; Max-Age=60; HttpOnly; SameSite=None; Secure`);

      const url = authorizeUrl({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "token id_token",
        scope: "openid phone",
        nonce: "n",
        state: "s",
        login_ticket,
      });
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => get(url, { cookie: `tl_co_${co_id}=${co_verifier}` })),
      );
      const withTokens = answers.filter((a) => (a.headers.get("location") ?? "").includes("access_token="));
      expect(withTokens).toHaveLength(1);
      expect(answers.filter((a) => redirectParams(a).error === "access_denied")).toHaveLength(9);
      expect(decodeJwt(redirectParams(withTokens[0]!).id_token!)).toMatchObject({ phone_number: p, nonce: "n" });
    });

    it("a ticket with a wrong verifier, for another client, or without any verifier is refused to the callback", async () => {
      const p = phone();
      type Ticket = { login_ticket: string; co_verifier: string; co_id: string };
      const first = (await (await co(body(p, await codeFor(p)))).json()) as Ticket;
      const url = (ticket: string, client = "spa") =>
        authorizeUrl({
          client_id: client,
          redirect_uri: CB,
          response_type: "token id_token",
          nonce: "n",
          login_ticket: ticket,
        });
      const wrong = await get(url(first.login_ticket), { cookie: `tl_co_${first.co_id}=not-the-verifier` });
      expect(redirectParams(wrong)).toMatchObject({
        error: "access_denied",
        error_description: expect.stringContaining("verifier does not match"),
      });
      // The failed attempt used the ticket up.
      const reused = await get(url(first.login_ticket), { cookie: `tl_co_${first.co_id}=${first.co_verifier}` });
      expect(redirectParams(reused).error).toBe("access_denied");

      const second = (await (await co(body(p, await codeFor(p)))).json()) as Ticket;
      const otherClient = await get(url(second.login_ticket, "closed"), {
        cookie: `tl_co_${second.co_id}=${second.co_verifier}`,
      });
      expect(redirectParams(otherClient).error).toBe("access_denied");
      // spa has no cross_origin_loc: without the cookie there is no way to check the browser.
      const noCookie = await get(url(second.login_ticket));
      expect(redirectParams(noCookie)).toMatchObject({
        error: "access_denied",
        error_description: expect.stringContaining("no verifier cookie"),
      });
    });
  });

  describe("Lock helpers", () => {
    it("GET /client/{id}.js calls Auth0.setClient with the passwordless connections; unknown clients are 404", async () => {
      const res = await get(`${server.url}/client/spa.js?t${Date.now()}`);
      expect(res.headers.get("content-type")).toContain("application/javascript");
      const script = await res.text();
      let setting: { id: string; strategies: unknown } | undefined;
      new Function("Auth0", script)({ setClient: (s: typeof setting) => (setting = s) });
      expect(setting).toMatchObject({ id: "spa", strategies: [{ name: "sms", connections: [{ name: "sms" }] }] });
      expect((await get(`${server.url}/client/unknown.js`)).status).toBe(404);
    });

    it("GET /user/geoloc/country answers the configured country, with CORS for the app", async () => {
      const res = await get(`${server.url}/user/geoloc/country`, { origin: APP });
      expect(await res.json()).toEqual({ country_code: "US" });
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    });
  });
});
