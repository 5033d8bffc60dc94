import { type ChildProcess, execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";
import { isolatedDatabase, type RunningService, startRedis } from "../helpers/services.js";

// Token, key and session state shared by two `textlock serve` processes on one Redis and one
// PostgreSQL, as behind a load balancer: refresh tokens, reuse detection, key rotation and login
// sessions started on one process and used or ended on the other.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const ISSUER = "https://login.example.test/";
const APP = "https://app.example.test";
const CB = `${APP}/callback`;
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "two_processes_state");
const root = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

describe.skipIf(!postgresUrl)("two textlock processes share tokens, keys and sessions", () => {
  let redis: RunningService;
  let dataDir: string;
  let configFile: string;
  const nodes: Array<{ url: string; child: ChildProcess }> = [];
  let seq = 0;
  const phone = () => `+1415555${String(7000 + ++seq).padStart(4, "0")}`;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), "textlock-2ps-"));
    configFile = join(dataDir, "textlock.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        secret: "shared-secret-shared-secret-shared-0002",
        issuer: ISSUER,
        dataDir,
        store: { type: "redis", url: redis.url, namespace: `tps-${process.pid}`, commandTimeoutMs: 1_000 },
        users: { type: "postgres", url: postgresUrl },
        tokens: { keyReloadSeconds: 0.5 },
        protection: { enabled: false },
        logging: { level: "error" },
        clients: [
          {
            client_id: "spa",
            callbacks: [CB],
            web_origins: [APP],
            allowed_logout_urls: [`${APP}/bye`],
            grant_types: [OTP, "authorization_code", "refresh_token"],
          },
        ],
        connections: [{ name: "sms", enabled_clients: ["spa"], options: { provider: "console" } }],
      }),
    );
    nodes.push(...(await Promise.all([spawnServe(configFile), spawnServe(configFile)])));
  }, 60_000);
  afterAll(async () => {
    for (const n of nodes) {
      if (n.child.exitCode !== null) continue;
      const exited = new Promise((r) => n.child.once("exit", r));
      n.child.kill("SIGTERM");
      await exited;
    }
    await redis?.stop();
  });

  const codeFor = (p: string) =>
    readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { to: string; body: string })
      .filter((m) => m.to === p)
      .at(-1)!
      .body.match(/\d{6}/)![0];
  const post = async (node: number, path: string, body: object) => {
    const res = await fetch(`${nodes[node]!.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  async function otpLogin(node: number, p: string, scope = "openid offline_access") {
    expect(
      (await post(node, "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: p })).status,
    ).toBe(200);
    const res = await post(node, "/oauth/token", {
      grant_type: OTP,
      client_id: "spa",
      realm: "sms",
      username: p,
      otp: codeFor(p),
      scope,
    });
    expect(res.status).toBe(200);
    return res.body;
  }
  const refresh = (node: number, token: string) =>
    post(node, "/oauth/token", { grant_type: "refresh_token", client_id: "spa", refresh_token: token });

  it("a refresh token issued by A works on B; reusing a rotated one revokes the family on both", async () => {
    const first = await otpLogin(0, phone());
    const onB = await refresh(1, first.refresh_token!);
    expect(onB.status).toBe(200);
    const onA = await refresh(0, onB.body.refresh_token!);
    expect(onA.status).toBe(200);
    // The first token was rotated: its reuse (on A) revokes the whole family, seen by B at once.
    const reuse = await refresh(0, first.refresh_token!);
    expect(reuse).toEqual({
      status: 403,
      body: { error: "invalid_grant", error_description: "Unknown or invalid refresh token." },
    });
    const latest = await refresh(1, onA.body.refresh_token!);
    expect(latest.body.error).toBe("invalid_grant");
  });

  it("a key rotated with `textlock keys rotate` is served and used by both without a restart; older tokens still verify", async () => {
    const before = await otpLogin(0, phone(), "openid");
    const oldKid = decodeProtectedHeader(before.id_token!).kid!;
    const { stdout } = await run(
      process.execPath,
      ["--no-node-snapshot", "--import", "tsx", "cli/index.ts", "keys", "rotate", "--config", configFile],
      { cwd: root },
    );
    const newKid = stdout.match(/new signing key (\S+)/)![1]!;
    expect(newKid).not.toBe(oldKid);
    for (const node of [0, 1]) {
      const deadline = Date.now() + 10_000;
      let kids: string[] = [];
      while (Date.now() < deadline) {
        const jwks = (await (await fetch(`${nodes[node]!.url}/.well-known/jwks.json`)).json()) as {
          keys: Array<{ kid: string }>;
        };
        kids = jwks.keys.map((k) => k.kid);
        if (kids.includes(newKid)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    }
    // Both sign with the new key now (the reload also switches the signing key).
    await new Promise((r) => setTimeout(r, 700));
    const afterB = await otpLogin(1, phone(), "openid");
    expect(decodeProtectedHeader(afterB.id_token!).kid).toBe(newKid);
    const jwksB = createRemoteJWKSet(new URL(`${nodes[1]!.url}/.well-known/jwks.json`));
    await jwtVerify(before.id_token!, jwksB, { issuer: ISSUER, audience: "spa" });
    await jwtVerify(afterB.id_token!, jwksB, { issuer: ISSUER, audience: "spa" });
  });

  it("a login session started on A is honoured by B, and a logout on B ends it for A", async () => {
    const get = (node: number, path: string, cookie = "") =>
      fetch(`${nodes[node]!.url}${path}`, { redirect: "manual", headers: { accept: "text/html", cookie } });
    const form = (node: number, fields: Record<string, string>, cookie: string) =>
      fetch(`${nodes[node]!.url}/sms-login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie, accept: "text/html" },
        body: new URLSearchParams(fields).toString(),
      });
    const txOf = (html: string) => html.match(/name="tx" value="([^"]+)"/)![1]!;
    const verifier = randomBytes(32).toString("base64url");
    const authorize = (extra: Record<string, string> = {}) =>
      `/authorize?${new URLSearchParams({
        client_id: "spa",
        redirect_uri: CB,
        response_type: "code",
        scope: "openid",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        ...extra,
      })}`;
    const paramsOf = (res: Response) => Object.fromEntries(new URL(res.headers.get("location")!).searchParams);

    const p = phone();
    const page = await get(0, authorize());
    const binding = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const sent = await form(
      0,
      { tx: txOf(await page.text()), action: "send", country: "US", phone: p.slice(2) },
      binding,
    );
    const done = await form(0, { tx: txOf(await sent.text()), action: "verify", code: codeFor(p) }, binding);
    expect(done.status).toBe(302);
    const session = done.headers
      .getSetCookie()
      .find((c) => c.startsWith("textlock_session="))!
      .split(";")[0]!;

    const silentOnB = await get(1, authorize({ prompt: "none" }), session);
    expect(silentOnB.status).toBe(302);
    const code = paramsOf(silentOnB).code!;
    const exchanged = await post(0, "/oauth/token", {
      grant_type: "authorization_code",
      client_id: "spa",
      code,
      redirect_uri: CB,
      code_verifier: verifier,
    });
    expect(exchanged.status).toBe(200);
    expect(decodeJwt(exchanged.body.id_token!).sid).toBe(session.slice("textlock_session=".length).split(".")[0]);

    const logout = await get(1, `/v2/logout?client_id=spa&returnTo=${encodeURIComponent(`${APP}/bye`)}`, session);
    expect(logout.headers.get("location")).toBe(`${APP}/bye`);
    const silentOnA = await get(0, authorize({ prompt: "none" }), session);
    expect(paramsOf(silentOnA).error).toBe("login_required");
  });
});
