import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// GET /api/v2/logs (search and checkpoint modes), /api/v2/logs/{id} and /api/v2/users/{id}/logs
// through every adapter, with Auth0's shapes, scopes and error bodies.
const AUDITOR = { id: "auditor", secret: "auditor-secret-auditor-secret" };
const ADMIN = { id: "admin", secret: "admin-secret-admin-secret" };

describe.each(ADAPTERS)("Management API logs through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let issuer: string;
  let userId: string;
  const phone = "+14155557321";

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${issuer}${path.replace(/^\//, "")}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const tokenFor = async (client: { id: string; secret: string }) => {
    const res = await call("POST", "/oauth/token", undefined, {
      grant_type: "client_credentials",
      client_id: client.id,
      client_secret: client.secret,
      audience: `${issuer}api/v2/`,
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  let auditorToken: string;
  let adminToken: string;

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [
        { client_id: "spa" },
        { client_id: AUDITOR.id, client_secret: AUDITOR.secret, grant_types: ["client_credentials"] },
        { client_id: ADMIN.id, client_secret: ADMIN.secret, grant_types: ["client_credentials"] },
      ],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
      client_grants: [
        { client_id: AUDITOR.id, audience: "https://localhost/api/v2/", scope: ["read:logs"] },
        { client_id: ADMIN.id, audience: "https://localhost/api/v2/", scope: ["read:users", "update:users"] },
      ],
    });
    server = await serve(adapter, tl);
    issuer = `${server.url.replace(/\/$/, "")}/`;
    await tl.api.start({ client_id: "spa", connection: "sms", phone_number: phone });
    await expect(tl.api.login({ client_id: "spa", phone_number: phone, code: "000001" })).rejects.toThrow();
    const tokens = await tl.api.login({ client_id: "spa", phone_number: phone, code: tl.lastCode(phone) });
    expect(tokens.access_token).toBeTruthy();
    userId = (await tl.users.findByPhone("sms", phone))!.user_id;
    auditorToken = await tokenFor(AUDITOR);
    adminToken = await tokenFor(ADMIN);
    await tl.audit.flush();
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  it("lists logs newest first as a bare array, or with totals, and filters with q", async () => {
    const res = await call("GET", "/api/v2/logs", auditorToken);
    expect(res.status).toBe(200);
    const logs = (await res.json()) as Array<Record<string, unknown>>;
    const types = logs.map((l) => l.type);
    // Oldest last: cs, fepotpft, ss, s, seccft, seccft (and no record for the reads).
    expect(types.slice(-4)).toEqual(["s", "ss", "fepotpft", "cs"]);
    expect(types.filter((t) => t === "seccft")).toHaveLength(2);
    const totals = (await (
      await call("GET", "/api/v2/logs?include_totals=true&per_page=2&page=1", auditorToken)
    ).json()) as {
      start: number;
      limit: number;
      length: number;
      total: number;
      logs: unknown[];
    };
    expect(totals).toMatchObject({ start: 2, limit: 2, length: 2, total: logs.length });
    const fails = (await (
      await call("GET", `/api/v2/logs?q=${encodeURIComponent('type:fepotpft AND connection:"sms"')}`, auditorToken)
    ).json()) as Array<Record<string, unknown>>;
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatchObject({ type: "fepotpft", client_id: "spa", user_name: "+*******7321" });
    const both = (await (
      await call("GET", `/api/v2/logs?q=${encodeURIComponent("type:(s OR ss)")}&sort=date:1`, auditorToken)
    ).json()) as Array<Record<string, unknown>>;
    expect(both.map((l) => l.type)).toEqual(["ss", "s"]);
    // node-auth0 v6 sends `search` instead of `q`.
    const v6 = (await (
      await call("GET", "/api/v2/logs?search=type:s&fields=type,log_id", auditorToken)
    ).json()) as Array<Record<string, unknown>>;
    expect(v6).toEqual([{ type: "s", log_id: expect.stringMatching(/^\d{56}$/) }]);
  });

  it("pages from/take in log_id order with a Link rel=next, and gets one log by id", async () => {
    const first = await call("GET", "/api/v2/logs?take=2", auditorToken);
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as Array<{ log_id: string; type: string }>;
    expect(page1.map((l) => l.type)).toEqual(["cs", "fepotpft"]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get("link") ?? "")![1]!;
    expect(new URL(next).searchParams.get("from")).toBe(page1[1]!.log_id);
    const page2 = (await (
      await fetch(next, { headers: { authorization: `Bearer ${auditorToken}` } })
    ).json()) as Array<{
      log_id: string;
      type: string;
    }>;
    expect(page2.map((l) => l.type)).toEqual(["ss", "s"]);
    expect(page2[0]!.log_id > page1[1]!.log_id).toBe(true);
    const one = await call("GET", `/api/v2/logs/${page2[1]!.log_id}`, auditorToken);
    expect(await one.json()).toMatchObject({ log_id: page2[1]!.log_id, type: "s", user_id: userId });
    const missing = await call("GET", `/api/v2/logs/${"9".repeat(56)}`, auditorToken);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404, error: "Not Found", errorCode: "not_found" });
  });

  it("lists a user's logs", async () => {
    const res = await call("GET", `/api/v2/users/${encodeURIComponent(userId)}/logs?include_totals=true`, auditorToken);
    const body = (await res.json()) as { total: number; logs: Array<{ type: string; user_id: string }> };
    expect(body.total).toBe(2);
    expect(body.logs.map((l) => l.type)).toEqual(["s", "ss"]);
  });

  it("records a management write as sapi with the phone masked, never the token", async () => {
    const res = await call("PATCH", `/api/v2/users/${encodeURIComponent(userId)}`, adminToken, {
      user_metadata: { plan: "gold" },
    });
    expect(res.status).toBe(200);
    await tl.audit.flush();
    const sapi = (await (await call("GET", "/api/v2/logs?q=type:sapi", auditorToken)).json()) as Array<
      Record<string, unknown> & { details: { request: { method: string; path: string } } }
    >;
    expect(sapi[0]).toMatchObject({ type: "sapi", client_id: ADMIN.id });
    expect(sapi[0]!.details.request).toMatchObject({ method: "PATCH", body: { user_metadata: { plan: "gold" } } });
    const all = JSON.stringify((await tl.audit.search({ limit: 100 })).logs);
    expect(all).not.toContain(adminToken);
    expect(all).not.toContain(ADMIN.secret);
    expect(all).not.toContain(phone);
  });

  it("refuses without read:logs, bad q, bad paging, and unknown parameters with Management error bodies", async () => {
    const noScope = await call("GET", "/api/v2/logs", adminToken);
    expect(noScope.status).toBe(403);
    expect(await noScope.json()).toMatchObject({ statusCode: 403, errorCode: "insufficient_scope" });
    expect((await call("GET", "/api/v2/logs")).status).toBe(401);
    for (const query of [
      "q=password:x",
      "q=type:(",
      "per_page=101",
      "page=20&per_page=50",
      "sort=name:1",
      "from=abc",
      "nope=1",
    ]) {
      const res = await call("GET", `/api/v2/logs?${query}`, auditorToken);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ statusCode: 400, errorCode: "invalid_query_string" });
    }
  });
});
