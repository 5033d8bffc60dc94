import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
} from "jose";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { containerOf } from "../../../core/container/internals.js";
import { TOKENS } from "../../../core/di-tokens.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { createTextlock, type Textlock } from "../../../lib/index.js";
import { createTestTextlock, TEST_SECRET, type TestTextlock } from "../../helpers/create-test-textlock.js";

const PHONE = "+14155550100";
const ISSUER = "https://auth.example.test/";
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function login(tl: TestTextlock, extra: Record<string, unknown> = {}) {
  await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
  return tl.api.token(
    { grant_type: OTP, client_id: "textlock-dev", username: PHONE, otp: tl.lastCode(PHONE), realm: "sms", ...extra },
    { issuer: ISSUER },
  );
}

describe("tokens", () => {
  it("issues an RS256 id_token with Auth0's claims that verifies against the JWKS", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const res = await login(tl, { scope: "openid profile phone", nonce: "n-123" });
    expect(res).toMatchObject({ token_type: "Bearer", expires_in: 86400, scope: "openid profile phone" });
    expect(res.refresh_token).toBeUndefined();
    const header = decodeProtectedHeader(res.id_token!);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
    const { payload } = await jwtVerify(res.id_token!, createLocalJWKSet(tl.keys.jwks()), {
      issuer: ISSUER,
      audience: "textlock-dev",
    });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
      aud: "textlock-dev",
      nonce: "n-123",
      name: PHONE,
      nickname: PHONE,
      phone_number: PHONE,
      phone_number_verified: true,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(payload.exp! - payload.iat!).toBe(36000);
    expect(tl.keys.jwks().keys[0]).toMatchObject({
      kty: "RSA",
      alg: "RS256",
      use: "sig",
      kid: header.kid,
      n: expect.any(String),
      e: "AQAB",
    });
  });

  it("gives no id_token without openid, and scope-filtered claims with it", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    expect((await login(tl)).id_token).toBeUndefined();
    const res = await login(tl, { scope: "openid" });
    const { payload } = await jwtVerify(res.id_token!, createLocalJWKSet(tl.keys.jwks()));
    expect(payload.name).toBeUndefined();
    expect(payload.phone_number).toBeUndefined();
  });

  it("issues an access token JWT for an audience, and /userinfo answers for the opaque one", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const api = await login(tl, { scope: "openid profile", audience: "https://api.example.test" });
    const { payload } = await jwtVerify(api.access_token, createLocalJWKSet(tl.keys.jwks()), {
      audience: "https://api.example.test",
    });
    expect(payload.aud).toEqual(["https://api.example.test", `${ISSUER}userinfo`]);
    expect(payload).toMatchObject({ azp: "textlock-dev", scope: "openid profile" });
    expect(await tl.api.userinfo(api.access_token, { issuer: ISSUER })).toMatchObject({
      sub: payload.sub,
      name: PHONE,
      phone_number: PHONE,
    });
    await expect(tl.api.userinfo(`${api.access_token}x`, { issuer: ISSUER })).rejects.toMatchObject({
      code: "ERR_INVALID_TOKEN",
    });
    await expect(tl.api.userinfo(api.access_token, { issuer: "https://other.test/" })).rejects.toMatchObject({
      code: "ERR_INVALID_TOKEN",
    });
  });

  it("without an audience the access token is opaque, as Auth0's: only /userinfo accepts it, until it expires", async () => {
    let now = Date.now();
    const tl = await createTestTextlock({}, { clock: () => now });
    open.push(tl);
    const res = await login(tl, { scope: "openid phone" });
    // Not a JWT: nothing for a client or an API to decode.
    expect(res.access_token).toMatch(/^[\w-]+$/);
    expect(res.access_token).not.toContain(PHONE);
    expect(res.expires_in).toBe(86400);
    const sub = decodeJwt(res.id_token!).sub;
    expect(await tl.api.userinfo(res.access_token, { issuer: ISSUER })).toEqual({
      sub,
      phone_number: PHONE,
      phone_number_verified: true,
    });
    // One character changed anywhere, another issuer, another server secret: refused.
    const flipped =
      res.access_token.slice(0, 20) + (res.access_token[20] === "A" ? "B" : "A") + res.access_token.slice(21);
    for (const [token, issuer] of [
      [flipped, ISSUER],
      [res.access_token, "https://other.test/"],
      [res.access_token.slice(0, -4), ISSUER],
    ] as const)
      await expect(tl.api.userinfo(token, { issuer })).rejects.toMatchObject({ code: "ERR_INVALID_TOKEN" });
    const other = await createTestTextlock({ secret: "another-secret-another-secret-another-0" });
    open.push(other);
    await expect(other.api.userinfo(res.access_token, { issuer: ISSUER })).rejects.toMatchObject({
      code: "ERR_INVALID_TOKEN",
    });
    // Past its lifetime.
    now += 86_400_000;
    await expect(tl.api.userinfo(res.access_token, { issuer: ISSUER })).rejects.toMatchObject({
      code: "ERR_INVALID_TOKEN",
    });
  });

  it("rotates refresh tokens: each can be used once", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const first = await login(tl, { scope: "openid offline_access" });
    expect(first.refresh_token).toMatch(/^[\w-]{43}$/);
    const params = { grant_type: "refresh_token", client_id: "textlock-dev", refresh_token: first.refresh_token };
    const second = await tl.api.token(params, { issuer: ISSUER });
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.id_token).toBeDefined();
    // Of two concurrent refreshes with the same token, exactly one wins.
    const racing = { ...params, refresh_token: second.refresh_token };
    const settled = await Promise.allSettled([
      tl.api.token(racing, { issuer: ISSUER }),
      tl.api.token(racing, { issuer: ISSUER }),
    ]);
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(1);
  });

  it.each(["memory", "sqlite"] as const)(
    "a refreshed id_token keeps the login's auth_time, however late the refresh (%s)",
    async (users) => {
      let now = Date.UTC(2026, 0, 1, 12);
      const tl = await createTestTextlock({ users: { type: users } }, { clock: () => now });
      open.push(tl);
      const first = await login(tl, { scope: "openid offline_access" });
      const loggedIn = decodeJwt(first.id_token!);
      expect(loggedIn.auth_time).toBe(now / 1000);
      now += 3_600_000;
      const params = { grant_type: "refresh_token", client_id: "textlock-dev" };
      const second = await tl.api.token({ ...params, refresh_token: first.refresh_token }, { issuer: ISSUER });
      now += 3_600_000;
      const third = await tl.api.token({ ...params, refresh_token: second.refresh_token }, { issuer: ISSUER });
      for (const res of [second, third]) {
        const claims = decodeJwt(res.id_token!);
        expect(claims.iat).toBeGreaterThan(loggedIn.iat!);
        expect(claims.auth_time).toBe(loggedIn.auth_time);
      }
    },
  );

  it("adds hook claims to the tokens but drops the restricted ones", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
    const result = await tl.api.verify({
      client_id: "textlock-dev",
      realm: "sms",
      username: PHONE,
      otp: tl.lastCode(PHONE),
      scope: "openid",
      audience: "https://api.example.test",
    });
    result.claims = {
      idToken: {
        "https://example.test/role": "admin",
        sub: "evil",
        iss: "https://evil.test/",
        aud: "evil",
        auth_time: 1,
      },
      accessToken: { "https://example.test/plan": "pro", scope: "admin", exp: 9_999_999_999 },
    };
    // The token service itself (not public): hook claims are applied there.
    const res = await containerOf(tl).resolve(TOKENS).issueForLogin(result, { issuer: ISSUER });
    const jwks = createLocalJWKSet(tl.keys.jwks());
    const { payload: id } = await jwtVerify(res.id_token!, jwks, { issuer: ISSUER, audience: "textlock-dev" });
    expect(id).toMatchObject({ "https://example.test/role": "admin", sub: result.user.user_id });
    expect(id.auth_time).not.toBe(1);
    const { payload: access } = await jwtVerify(res.access_token, jwks, { issuer: ISSUER });
    expect(access).toMatchObject({ "https://example.test/plan": "pro", scope: "openid" });
    expect(access.exp! - access.iat!).toBe(86400);
  });

  it("/userinfo accepts the access token issued without an audience and refuses it once expired", async () => {
    let now = Date.now();
    const tl = await createTestTextlock({}, { clock: () => now });
    open.push(tl);
    const res = await login(tl, { scope: "openid phone" });
    const info = await tl.api.userinfo(res.access_token, { issuer: ISSUER });
    expect(info).toMatchObject({
      sub: expect.stringMatching(/^sms\|/),
      phone_number: PHONE,
      phone_number_verified: true,
    });
    expect(info.name).toBeUndefined();
    now += 86_401_000;
    const expired = await tl.api.userinfo(res.access_token, { issuer: ISSUER }).catch((e) => toWireError(e));
    expect(expired).toMatchObject({ status: 401, body: { error: "invalid_token" } });
  });

  it("refuses unknown and missing grant types the Auth0 way", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const wire = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e) => toWireError(e),
      );
    expect(
      await wire(tl.api.token({ grant_type: "password", client_id: "textlock-dev" }, { issuer: ISSUER })),
    ).toMatchObject({
      status: 400,
      body: { error: "unsupported_grant_type", error_description: "Grant type not supported" },
    });
    expect(await wire(tl.api.token({ client_id: "textlock-dev" }, { issuer: ISSUER }))).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "Missing required parameter: grant_type" },
    });
  });
});

