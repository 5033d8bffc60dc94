import { createHash, randomBytes } from "node:crypto";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTP_GRANT } from "../../core/config/schema.js";
import { type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// Login sessions (SSO) over real HTTP: the cookie a hosted-page login sets, /authorize answered from
// it (prompt=none too), prompt=login and max_age, idle and absolute lifetimes on a movable clock,
// logout ending it, a blocked user's sessions ended, and no session fixation.
const APP = "https://app.example.test";
const CB = `${APP}/callback`;
const IDLE = 600;
const ABSOLUTE = 3_600;

const b64url = (buf: Buffer) => buf.toString("base64url");
function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash("sha256").update(verifier).digest()) };
}

describe("login sessions", () => {
  let tl: TestTextlock;
  let server: Served;
  let now = Date.parse("2026-06-01T10:00:00Z");
  let seq = 0;
  const phone = () => `+1415555${String(6000 + ++seq).padStart(4, "0")}`;
  const events: Array<[string, unknown]> = [];

  beforeAll(async () => {
    tl = await createTestTextlock(
      {
        clients: [
          {
            client_id: "spa",
            callbacks: [CB],
            allowed_origins: [APP],
            web_origins: [APP],
            allowed_logout_urls: [`${APP}/bye`],
            grant_types: [OTP_GRANT, "authorization_code", "implicit", "refresh_token"],
          },
          { client_id: "other", callbacks: [CB], web_origins: [APP], grant_types: ["authorization_code"] },
        ],
        connections: [
          { name: "sms", enabled_clients: ["spa", "other"] },
          { name: "sms-b", enabled_clients: ["spa"] },
        ],
        login: { sessionIdleSeconds: IDLE, sessionSeconds: ABSOLUTE },
        server: { trustProxy: true },
      },
      { clock: () => now },
    );
    for (const name of ["session.started", "session.used", "session.missing", "session.ended"] as const)
      tl.events.on(name, (e: unknown) => events.push([name, e]));
    server = await serve("standalone", tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const authorizeUrl = (params: Record<string, string>) => `${server.url}/authorize?${new URLSearchParams(params)}`;
  const get = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { redirect: "manual", headers: { accept: "text/html", ...headers } });
  const form = (path: string, fields: Record<string, string>, cookie: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, accept: "text/html", ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const txOf = (html: string) => html.match(/name="tx" value="([^"]+)"/)![1]!;
  const cookiePairs = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const sessionSetCookie = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith("textlock_session="));
  const sessionOf = (res: Response) => sessionSetCookie(res)!.split(";")[0]!;
  const paramsOf = (res: Response) => {
    const location = new URL(res.headers.get("location")!);
    return Object.fromEntries(new URLSearchParams(location.hash ? location.hash.slice(1) : location.search));
  };
  const codeParams = (extra: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce();
    return {
      verifier,
      params: {
        client_id: "spa",
        redirect_uri: CB,
        response_type: "code",
        scope: "openid profile",
        state: "st",
        code_challenge: challenge,
        code_challenge_method: "S256",
        ...extra,
      },
    };
  };
  async function exchange(res: Response, verifier: string, clientId = "spa") {
    expect(res.status).toBe(302);
    const answer = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "authorization_code",
        client_id: clientId,
        code: paramsOf(res).code,
        redirect_uri: CB,
        code_verifier: verifier,
      }),
    });
    expect(answer.status).toBe(200);
    const { id_token } = (await answer.json()) as { id_token: string };
    await jwtVerify(id_token, createLocalJWKSet(tl.keys.jwks()), {
      issuer: `${server.url}/`,
      currentDate: new Date(now),
    });
    return decodeJwt(id_token);
  }

  /** The hosted page by plain HTTP; answers the final response (the callback redirect) and the session cookie. */
  async function hostedLogin(params: Record<string, string>, p = phone(), headers: Record<string, string> = {}) {
    const page = await get(authorizeUrl(params), headers);
    expect(page.status).toBe(200);
    const { cookie: given, ...rest } = headers;
    const cookie = cookiePairs(page)
      .concat(given ? [given] : [])
      .join("; ");
    const sent = await form(
      "/sms-login",
      { tx: txOf(await page.text()), action: "send", country: "US", phone: p.replace("+1", "") },
      cookie,
      rest,
    );
    expect(sent.status).toBe(200);
    const done = await form(
      "/sms-login",
      { tx: txOf(await sent.text()), action: "verify", code: tl.lastCode(p) },
      cookie,
      rest,
    );
    return { res: done, phone: p, session: sessionOf(done) };
  }

  it("a hosted-page login sets an HttpOnly session cookie; the id_token carries its sid and auth_time", async () => {
    const { verifier, params } = codeParams();
    const { res } = await hostedLogin(params);
    const set = sessionSetCookie(res)!;
    expect(set).toMatch(/^textlock_session=[\w-]{22}\.[\w-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    const claims = await exchange(res, verifier);
    expect(claims.auth_time).toBe(Math.floor(now / 1000));
    expect(claims.sid).toBe(set.slice("textlock_session=".length, set.indexOf(".")));
    expect(events.some(([name]) => name === "session.started")).toBe(true);
  });

  it("behind HTTPS the cookie is SameSite=None; Secure, so silent authentication's iframe sends it", async () => {
    const { params } = codeParams();
    const { res } = await hostedLogin(params, phone(), { "x-forwarded-proto": "https" });
    expect(sessionSetCookie(res)).toMatch(/; HttpOnly; SameSite=None; Secure$/);
  });

  it("/authorize with a live session skips the page and answers the callback; auth_time stays the login's", async () => {
    const { params } = codeParams();
    const first = await hostedLogin(params);
    const loginTime = Math.floor(now / 1000);
    now += 120_000;
    const again = codeParams({ state: "s2" });
    const res = await get(authorizeUrl(again.params), { cookie: first.session });
    expect(res.status).toBe(302);
    expect(paramsOf(res).state).toBe("s2");
    const claims = await exchange(res, again.verifier);
    expect(claims.auth_time).toBe(loginTime);
    expect(claims.sub).toBe((await tl.users.findByPhone("sms", first.phone))!.user_id);
    // Another client of the same connection is answered by the same session (SSO).
    const other = codeParams({ client_id: "other" });
    const sso = await get(authorizeUrl(other.params), { cookie: first.session });
    expect((await exchange(sso, other.verifier, "other")).sid).toBe(claims.sid);
  });

  it("prompt=none answers from the session in every response mode, and login_required without one", async () => {
    const { params } = codeParams();
    const { session } = await hostedLogin(params);
    const silent = codeParams({ prompt: "none", response_mode: "web_message" });
    const page = await get(authorizeUrl(silent.params), { cookie: session });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("authorization_response");
    expect(html).toMatch(/"code":"[\w-]+"/);

    const fragment = await get(
      authorizeUrl({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "id_token",
        nonce: "n1",
        prompt: "none",
        response_mode: "fragment",
      }),
      { cookie: session },
    );
    expect(fragment.status).toBe(302);
    const idToken = decodeJwt(paramsOf(fragment).id_token!);
    expect(idToken.nonce).toBe("n1");
    expect(idToken.auth_time).toBeTypeOf("number");

    const formPost = await get(authorizeUrl({ ...codeParams().params, prompt: "none", response_mode: "form_post" }), {
      cookie: session,
    });
    expect(await formPost.text()).toMatch(/name="code" value="[\w-]+"/);

    const none = await get(authorizeUrl(codeParams({ prompt: "none" }).params));
    expect(none.status).toBe(302);
    expect(paramsOf(none)).toEqual({ error: "login_required", error_description: "Login required", state: "st" });
    const noneWm = await get(authorizeUrl(codeParams({ prompt: "none", response_mode: "web_message" }).params));
    expect(await noneWm.text()).toContain('"error":"login_required"');
    expect(events.some(([name]) => name === "session.missing")).toBe(true);
  });

  it("prompt=login and max_age force the page; prompt=none past max_age is login_required", async () => {
    const { params } = codeParams();
    const { session } = await hostedLogin(params);
    const forced = await get(authorizeUrl(codeParams({ prompt: "login" }).params), { cookie: session });
    expect(forced.status).toBe(200);
    expect(await forced.text()).toContain('name="phone"');
    expect((await get(authorizeUrl(codeParams({ max_age: "0" }).params), { cookie: session })).status).toBe(200);
    now += 90_000;
    expect((await get(authorizeUrl(codeParams({ max_age: "60" }).params), { cookie: session })).status).toBe(200);
    const stale = await get(authorizeUrl(codeParams({ max_age: "60", prompt: "none" }).params), { cookie: session });
    expect(paramsOf(stale).error).toBe("login_required");
    const fresh = await get(authorizeUrl(codeParams({ max_age: "300" }).params), { cookie: session });
    expect(fresh.status).toBe(302);
    expect(paramsOf(fresh).code).toBeTruthy();
  });

  it("bad prompt and max_age values are invalid_request at the callback", async () => {
    const bad = await get(authorizeUrl(codeParams({ prompt: "none login" }).params));
    expect(paramsOf(bad)).toMatchObject({ error: "invalid_request", state: "st" });
    const unknown = await get(authorizeUrl(codeParams({ prompt: "sometimes" }).params));
    expect(paramsOf(unknown).error_description).toContain("Unsupported prompt");
    const age = await get(authorizeUrl(codeParams({ max_age: "-5" }).params));
    expect(paramsOf(age).error_description).toContain("max_age");
  });

  it("a session answers only for its own connection", async () => {
    const { session } = await hostedLogin(codeParams().params);
    const other = await get(authorizeUrl(codeParams({ connection: "sms-b", prompt: "none" }).params), {
      cookie: session,
    });
    expect(paramsOf(other).error).toBe("login_required");
  });

  it("ends after the idle lifetime, and after the absolute lifetime however busy", async () => {
    const idle = await hostedLogin(codeParams().params);
    now += (IDLE - 10) * 1000;
    expect((await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: idle.session })).status).toBe(302);
    now += (IDLE + 1) * 1000;
    const idled = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: idle.session });
    expect(paramsOf(idled).error).toBe("login_required");

    const busy = await hostedLogin(codeParams().params);
    for (let elapsed = 0; elapsed + IDLE / 2 < ABSOLUTE; elapsed += IDLE / 2) {
      now += (IDLE / 2) * 1000;
      const used = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: busy.session });
      expect(paramsOf(used).code).toBeTruthy();
    }
    now += (IDLE / 2) * 1000;
    const over = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: busy.session });
    expect(paramsOf(over).error).toBe("login_required");
  });

  it("a forged cookie (a real sid, another secret) is no session", async () => {
    const { session } = await hostedLogin(codeParams().params);
    const forged = `${session.slice(0, session.indexOf(".") + 1)}${b64url(randomBytes(32))}`;
    const res = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: forged });
    expect(paramsOf(res).error).toBe("login_required");
    expect((await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: session })).status).toBe(302);
  });

  it("a new login replaces the browser's session (no fixation): the old cookie stops working", async () => {
    const first = await hostedLogin(codeParams().params);
    const second = await hostedLogin(codeParams({ prompt: "login" }).params, phone(), { cookie: first.session });
    expect(second.session).not.toBe(first.session);
    const old = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: first.session });
    expect(paramsOf(old).error).toBe("login_required");
  });

  it("/v2/logout ends the session and clears the cookie", async () => {
    const { session } = await hostedLogin(codeParams().params);
    const out = await get(`${server.url}/v2/logout?client_id=spa&returnTo=${encodeURIComponent(`${APP}/bye`)}`, {
      cookie: session,
    });
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe(`${APP}/bye`);
    expect(sessionSetCookie(out)).toMatch(/^textlock_session=; Path=\/; Max-Age=0; HttpOnly/);
    const after = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: session });
    expect(paramsOf(after).error).toBe("login_required");
    expect(events.some(([name, e]) => name === "session.ended" && (e as { sids: number }).sids === 1)).toBe(true);
  });

  it("/oidc/logout with an id_token_hint ends that token's session even from a browser without the cookie", async () => {
    const { verifier, params } = codeParams();
    const { res, session } = await hostedLogin(params);
    const hint = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "authorization_code",
        client_id: "spa",
        code: paramsOf(res).code,
        redirect_uri: CB,
        code_verifier: verifier,
      }),
    }).then(async (r) => ((await r.json()) as { id_token: string }).id_token);
    const out = await get(
      `${server.url}/oidc/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: `${APP}/bye` })}`,
    );
    expect(out.status).toBe(302);
    const after = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: session });
    expect(paramsOf(after).error).toBe("login_required");
  });

  it("blocking a user ends their sessions; unblocking does not bring them back", async () => {
    const { session, phone: p } = await hostedLogin(codeParams().params);
    const user = (await tl.users.findByPhone("sms", p))!;
    await tl.users.update(user.user_id, { blocked: true });
    const blocked = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: session });
    expect(paramsOf(blocked).error).toBe("login_required");
    await tl.users.update(user.user_id, { blocked: false });
    const unblocked = await get(authorizeUrl(codeParams({ prompt: "none" }).params), { cookie: session });
    expect(paramsOf(unblocked).error).toBe("login_required");
  });
});
