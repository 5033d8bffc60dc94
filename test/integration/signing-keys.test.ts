import { decodeProtectedHeader } from "jose";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const postgresUrl = inject("postgresUrl");
const PHONE = "+14155557011";
const ISSUER = "https://auth.example.test/";

async function login(tl: TestTextlock) {
  await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: PHONE });
  return tl.api.login(
    // An API audience: the access token is then a JWT (that also names /userinfo) signed by the current key.
    {
      client_id: "textlock-dev",
      phone_number: PHONE,
      code: tl.lastCode(PHONE),
      scope: "openid",
      audience: "https://api.example.test",
    },
    { issuer: ISSUER },
  );
}
const kids = (tl: TestTextlock) => tl.keys.jwks().keys.map((k) => k.kid);

// Two processes on one PostgreSQL share one key set: a rotation or retirement made through one is
// picked up by the other within `tokens.keyReloadSeconds`, without a restart.
describe.skipIf(!postgresUrl)("signing keys shared through PostgreSQL", () => {
  let url: string;
  let admin: pg.Client;
  const db = `textlock_keys_${process.pid}_${Date.now()}`;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: postgresUrl! });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    const u = new URL(postgresUrl!);
    u.pathname = `/${db}`;
    url = u.toString();
  });
  afterAll(async () => {
    await admin?.end();
  });

  it("rotate through A → B signs with the new kid; retire removes the kid everywhere; keys are sealed at rest", async () => {
    const shared = { issuer: ISSUER, users: { type: "postgres" as const, url }, tokens: { keyReloadSeconds: 0.2 } };
    const [a, b, c] = await Promise.all([
      createTestTextlock(shared),
      createTestTextlock(shared),
      // Reloads only every hour: it learns a new key from the first token that names it.
      createTestTextlock({ ...shared, tokens: { keyReloadSeconds: 3_600 } }),
    ]);
    try {
      const [k0] = kids(a);
      expect(kids(b)).toEqual([k0]);
      const before = await login(b);
      expect(decodeProtectedHeader(before.access_token).kid).toBe(k0);

      const rotatedAt = Date.now();
      const { kid: k1 } = await a.keys.rotate();
      expect(k1).not.toBe(k0);
      await expect.poll(() => kids(b)[0], { timeout: 2_000, interval: 20 }).toBe(k1);
      // Within the bound (0.2 s reload; generous for a loaded machine), with no restart.
      expect(Date.now() - rotatedAt).toBeLessThan(1_500);
      const after = await login(b);
      expect(decodeProtectedHeader(after.id_token!).kid).toBe(k1);
      expect(kids(b)).toEqual([k1, k0]);
      expect(kids(c)).toEqual([k0]);
      await expect(c.api.userinfo(after.access_token, { issuer: ISSUER })).resolves.toBeTruthy();
      expect(kids(c)).toEqual([k1, k0]);
      // The token signed before the rotation verifies on both until its key is retired.
      for (const tl of [a, b]) {
        await expect(tl.api.userinfo(before.access_token, { issuer: ISSUER })).resolves.toMatchObject({
          sub: expect.any(String),
        });
        await expect(tl.api.userinfo(after.access_token, { issuer: ISSUER })).resolves.toBeTruthy();
      }

      // The signing key cannot be retired, from either process.
      await expect(b.keys.retire(k1)).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
      await a.keys.retire(k0!);
      expect(kids(a)).toEqual([k1]);
      await expect.poll(() => kids(b), { timeout: 2_000, interval: 20 }).toEqual([k1]);
      for (const tl of [a, b]) {
        await expect(tl.api.userinfo(before.access_token, { issuer: ISSUER })).rejects.toMatchObject({
          code: "ERR_INVALID_TOKEN",
        });
        await expect(tl.api.userinfo(after.access_token, { issuer: ISSUER })).resolves.toBeTruthy();
      }
      // Over HTTP too: both JWKS lack the kid, and /userinfo refuses its token.
      for (const tl of [a, b]) {
        const served = await serve("standalone", tl);
        try {
          const jwks = (await (await fetch(`${served.url}/.well-known/jwks.json`)).json()) as {
            keys: { kid: string }[];
          };
          expect(jwks.keys.map((k) => k.kid)).toEqual([k1]);
          const userinfo = (token: string) =>
            fetch(`${served.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
          expect((await userinfo(before.access_token)).status).toBe(401);
          expect((await userinfo(after.access_token)).status).toBe(200);
        } finally {
          await served.close();
        }
      }

      // At rest: sealed, not the PEM nor JSON key material.
      const rest = new pg.Client({ connectionString: url });
      await rest.connect();
      try {
        const { rows } = await rest.query<{ kid: string; sealed: string; row: string }>(
          "SELECT kid, sealed, t::text AS row FROM textlock_signing_keys t",
        );
        expect(rows.map((r) => r.kid)).toEqual([k1]);
        for (const r of rows) {
          expect(r.row).not.toContain("PRIVATE KEY");
          expect(r.row).not.toMatch(/"d"\s*:/);
          const raw = Buffer.from(r.sealed, "base64url");
          expect(raw.toString("latin1")).not.toContain("PRIVATE KEY");
          expect(() => JSON.parse(r.sealed)).toThrow();
          expect(() => JSON.parse(raw.toString("utf8"))).toThrow();
        }
      } finally {
        await rest.end();
      }
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