describe("signing keys", () => {
  const make = (dataDir: string, tokens: Record<string, unknown> = {}) =>
    createTextlock(
      { secret: TEST_SECRET, dataDir, store: { type: "memory" }, users: { type: "memory" }, tokens },
      { logger: pino({ level: "silent" }) },
    );

  it("persist in the data folder, and instances starting together agree on one key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-keys-"));
    const [a, b] = await Promise.all([make(dataDir), make(dataDir)]);
    const c = await make(dataDir);
    open.push(a, b, c);
    const kid = a.keys.jwks().keys[0]!.kid;
    expect(b.keys.jwks().keys.map((k) => k.kid)).toEqual([kid]);
    expect(c.keys.jwks().keys.map((k) => k.kid)).toEqual([kid]);
  });

  it("rotation signs with the new key and keeps the old one published", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-keys-"));
    const tl: Textlock = await make(dataDir, { keepKeys: 2 });
    open.push(tl);
    const old = tl.keys.jwks().keys[0]!.kid;
    const { kid } = await tl.keys.rotate();
    expect(tl.keys.jwks().keys.map((k) => k.kid)).toEqual([kid, old]);
    expect(statSync(join(dataDir, "keys.json")).mode & 0o777).toBe(0o600);
    await tl.keys.rotate();
    expect(tl.keys.jwks().keys).toHaveLength(2);
    const reopened = await make(dataDir);
    open.push(reopened);
    expect(reopened.keys.jwks()).toEqual(tl.keys.jwks());
  });

  it("a token signed before a rotation still verifies against the new JWKS", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const before = await login(tl, { scope: "openid" });
    const { kid } = await tl.keys.rotate();
    const after = await login(tl, { scope: "openid" });
    expect(decodeProtectedHeader(after.id_token!).kid).toBe(kid);
    expect(decodeProtectedHeader(before.id_token!).kid).not.toBe(kid);
    const jwks = createLocalJWKSet(tl.keys.jwks());
    await expect(jwtVerify(before.id_token!, jwks, { issuer: ISSUER })).resolves.toBeTruthy();
    await expect(tl.api.userinfo(before.access_token, { issuer: ISSUER })).resolves.toMatchObject({
      sub: expect.any(String),
    });
  });

  it.each(["ES256", "EdDSA"] as const)("can sign with %s", async (algorithm) => {
    const tl = await createTestTextlock({ tokens: { algorithm } });
    open.push(tl);
    const res = await login(tl, { scope: "openid" });
    expect(decodeProtectedHeader(res.id_token!).alg).toBe(algorithm);
    await expect(jwtVerify(res.id_token!, createLocalJWKSet(tl.keys.jwks()))).resolves.toBeTruthy();
  });

  it("are sealed with the server secret in keys.json: no PEM, no JWK private members", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-keys-"));
    const tl = await make(dataDir);
    open.push(tl);
    await tl.keys.rotate();
    const text = readFileSync(join(dataDir, "keys.json"), "utf8");
    expect(text).not.toContain("PRIVATE KEY");
    for (const key of JSON.parse(text).keys) {
      expect(key.pkcs8).toBeUndefined();
      expect(key.publicJwk.d).toBeUndefined();
      expect(() => JSON.parse(Buffer.from(key.sealed, "base64url").toString("utf8"))).toThrow();
      expect(Buffer.from(key.sealed, "base64url").toString("latin1")).not.toContain("PRIVATE KEY");
    }
    // Another secret cannot open them.
    await expect(
      createTextlock(
        {
          secret: "another-secret-that-is-long-enough-000000",
          dataDir,
          store: { type: "memory" },
          users: { type: "memory" },
        },
        { logger: pino({ level: "silent" }) },
      ),
    ).rejects.toThrow(/does not open/);
  });

  it("retire removes a key from the JWKS and its tokens stop verifying; the signing key is refused", async () => {
    const tl = await createTestTextlock();
    open.push(tl);
    const before = await login(tl, { scope: "openid", audience: "https://api.example.test" });
    const old = decodeProtectedHeader(before.access_token).kid!;
    await expect(tl.keys.retire(old)).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    const { kid } = await tl.keys.rotate();
    await expect(tl.keys.retire(kid)).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await tl.keys.retire(old);
    expect(tl.keys.jwks().keys.map((k) => k.kid)).toEqual([kid]);
    await expect(tl.api.userinfo(before.access_token, { issuer: ISSUER })).rejects.toMatchObject({
      code: "ERR_INVALID_TOKEN",
    });
  });

  it("supplied in configuration (PEM and JWK): the first signs, both are published, nothing is written", async () => {
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const ec = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(rsa.privateKey);
    const jwk = { ...(await exportJWK(ec.privateKey)), kid: "ec-from-vault" };
    const tl = await createTestTextlock({
      tokens: {
        keys: [
          { kid: "rsa-from-vault", alg: "RS256", privateKey: pem },
          { alg: "ES256", privateKey: jwk },
        ],
      },
    });
    open.push(tl);
    const published = tl.keys.jwks().keys;
    expect(published.map((k) => k.kid)).toEqual(["rsa-from-vault", "ec-from-vault"]);
    for (const k of published) expect(k).not.toHaveProperty("d");
    expect(published[1]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    const res = await login(tl, { scope: "openid" });
    expect(decodeProtectedHeader(res.id_token!)).toMatchObject({ kid: "rsa-from-vault", alg: "RS256" });
    await expect(jwtVerify(res.id_token!, createLocalJWKSet(tl.keys.jwks()))).resolves.toBeTruthy();
    expect(existsSync(join(tl.dataDir, "keys.json"))).toBe(false);
    await expect(tl.keys.rotate()).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });

    // A JWK first: it signs.
    const second = await createTestTextlock({ tokens: { keys: [{ alg: "ES256", privateKey: jwk }] } });
    open.push(second);
    const r2 = await login(second, { scope: "openid" });
    expect(decodeProtectedHeader(r2.id_token!)).toMatchObject({ kid: "ec-from-vault", alg: "ES256" });
    await expect(jwtVerify(r2.id_token!, createLocalJWKSet(second.keys.jwks()))).resolves.toBeTruthy();
    expect(existsSync(join(second.dataDir, "keys.json"))).toBe(false);
  });
});
