import { request as httpRequest } from "node:http";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { expectDoubleSubmitIsHarmless } from "../helpers/double-submit.js";

// Issue 13: what an attacker tried. One suite, every adapter.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const WRONG = { error: "invalid_grant", error_description: "Wrong phone number or verification code." };
const MAX = {
  error: "invalid_grant",
  error_description: "You've reached the maximum number of attempts. Please try to login again.",
};

/** A request with a Host header of the caller's choosing (fetch does not let one set it). */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe.each(ADAPTERS)("attacker regressions through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let phoneSeq = 0;
  const phone = () => `+1415556${String(1000 + ++phoneSeq).padStart(4, "0")}`;

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [{ client_id: "spa" }, { client_id: "other-spa" }],
      connections: [{ name: "sms", enabled_clients: ["spa", "other-spa"] }],
    });
    server = await serve(adapter, tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const form = (path: string, body: string) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  const start = (p: string, client = "spa") =>
    post("/passwordless/start", { client_id: client, connection: "sms", phone_number: p });
  const tokenBody = (p: string, otp: unknown, client = "spa") => ({
    grant_type: OTP,
    client_id: client,
    username: p,
    otp,
    realm: "sms",
    scope: "openid",
  });
  const answer = async (res: Response) => ({ status: res.status, body: await res.json() });

  it("binds a code to the client it was requested through: another client's redemption is a wrong code", async () => {
    const p = phone();
    await start(p, "spa");
    const code = tl.lastCode(p);
    for (let i = 0; i < 3; i++)
      expect(await answer(await post("/oauth/token", tokenBody(p, code, "other-spa")))).toEqual({
        status: 403,
        body: WRONG,
      });
    // Each mismatch cost an attempt: the code is dead for its own client too.
    expect(await answer(await post("/oauth/token", tokenBody(p, code, "spa")))).toEqual({ status: 403, body: MAX });

    const q = phone();
    await start(q, "spa");
    expect((await post("/oauth/token", tokenBody(q, tl.lastCode(q), "other-spa"))).status).toBe(403);
    expect((await post("/oauth/token", tokenBody(q, tl.lastCode(q), "spa"))).status).toBe(200);
  });

  it("answers 50 concurrent submissions of the right code with one login and 49 wrong codes, and no lockout", async () => {
    await expectDoubleSubmitIsHarmless(server.url, tl, phone());
  });

  it("refuses non-string fields on /oauth/token with 400 invalid_request, never coercing them", async () => {
    const p = phone();
    await start(p);
    const code = tl.lastCode(p);
    const cases: Record<string, unknown>[] = [
      { otp: Number(code) },
      { otp: [code] },
      { otp: { code } },
      { otp: true },
      { username: Number(p.slice(1)) },
      { username: [p] },
      { client_id: ["spa"] },
      { client_id: 1 },
      { realm: ["sms"] },
      { grant_type: [OTP] },
      { scope: ["openid"] },
      { audience: 5 },
      { client_secret: {} },
    ];
    for (const bad of cases) {
      const res = await post("/oauth/token", { ...tokenBody(p, code), ...bad });
      const body = (await res.json()) as Record<string, unknown>;
      expect({ status: res.status, error: body.error }, JSON.stringify(bad)).toEqual({
        status: 400,
        error: "invalid_request",
      });
      expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
    }
    // None of them charged the code.
    expect((await post("/oauth/token", tokenBody(p, code))).status).toBe(200);
  });

  it("refuses non-string fields on /passwordless/start with 400 invalid_request, keeping Auth0's errors for missing ones", async () => {
    const base = { client_id: "spa", connection: "sms", phone_number: phone() };
    const cases: Record<string, unknown>[] = [
      { client_id: 1 },
      { client_id: ["spa"] },
      { client_id: null },
      { connection: ["sms"] },
      { connection: { name: "sms" } },
      { phone_number: 14155550100 },
      { phone_number: [base.phone_number] },
      { client_secret: 1 },
      { send: ["code"] },
    ];
    for (const bad of cases) {
      const res = await post("/passwordless/start", { ...base, ...bad });
      const body = (await res.json()) as Record<string, unknown>;
      expect({ status: res.status, error: body.error }, JSON.stringify(bad)).toEqual({
        status: 400,
        error: "invalid_request",
      });
      expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
    }
    const { client_id: _c, ...noClient } = base;
    expect(await answer(await post("/passwordless/start", noClient))).toEqual({
      status: 400,
      body: { error: "bad.client_id", error_description: "Missing required property: client_id" },
    });
    expect(tl.messages(base.phone_number)).toHaveLength(0);
  });

  it("refuses duplicate form keys instead of picking one", async () => {
    const p = phone();
    await start(p);
    const code = tl.lastCode(p);
    const fields = `grant_type=${encodeURIComponent(OTP)}&client_id=spa&username=${encodeURIComponent(p)}&realm=sms`;
    for (const dup of [`otp=${code}&otp=000000`, `otp=000000&otp=${code}`, `otp=${code}&client_id=spa`]) {
      const res = await form("/oauth/token", `${fields}&${dup}`);
      const body = (await res.json()) as Record<string, unknown>;
      expect({ status: res.status, error: body.error }, dup).toEqual({ status: 400, error: "invalid_request" });
      expect(body.error_description).toMatch(/more than once/);
    }
    expect((await form("/oauth/token", `${fields}&otp=${code}`)).status).toBe(200);
  });

  it("answers Bearer errors with WWW-Authenticate (RFC 6750 §3)", async () => {
    const missing = await fetch(`${server.url}/userinfo`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    const basic = await fetch(`${server.url}/userinfo`, { headers: { authorization: "Basic eDp5" } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get("www-authenticate")).toBe("Bearer");
    const bad = await fetch(`${server.url}/userinfo`, { headers: { authorization: "Bearer not-a-token" } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/^Bearer (realm="[^"]*", )?error="invalid_token"/);
    expect(await bad.json()).toMatchObject({ error: "invalid_token" });
    const post401 = await fetch(`${server.url}/userinfo`, { method: "POST", headers: { authorization: "Bearer x" } });
    expect(post401.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("never takes the issuer from the Host header: discovery and iss are the server's own http:// URL", async () => {
    const own = `http://${new URL(server.url).host}/`;
    const discovery = await rawRequest(`${server.url}/.well-known/openid-configuration`, "GET", {
      host: "evil.example",
    });
    expect(discovery.json).toMatchObject({ issuer: own, token_endpoint: `${own}oauth/token` });
    // X-Forwarded-Host is ignored unless server.trustProxy is set.
    const forwarded = await rawRequest(`${server.url}/.well-known/openid-configuration`, "GET", {
      host: "evil.example",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
    });
    expect(forwarded.json.issuer).toBe(own);

    const p = phone();
    await start(p);
    const login = await rawRequest(
      `${server.url}/oauth/token`,
      "POST",
      { host: "evil.example", "content-type": "application/json" },
      JSON.stringify(tokenBody(p, tl.lastCode(p))),
    );
    expect(login.status).toBe(200);
    expect(decodeJwt(login.json.id_token as string).iss).toBe(own);
  });

  describe("behind a trusted proxy", () => {
    let proxied: TestTextlock;
    let proxiedServer: Served;
    beforeAll(async () => {
      proxied = await createTestTextlock({ server: { trustProxy: true } });
      proxiedServer = await serve(adapter, proxied);
    });
    afterAll(async () => {
      await proxiedServer?.close();
      await proxied?.close();
    });

    it("builds the issuer from X-Forwarded-Proto and X-Forwarded-Host, never from Host", async () => {
      const res = await rawRequest(`${proxiedServer.url}/.well-known/openid-configuration`, "GET", {
        host: "evil.example",
        "x-forwarded-host": "auth.example.test",
        "x-forwarded-proto": "https",
      });
      expect(res.json.issuer).toBe("https://auth.example.test/");
      const noForward = await rawRequest(`${proxiedServer.url}/.well-known/openid-configuration`, "GET", {
        host: "evil.example",
      });
      expect(noForward.json.issuer).toBe(`http://${new URL(proxiedServer.url).host}/`);
    });
  });
});
