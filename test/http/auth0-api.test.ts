import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// One suite, every adapter: the same requests must get the same answers through the standalone
// server, Express, Koa and Fastify.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const WRONG = { error: "invalid_grant", error_description: "Wrong phone number or verification code." };
const MAX = {
  error: "invalid_grant",
  error_description: "You've reached the maximum number of attempts. Please try to login again.",
};
const APP = "https://app.example.test";

describe.each(ADAPTERS)("Auth0 API through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let now = Date.now();
  let phoneSeq = 0;
  const phone = () => `+1415555${String(1000 + ++phoneSeq).padStart(4, "0")}`;

  beforeAll(async () => {
    tl = await createTestTextlock(
      {
        clients: [
          { client_id: "spa", allowed_origins: [APP] },
          { client_id: "web", client_secret: "web-secret-web-secret", callbacks: ["https://web.example.test/cb"] },
        ],
        connections: [{ name: "sms", enabled_clients: ["spa", "web"] }],
        server: { bodyLimitBytes: 2048 },
      },
      { clock: () => now },
    );
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
  const start = (p: string, extra: Record<string, unknown> = {}) =>
    post("/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p, send: "code", ...extra });
  const token = (p: string, otp: string, extra: Record<string, unknown> = {}) =>
    post("/oauth/token", {
      grant_type: OTP,
      client_id: "spa",
      username: p,
      otp,
      realm: "sms",
      scope: "openid profile",
      ...extra,
    });
  const other = (code: string) => String((Number(code) + 1) % 1e6).padStart(6, "0");

  it("POST /passwordless/start answers Auth0's 200 body, send defaulting to code", async () => {
    const p = phone();
    const res = await post(
      "/passwordless/start",
      { client_id: "spa", connection: "sms", phone_number: p },
      { "x-request-language": "fr-FR" },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      phone_number: p,
      phone_verified: false,
      request_language: "fr-FR",
    });
    expect(tl.lastCode(p)).toMatch(/^\d{6}$/);
  });

  it("gives Auth0's exact /passwordless/start errors", async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [
        { connection: "sms", phone_number: "+14155550100" },
        400,
        "bad.client_id",
        "Missing required property: client_id",
      ],
      [
        { client_id: "spa", phone_number: "+14155550100" },
        400,
        "bad.connection",
        "Missing required property: connection",
      ],
      [
        { client_id: "spa", connection: "x", phone_number: "+14155550100" },
        400,
        "bad.connection",
        "Connection does not exist",
      ],
      [{ client_id: "spa", connection: "sms" }, 400, "bad.phone_number", "Missing required property: phone_number"],
      [
        { client_id: "spa", connection: "sms", phone_number: "0612" },
        400,
        "bad.phone_number",
        "String does not match pattern: ^\\+[0-9]{1,15}$",
      ],
      [
        { client_id: "spa", connection: "sms", phone_number: "+14155550100", authParams: "s" },
        400,
        "bad.authParams",
        "error in authParams - invalid type: string (expected object)",
      ],
      [
        { client_id: "spa", connection: "sms", phone_number: "+14155550100", evil: 1 },
        400,
        "bad.request",
        "the following properties are not allowed: evil",
      ],
      [
        { client_id: "nobody", connection: "sms", phone_number: "+14155550100" },
        401,
        "invalid_client",
        "Client authentication failed",
      ],
      [
        { client_id: "web", connection: "sms", phone_number: "+14155550100" },
        401,
        "unauthorized_client",
        "Client authentication is required",
      ],
    ];
    for (const [body, status, error, description] of cases) {
      const res = await post("/passwordless/start", body);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status,
        body: { error, error_description: description },
      });
    }
  });

  it("logs in with a JSON token request; the id_token verifies against the JWKS", async () => {
    const p = phone();
    await start(p);
    const res = await token(p, tl.lastCode(p));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { id_token: string; access_token: string };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 86400, scope: "openid profile" });
    const jwksRes = await fetch(`${server.url}/.well-known/jwks.json`);
    // Cached for half the key reload interval (30 s by default): shorter than the rotation bound.
    expect(jwksRes.headers.get("cache-control")).toBe("public, max-age=15");
    const jwks = (await jwksRes.json()) as import("jose").JSONWebKeySet;
    const host = new URL(server.url).host;
    const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), {
      // No issuer configured: the development issuer is the server's own URL, plain HTTP here.
      issuer: `http://${host}/`,
      audience: "spa",
    });
    expect(payload).toMatchObject({ sub: expect.stringMatching(/^sms\|/), phone_number: p });
    const info = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(await info.json()).toMatchObject({ sub: payload.sub, phone_number: p });
  });

  it("accepts form-encoded token requests with client_secret_basic", async () => {
    const p = phone();
    await post("/passwordless/start", {
      client_id: "web",
      client_secret: "web-secret-web-secret",
      connection: "sms",
      phone_number: p,
    });
    const form = new URLSearchParams({
      grant_type: OTP,
      username: p,
      otp: tl.lastCode(p),
      realm: "sms",
      scope: "openid",
    });
    const basic = Buffer.from("web:web-secret-web-secret").toString("base64");
    const res = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty("id_token");
    const bad = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("web:nope").toString("base64")}`,
      },
      body: form,
    });
    expect({ status: bad.status, body: await bad.json() }).toEqual({
      status: 401,
      body: { error: "invalid_client", error_description: "Client authentication failed" },
    });
  });

  it("POST /oauth/revoke revokes a refresh token's family: 200 with an empty body, also for an unknown token", async () => {
    const p = phone();
    await start(p);
    const login = (await (await token(p, tl.lastCode(p), { scope: "openid offline_access" })).json()) as {
      refresh_token: string;
    };
    const refresh = (refresh_token: string) =>
      post("/oauth/token", { grant_type: "refresh_token", client_id: "spa", refresh_token });
    const rotated = await refresh(login.refresh_token);
    expect(rotated.status).toBe(200);
    const { refresh_token: newest } = (await rotated.json()) as { refresh_token: string };

    // Another client's token: refused, and nothing is revoked.
    const basic = Buffer.from("web:web-secret-web-secret").toString("base64");
    const foreign = await post("/oauth/revoke", { token: newest }, { authorization: `Basic ${basic}` });
    expect({ status: foreign.status, body: await foreign.json() }).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    // A confidential client with a wrong secret: 401 invalid_client.
    const badSecret = await post("/oauth/revoke", { client_id: "web", client_secret: "nope", token: newest });
    expect(badSecret.status).toBe(401);

    // Revoking the first (already rotated) token revokes the family: the newest stops working too.
    const form = new URLSearchParams({
      client_id: "spa",
      token: login.refresh_token,
      token_type_hint: "refresh_token",
    });
    const revoked = await fetch(`${server.url}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toBe("");
    const after = await refresh(newest);
    expect({ status: after.status, body: await after.json() }).toEqual({
      status: 403,
      body: { error: "invalid_grant", error_description: "Unknown or invalid refresh token." },
    });

    const unknown = await post("/oauth/revoke", { client_id: "spa", token: "never-issued" });
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toBe("");
    const missing = await post("/oauth/revoke", { client_id: "spa" });
    expect({ status: missing.status, body: await missing.json() }).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
  });

  it("answers wrong, reused, superseded and expired codes with Auth0's exact body, and max attempts after 3", async () => {
    const p = phone();
    await start(p);
    const first = tl.lastCode(p);
    await start(p);
    const second = tl.lastCode(p);
    const check = async (otp: string, expected: object, status = 403) => {
      const res = await token(p, otp);
      expect({ status: res.status, body: await res.json() }).toEqual({ status, body: expected });
    };
    if (first !== second) await check(first, WRONG); // superseded
    expect((await token(p, second)).status).toBe(200);
    await check(second, WRONG); // reused
    await start(p);
    now += 181_000;
    await check(tl.lastCode(p), WRONG); // expired
    now -= 181_000;
    await start(p);
    const code = tl.lastCode(p);
    for (let i = 0; i < 3; i++) await check(other(code), WRONG); // wrong
    await check(code, MAX);
  });

  it("answers CORS preflights for allowed origins and refuses others in plain text", async () => {
    const ok = await fetch(`${server.url}/passwordless/start`, {
      method: "OPTIONS",
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,auth0-client",
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/Auth0-Client/);
    const p = phone();
    const actual = await start(p, {});
    expect(actual.headers.get("access-control-allow-origin")).toBeNull();
    const withOrigin = await post(
      "/passwordless/start",
      { client_id: "spa", connection: "sms", phone_number: p },
      { origin: APP },
    );
    expect(withOrigin.status).toBe(200);
    expect(withOrigin.headers.get("access-control-allow-origin")).toBe(APP);
    const refused = await post(
      "/passwordless/start",
      { client_id: "spa", connection: "sms", phone_number: p },
      { origin: "https://evil.test" },
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe("Origin https://evil.test is not allowed.");
  });

  it("serves OpenID discovery with the trailing-slash issuer", async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`);
    const host = new URL(server.url).host;
    expect(await res.json()).toMatchObject({
      issuer: `http://${host}/`,
      token_endpoint: `http://${host}/oauth/token`,
      revocation_endpoint: `http://${host}/oauth/revoke`,
      jwks_uri: `http://${host}/.well-known/jwks.json`,
    });
  });

  it("never answers bad input with a 500 or a stack", async () => {
    const garbage: Array<[string, string, string]> = [
      ["/passwordless/start", "application/json", "{not json"],
      ["/passwordless/start", "application/json", "[1,2,3]"],
      ["/passwordless/start", "application/json", "null"],
      ["/passwordless/start", "text/plain", "hello"],
      [
        "/passwordless/start",
        "application/json",
        JSON.stringify({ client_id: { $ne: 1 }, connection: ["sms"], phone_number: 14155550100 }),
      ],
      [
        "/oauth/token",
        "application/json",
        JSON.stringify({ grant_type: OTP, client_id: "spa", username: ["+1"], otp: { a: 1 }, realm: "sms" }),
      ],
      ["/oauth/token", "application/json", JSON.stringify({ grant_type: 42 })],
      ["/oauth/token", "application/x-www-form-urlencoded", "grant_type=%E0%A4%A&client_id=spa"],
      [
        "/oauth/token",
        "application/json",
        JSON.stringify({ grant_type: "refresh_token", client_id: "spa", refresh_token: "x" }),
      ],
      ["/passwordless/start", "application/json", `{"client_id":"spa","pad":"${"x".repeat(4096)}"}`],
      ["/userinfo", "application/json", "{}"],
      ["/oauth/ro", "application/json", "{}"],
      [
        "/passwordless/verify",
        "application/json",
        JSON.stringify({ client_id: "spa", connection: "sms", phone_number: "+1", verification_code: "1" }),
      ],
    ];
    for (const [path, type, body] of garbage) {
      const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": type }, body });
      expect(res.status, `${path} ${body.slice(0, 40)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${path} ${body.slice(0, 40)}`).toBeLessThan(500);
      const text = await res.text();
      expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(JSON.parse(text)).toEqual(
        expect.objectContaining({ error: expect.any(String), error_description: expect.any(String) }),
      );
    }
    const tooLarge = await post("/passwordless/start", { client_id: "spa", pad: "x".repeat(4096) });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: "invalid_request" });
    const wrongMethod = await fetch(`${server.url}/passwordless/start`);
    expect(wrongMethod.status).toBe(405);
  });

  it("supports the legacy /oauth/ro with the code as password", async () => {
    const p = phone();
    await start(p);
    const bad = await post("/oauth/ro", {
      client_id: "spa",
      connection: "sms",
      grant_type: "password",
      username: p,
      password: "000000x",
    });
    expect({ status: bad.status, body: await bad.json() }).toEqual({
      status: 401,
      body: { error: "invalid_user_password", error_description: "Wrong phone number or verification code." },
    });
    const res = await post("/oauth/ro", {
      client_id: "spa",
      connection: "sms",
      grant_type: "password",
      username: p,
      password: tl.lastCode(p),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      token_type: "Bearer",
      id_token: expect.any(String),
      access_token: expect.any(String),
    });
  });
});
