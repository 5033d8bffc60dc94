import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerOf } from "../../core/container/internals.js";
import { SESSION_STORE } from "../../core/di-tokens.js";
import type { TextlockEventMap } from "../../core/events/events.js";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// client_credentials and /api/v2/users through every adapter (PATCH and DELETE included).
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const ADMIN = { id: "admin", secret: "admin-secret-admin-secret" };
const READER = { id: "reader", secret: "reader-secret-reader-secret" };
const CREATOR = { id: "creator", secret: "creator-secret-creator-secret" };
const API = "https://orders.example.test/";

describe.each(ADAPTERS)("Management API through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let issuer: string;
  let seq = 0;
  const phone = () => `+1415556${String(1000 + ++seq).padStart(4, "0")}`;
  const events: Array<[string, unknown]> = [];

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [
        { client_id: "spa" },
        {
          client_id: ADMIN.id,
          client_secret: ADMIN.secret,
          app_type: "non_interactive",
          grant_types: ["client_credentials"],
        },
        {
          client_id: READER.id,
          client_secret: READER.secret,
          app_type: "non_interactive",
          grant_types: ["client_credentials"],
        },
        { client_id: "web", client_secret: "web-secret-web-secret-0" },
        {
          client_id: CREATOR.id,
          client_secret: CREATOR.secret,
          app_type: "non_interactive",
          grant_types: ["client_credentials"],
        },
      ],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
      resource_servers: [{ identifier: API, scopes: [{ value: "read:orders" }, { value: "write:orders" }] }],
      client_grants: [
        {
          client_id: ADMIN.id,
          audience: "https://localhost/api/v2/",
          scope: ["read:users", "update:users", "delete:users"],
        },
        { client_id: ADMIN.id, audience: API, scope: ["read:orders"] },
        { client_id: READER.id, audience: "https://localhost/api/v2/", scope: ["read:users"] },
        { client_id: CREATOR.id, audience: "https://localhost/api/v2/", scope: ["create:users"] },
      ],
    });
    for (const name of [
      "client_credentials.granted",
      "client_credentials.failed",
      "management.called",
      "user.deleted",
    ]) {
      tl.events.on(name as keyof TextlockEventMap, (e: unknown) => events.push([name, e]));
    }
    server = await serve(adapter, tl);
    issuer = `${server.url.replace(/\/$/, "")}/`;
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${issuer}${path.replace(/^\//, "")}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
  const cc = (client: { id: string; secret: string }, extra: Record<string, unknown> = {}) =>
    call("POST", "/oauth/token", {
      grant_type: "client_credentials",
      client_id: client.id,
      client_secret: client.secret,
      audience: `${issuer}api/v2/`,
      ...extra,
    });
  const tokenOf = async (client: { id: string; secret: string }, extra: Record<string, unknown> = {}) => {
    const res = await cc(client, extra);
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const login = async (p: string) => {
    await call("POST", "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p, send: "code" });
    return call("POST", "/oauth/token", {
      grant_type: OTP,
      client_id: "spa",
      username: p,
      otp: tl.lastCode(p),
      realm: "sms",
      scope: "openid offline_access",
    });
  };
  const mgmt = (token: string, method: string, path: string, body?: unknown) =>
    call(method, `/api/v2${path}`, body, { authorization: `Bearer ${token}` });

  it("issues Auth0-shaped machine-to-machine tokens (post and Basic) and audits each grant", async () => {
    const res = await cc(ADMIN);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 86400,
      scope: "read:users update:users delete:users",
    });
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token as string,
      createLocalJWKSet(tl.keys.jwks()),
      { issuer, audience: `${issuer}api/v2/` },
    );
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload).toMatchObject({
      sub: `${ADMIN.id}@clients`,
      azp: ADMIN.id,
      gty: "client-credentials",
      scope: "read:users update:users delete:users",
    });
    expect(events).toContainEqual([
      "client_credentials.granted",
      expect.objectContaining({ client_id: ADMIN.id, audience: `${issuer}api/v2/` }),
    ]);

    const basic = await call(
      "POST",
      "/oauth/token",
      `grant_type=client_credentials&audience=${encodeURIComponent(API)}&scope=read%3Aorders`,
      {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString("base64")}`,
      },
    );
    expect(basic.status).toBe(200);
    const api = (await basic.json()) as { access_token: string; scope: string };
    expect(api.scope).toBe("read:orders");
    expect(decodeJwt(api.access_token)).toMatchObject({ aud: API, sub: `${ADMIN.id}@clients` });
  });

  it("refuses bad client_credentials requests with Auth0's errors and audits them", async () => {
    const cases: Array<[Promise<Response>, number, Record<string, unknown>]> = [
      [cc({ ...ADMIN, secret: "wrong-secret-wrong-secret" }), 401, { error: "invalid_client" }],
      [
        cc({ id: "web", secret: "web-secret-web-secret-0" }),
        403,
        {
          error: "unauthorized_client",
          error_description: "Grant type 'client_credentials' not allowed for the client.",
        },
      ],
      [
        cc(ADMIN, { audience: undefined }),
        403,
        {
          error: "access_denied",
          error_description: "No audience parameter was provided, and no default audience has been configured",
        },
      ],
      [
        cc(ADMIN, { audience: "https://nope.example.test/" }),
        403,
        { error: "access_denied", error_description: "Service not enabled within domain: https://nope.example.test/" },
      ],
      [
        cc(READER, { audience: API }),
        403,
        {
          error: "access_denied",
          error_description: expect.stringMatching(/^Client is not authorized to access "https:\/\/orders/),
        },
      ],
      [
        cc(READER, { scope: "read:users delete:users" }),
        403,
        { error: "access_denied", error_description: "Client has not been granted scopes: delete:users" },
      ],
    ];
    for (const [response, status, body] of cases) {
      const res = await response;
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject(body);
    }
    expect(events.filter(([n]) => n === "client_credentials.failed").length).toBeGreaterThanOrEqual(cases.length);
  });

  it("guards /api/v2 with Management error bodies: missing, bad and user tokens, missing scope", async () => {
    const missing = await call("GET", "/api/v2/users");
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({
      statusCode: 401,
      error: "Unauthorized",
      message: "Missing authentication",
    });

    const bad = await mgmt("not.a.jwt", "GET", "/users");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ statusCode: 401, error: "Unauthorized", message: "Invalid token" });

    // A user's access token for the Management audience (with a scope it asked for) manages nothing.
    const p = phone();
    await login(p);
    await call("POST", "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p, send: "code" });
    const userTokens = await call("POST", "/oauth/token", {
      grant_type: OTP,
      client_id: "spa",
      username: p,
      otp: tl.lastCode(p),
      realm: "sms",
      scope: "openid delete:users read:users",
      audience: `${issuer}api/v2/`,
    });
    const userToken = ((await userTokens.json()) as { access_token: string }).access_token;
    const asUser = await mgmt(userToken, "GET", "/users");
    expect(asUser.status).toBe(401);

    const reader = await tokenOf(READER);
    const del = await mgmt(reader, "DELETE", "/users/sms%7C000000000000000000000000");
    expect(del.status).toBe(403);
    expect(await del.json()).toEqual({
      statusCode: 403,
      error: "Forbidden",
      message: "Insufficient scope, expected any of: delete:users,delete:current_user",
      errorCode: "insufficient_scope",
    });
    expect(events).toContainEqual([
      "management.called",
      expect.objectContaining({ method: "DELETE", status: 403, client_id: READER.id }),
    ]);
  });

  it("searches, gets, patches and deletes users; a deleted user's number signs up anew", async () => {
    const admin = await tokenOf(ADMIN);
    const p = phone();
    const first = await login(p);
    const { refresh_token } = (await first.json()) as { refresh_token: string };
    const found = await mgmt(admin, "GET", `/users?q=${encodeURIComponent(`phone_number:"${p}"`)}&search_engine=v3`);
    expect(found.status).toBe(200);
    const [user] = (await found.json()) as Array<{ user_id: string; phone_number: string }>;
    expect(user).toMatchObject({ phone_number: p, user_id: expect.stringMatching(/^sms\|/) });

    const id = encodeURIComponent(user!.user_id);
    expect(await (await mgmt(admin, "GET", `/users/${id}`)).json()).toMatchObject({ user_id: user!.user_id });

    const patched = await mgmt(admin, "PATCH", `/users/${id}`, {
      app_metadata: { plan: "pro", tier: 2 },
      user_metadata: { lang: "fr" },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      app_metadata: { plan: "pro", tier: 2 },
      user_metadata: { lang: "fr" },
    });
    const merged = await mgmt(admin, "PATCH", `/users/${id}`, { app_metadata: { tier: null, x: { y: 1 } } });
    expect(await merged.json()).toMatchObject({ app_metadata: { plan: "pro", x: { y: 1 } } });

    const byMeta = await mgmt(
      admin,
      "GET",
      `/users?q=${encodeURIComponent("app_metadata.plan:pro")}&include_totals=true`,
    );
    const page = (await byMeta.json()) as {
      users: Array<{ user_id: string }>;
      total: number;
      start: number;
      limit: number;
    };
    expect(page).toMatchObject({ start: 0, limit: 50, total: 1, length: 1 });
    expect(page.users[0]!.user_id).toBe(user!.user_id);

    // A code sent before the block is refused at the exchange with Auth0's error; no new code is sent.
    await call("POST", "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p, send: "code" });
    const code = tl.lastCode(p);
    const blocked = await mgmt(admin, "PATCH", `/users/${id}`, { blocked: true });
    expect(await blocked.json()).toMatchObject({ blocked: true });
    const refused = await call("POST", "/oauth/token", {
      grant_type: OTP,
      client_id: "spa",
      username: p,
      otp: code,
      realm: "sms",
      scope: "openid",
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "unauthorized", error_description: "user is blocked" });
    const refreshed = await call("POST", "/oauth/token", {
      grant_type: "refresh_token",
      client_id: "spa",
      refresh_token,
    });
    expect(refreshed.status).toBe(403);
    const blockedList = await mgmt(
      admin,
      "GET",
      `/users?q=${encodeURIComponent(`blocked:true AND phone_number:"${p}"`)}`,
    );
    expect(await blockedList.json()).toHaveLength(1);

    const sent = tl.messages(p).length;
    await call("POST", "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p, send: "code" });
    expect(tl.messages(p)).toHaveLength(sent);

    expect((await mgmt(admin, "PATCH", `/users/${id}`, { blocked: false })).status).toBe(200);
    expect((await login(p)).status).toBe(200);

    // A login session of the user (as the hosted page makes one) ends with the user.
    const sessions = containerOf(tl).resolve(SESSION_STORE);
    const session = {
      sid: `sid-${user!.user_id}`,
      secretHash: "x",
      userId: user!.user_id,
      connection: "sms",
      authTime: Date.now(),
      expiresAt: Date.now() + 3_600_000,
      idleExpiresAt: Date.now() + 3_600_000,
      claims: { idToken: {}, accessToken: {} },
      clients: ["spa"],
    };
    await sessions.save(session);
    expect(await sessions.get(session.sid)).toBeDefined();

    const deleted = await mgmt(admin, "DELETE", `/users/${id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect(events).toContainEqual(["user.deleted", expect.objectContaining({ user_id: user!.user_id })]);
    expect(await sessions.get(session.sid)).toBeUndefined();
    const gone = await mgmt(admin, "GET", `/users/${id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({
      statusCode: 404,
      error: "Not Found",
      message: "The user does not exist.",
      errorCode: "inexistent_user",
    });
    expect((await mgmt(admin, "DELETE", `/users/${id}`)).status).toBe(404);
    expect((await mgmt(admin, "PATCH", `/users/${id}`, { blocked: true })).status).toBe(404);

    const again = await login(p);
    const { id_token } = (await again.json()) as { id_token: string };
    expect(decodeJwt(id_token).sub).not.toBe(user!.user_id);
  });

  it("creates users (POST /api/v2/users) that log in as themselves", async () => {
    const admin = await tokenOf(ADMIN);
    const reader = await tokenOf(READER);
    const p = phone();
    expect((await mgmt(admin, "POST", "/users", { connection: "sms", phone_number: p })).status).toBe(403);
    const creator = (
      (await (
        await call(
          "POST",
          "/oauth/token",
          `grant_type=client_credentials&audience=${encodeURIComponent(`${issuer}api/v2/`)}`,
          {
            "content-type": "application/x-www-form-urlencoded",
            authorization: `Basic ${Buffer.from(`${CREATOR.id}:${CREATOR.secret}`).toString("base64")}`,
          },
        )
      ).json()) as { access_token: string }
    ).access_token;
    const created = await mgmt(creator, "POST", "/users", {
      connection: "sms",
      phone_number: p,
      app_metadata: { imported: true },
      name: "Ada",
    });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { user_id: string };
    expect(user).toMatchObject({
      phone_number: p,
      phone_verified: false,
      name: "Ada",
      app_metadata: { imported: true },
    });
    const again = await mgmt(creator, "POST", "/users", { connection: "sms", phone_number: p });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ errorCode: "auth0_idp_error", message: "The user already exists." });
    const ghost = await mgmt(creator, "POST", "/users", { connection: "nope", phone_number: phone() });
    expect(await ghost.json()).toMatchObject({ statusCode: 400, errorCode: "inexistent_connection" });
    const noPhone = await mgmt(creator, "POST", "/users", { connection: "sms", email: "a@b.c" });
    expect(await noPhone.json()).toMatchObject({ statusCode: 400, errorCode: "invalid_body" });

    const { id_token } = (await (await login(p)).json()) as { id_token: string };
    expect(decodeJwt(id_token).sub).toBe(user.user_id);
    const after = await mgmt(reader, "GET", `/users/${encodeURIComponent(user.user_id)}`);
    expect(await after.json()).toMatchObject({ phone_verified: true, logins_count: 1 });
  });

  it("applies 20 parallel PATCH requests to one user without losing one", async () => {
    const admin = await tokenOf(ADMIN);
    const p = phone();
    const { id_token } = (await (await login(p)).json()) as { id_token: string };
    const id = encodeURIComponent(String(decodeJwt(id_token).sub));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mgmt(admin, "PATCH", `/users/${id}`, { user_metadata: { [`k${i}`]: i } })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const user = (await (await mgmt(admin, "GET", `/users/${id}`)).json()) as { user_metadata: object };
    expect(Object.keys(user.user_metadata)).toHaveLength(20);
  });

  it("answers bad input with Management error bodies, never a 500", async () => {
    const admin = await tokenOf(ADMIN);
    const p = phone();
    const q = phone();
    await login(p);
    await login(q);
    const [user] = (await (
      await mgmt(admin, "GET", `/users?q=${encodeURIComponent(`phone_number:"${p}"`)}`)
    ).json()) as Array<{ user_id: string }>;
    const id = encodeURIComponent(user!.user_id);
    const expectError = async (res: Response, status: number, errorCode: string, message?: RegExp) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ statusCode: status, errorCode, message: expect.any(String) });
      if (message) expect(body.message).toMatch(message);
    };
    await expectError(
      await mgmt(admin, "PATCH", `/users/${id}`, { email: "a@b.c" }),
      400,
      "invalid_body",
      /Additional properties not allowed: email/,
    );
    await expectError(await mgmt(admin, "PATCH", `/users/${id}`, { blocked: "yes" }), 400, "invalid_body");
    await expectError(await mgmt(admin, "PATCH", `/users/${id}`, {}), 400, "invalid_body");
    await expectError(await mgmt(admin, "PATCH", `/users/${id}`, "{not json"), 400, "invalid_body");
    await expectError(await mgmt(admin, "PATCH", `/users/${id}`, { phone_number: q }), 409, "auth0_idp_error");
    await expectError(
      await mgmt(admin, "GET", `/users?q=${encodeURIComponent('phone_number:"+1')}`),
      400,
      "invalid_query_string",
    );
    await expectError(
      await mgmt(admin, "GET", `/users?q=${encodeURIComponent("password:x")}`),
      400,
      "invalid_query_string",
    );
    await expectError(
      await mgmt(admin, "GET", `/users?q=${encodeURIComponent("(blocked:true")}`),
      400,
      "invalid_query_string",
    );
    await expectError(await mgmt(admin, "GET", "/users?page=-1"), 400, "invalid_query_string");
    await expectError(await mgmt(admin, "GET", "/users?per_page=101"), 400, "invalid_query_string");
    await expectError(
      await mgmt(admin, "GET", "/users?page=20&per_page=50"),
      400,
      "invalid_query_string",
      /first 1000/,
    );
    await expectError(await mgmt(admin, "GET", "/users?bogus=1"), 400, "invalid_query_string");
    // Fastify's router refuses a malformed path itself (400) before textlock sees it.
    if (adapter !== "fastify") await expectError(await mgmt(admin, "GET", "/users/%E0%A4%A"), 404, "inexistent_user");
    // A page past the last user is an empty page (Auth0), not an error.
    const past = await mgmt(admin, "GET", "/users?page=19&per_page=50&include_totals=true");
    expect(past.status).toBe(200);
    expect(await past.json()).toMatchObject({ start: 950, length: 0, users: [] });

    const moved = phone();
    const changed = await mgmt(admin, "PATCH", `/users/${id}`, { phone_number: moved, phone_verified: false });
    expect(await changed.json()).toMatchObject({ phone_number: moved, phone_verified: false });
    const byNew = await mgmt(
      admin,
      "GET",
      `/users?q=${encodeURIComponent(`phone_number:"${moved}"`)}&fields=user_id,phone_number`,
    );
    expect(await byNew.json()).toEqual([{ user_id: user!.user_id, phone_number: moved }]);
  });
});
