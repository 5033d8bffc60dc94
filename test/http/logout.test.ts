import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADAPTERS, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// /v2/logout (Auth0) and /oidc/logout (OIDC RP-Initiated Logout) through every adapter: only
// Allowed Logout URLs are ever redirected to; anything else is an error page without a Location.
const APP = "https://app.example.com";
const TENANT = "https://www.example.org/bye";
const NOT_ALLOWED = (param: string, url: string) =>
  `The "${param}" querystring parameter "${url}" is not defined as a valid URL in "Allowed Logout URLs".`;

describe.each(ADAPTERS)("logout through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;
  let seq = 0;

  beforeAll(async () => {
    tl = await createTestTextlock({
      login: { allowedLogoutUrls: [TENANT] },
      clients: [
        { client_id: "spa", allowed_logout_urls: [`${APP}/logged-out`, `${APP}/other?x=1`] },
        { client_id: "bare" },
      ],
      connections: [{ name: "sms", enabled_clients: ["spa", "bare"] }],
    });
    server = await serve(adapter, tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  const html = { accept: "text/html" };
  const get = (path: string, params: Record<string, string>, headers: Record<string, string> = html) =>
    fetch(`${server.url}${path}?${new URLSearchParams(params)}`, { redirect: "manual", headers });
  const expectRefused = async (res: Response, text?: string) => {
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const body = await res.text();
    if (text) expect(body).toContain(text.replace(/"/g, "&#34;"));
  };
  const idToken = async (clientId: string) => {
    const issuer = (
      (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { issuer: string }
    ).issuer;
    const phone = `+1415555${String(3000 + ++seq).padStart(4, "0")}`;
    await tl.api.start({ client_id: clientId, connection: "sms", phone_number: phone });
    const tokens = await tl.api.login(
      { client_id: clientId, phone_number: phone, code: tl.lastCode(phone), scope: "openid" },
      { issuer },
    );
    return tokens.id_token!;
  };

  describe("GET /v2/logout", () => {
    it("redirects to an allowed returnTo of the client, query kept, with no-store", async () => {
      const returnTo = `${APP}/logged-out?from=app#top`;
      const res = await get("/v2/logout", { client_id: "spa", returnTo, federated: "" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(returnTo);
      expect(res.headers.get("cache-control")).toBe("no-store");
    });

    it("matches scheme and host case-insensitively but the path case-sensitively", async () => {
      const ok = await get("/v2/logout", { client_id: "spa", returnTo: "HTTPS://APP.Example.com/logged-out" });
      expect(ok.status).toBe(302);
      await expectRefused(await get("/v2/logout", { client_id: "spa", returnTo: `${APP}/Logged-Out` }));
    });

    it("refuses an unlisted returnTo with Auth0's wording, as a page or JSON", async () => {
      const returnTo = "https://evil.test/";
      await expectRefused(await get("/v2/logout", { client_id: "spa", returnTo }), NOT_ALLOWED("returnTo", returnTo));
      const res = await get("/v2/logout", { client_id: "spa", returnTo }, { accept: "application/json" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.json()).toEqual({
        error: "invalid_request",
        error_description: NOT_ALLOWED("returnTo", returnTo),
      });
    });

    it.each([
      "//evil.test",
      "//app.example.com/logged-out",
      "https://app.example.com.evil.test/logged-out",
      "https://app.example.com@evil.test/logged-out",
      "javascript:alert(1)//https://app.example.com/logged-out",
      "/logged-out",
    ])("refuses the open-redirect attempt %s", async (returnTo) => {
      await expectRefused(await get("/v2/logout", { client_id: "spa", returnTo }));
      await expectRefused(await get("/v2/logout", { returnTo }));
    });

    it("reads a repeated query parameter's first value, on every adapter", async () => {
      const target = (first: string, second: string) =>
        `${server.url}/v2/logout?client_id=spa&returnTo=${encodeURIComponent(first)}&returnTo=${encodeURIComponent(second)}`;
      const allowed = `${APP}/logged-out`;
      const first = await fetch(target(allowed, "https://evil.test/"), { redirect: "manual", headers: html });
      expect(first.status).toBe(302);
      expect(first.headers.get("location")).toBe(allowed);
      await expectRefused(await fetch(target("https://evil.test/", allowed), { redirect: "manual", headers: html }));
    });

    it("uses the tenant list without client_id, and never the client's list for it", async () => {
      const res = await get("/v2/logout", { returnTo: `${TENANT}?a=b` });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`${TENANT}?a=b`);
      await expectRefused(await get("/v2/logout", { returnTo: `${APP}/logged-out` }));
      await expectRefused(await get("/v2/logout", { client_id: "spa", returnTo: TENANT }));
    });

    it("sends client_id without returnTo to the client's first allowed URL", async () => {
      const res = await get("/v2/logout", { client_id: "spa" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`${APP}/logged-out`);
    });

    it("shows a logged-out page without returnTo or client; an unknown client is an error page", async () => {
      const res = await get("/v2/logout", {});
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("You are logged out");
      const bare = await get("/v2/logout", { client_id: "bare" });
      expect(bare.status).toBe(200);
      await expectRefused(await get("/v2/logout", { client_id: "nobody", returnTo: TENANT }));
    });
  });

  describe("/oidc/logout", () => {
    it("is the discovery document's end_session_endpoint", async () => {
      const doc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        string
      >;
      expect(doc.end_session_endpoint).toBe(`${doc.issuer}oidc/logout`);
    });

    it("redirects with a real id_token_hint to post_logout_redirect_uri, echoing state", async () => {
      const hint = await idToken("spa");
      const res = await get("/oidc/logout", {
        id_token_hint: hint,
        post_logout_redirect_uri: `${APP}/logged-out`,
        state: "xyz 1",
        ui_locales: "fr",
        logout_hint: "whatever",
      });
      expect(res.status).toBe(302);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const location = new URL(res.headers.get("location")!);
      expect(`${location.origin}${location.pathname}`).toBe(`${APP}/logged-out`);
      expect(location.searchParams.get("state")).toBe("xyz 1");
    });

    it("takes POSTed form fields", async () => {
      const res = await fetch(`${server.url}/oidc/logout`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
        body: new URLSearchParams({
          id_token_hint: await idToken("spa"),
          post_logout_redirect_uri: `${APP}/other?x=1`,
          state: "s",
        }).toString(),
      });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`${APP}/other?x=1&state=s`);
    });

    it("refuses a forged or tampered id_token_hint", async () => {
      const real = await idToken("spa");
      const [h, p] = real.split(".");
      const forged = `${h}.${p}.${Buffer.from("not the signature").toString("base64url")}`;
      const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, aud: "bare" })).toString("base64url")}.${real.split(".")[2]}`;
      for (const hint of [forged, tampered, "garbage"]) {
        await expectRefused(
          await get("/oidc/logout", { id_token_hint: hint, post_logout_redirect_uri: `${APP}/logged-out` }),
          "Invalid id_token_hint.",
        );
      }
    });

    it("refuses an unlisted post_logout_redirect_uri, a client_id that is not the hint's aud, a changed query", async () => {
      const hint = await idToken("spa");
      const uri = "https://evil.test/";
      await expectRefused(
        await get("/oidc/logout", { id_token_hint: hint, post_logout_redirect_uri: uri, state: "s" }),
        NOT_ALLOWED("post_logout_redirect_uri", uri),
      );
      await expectRefused(
        await get("/oidc/logout", {
          id_token_hint: hint,
          client_id: "bare",
          post_logout_redirect_uri: `${APP}/logged-out`,
        }),
      );
      await expectRefused(
        await get("/oidc/logout", { id_token_hint: hint, post_logout_redirect_uri: `${APP}/other?x=2` }),
      );
    });

    it("uses client_id's list without a hint, and the first URL without a redirect URI", async () => {
      const res = await get("/oidc/logout", { client_id: "spa", state: "s" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`${APP}/logged-out?state=s`);
      const page = await get("/oidc/logout", { ui_locales: "fr" });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Vous êtes déconnecté");
    });
  });
});

describe.each(ADAPTERS)("logout under a mount path through %s", (adapter) => {
  let tl: TestTextlock;
  let server: Served;

  beforeAll(async () => {
    tl = await createTestTextlock({
      clients: [{ client_id: "spa", allowed_logout_urls: [`${APP}/logged-out`] }],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
    });
    server = await serve(adapter, tl, { prefix: "/auth" });
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  it("publishes the prefixed end_session_endpoint and serves both endpoints there", async () => {
    const doc = (await (await fetch(`${server.url}/auth/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    expect(doc.end_session_endpoint).toBe(`${server.url}/auth/oidc/logout`);
    const v2 = await fetch(`${server.url}/auth/v2/logout?client_id=spa`, { redirect: "manual" });
    expect(v2.headers.get("location")).toBe(`${APP}/logged-out`);
    const oidc = await fetch(doc.end_session_endpoint!.concat("?client_id=spa&state=s"), { redirect: "manual" });
    expect(oidc.headers.get("location")).toBe(`${APP}/logged-out?state=s`);
  });
});
