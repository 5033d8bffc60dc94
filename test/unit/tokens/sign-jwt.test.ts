import { createHook } from "node:async_hooks";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  jwtVerify,
} from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { resolveSigningThread, signJwt } from "../../../core/tokens/sign-jwt.js";
import type { SigningAlgorithm, SigningKey } from "../../../core/tokens/signing-keys.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

/** A key as textlock loads a stored one: the PKCS#8 PEM imported without `extractable`. */
async function key(alg: SigningAlgorithm, kid = `k-${alg}`): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const privateKey = await importPKCS8(await exportPKCS8(pair.privateKey), alg);
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk, createdAt: new Date().toISOString() };
}

const payload = () => ({
  nonce: "n-1",
  phone_number: "+14155550100",
  "https://example.com/roles": ["a", "b"],
  iss: "https://auth.example.test/",
  sub: "sms|0123456789abcdef01234567",
  aud: ["api", "https://auth.example.test/userinfo"],
  iat: 1_764_633_600,
  exp: 1_764_720_000,
});

describe("signJwt", () => {
  it.each(["RS256", "EdDSA"] as const)(
    "signs %s on the event loop into the very token jose signs through WebCrypto (deterministic signatures)",
    async (alg) => {
      const k = await key(alg);
      const onLoop = await signJwt(payload(), k, "event-loop");
      const onPool = await signJwt(payload(), k, "thread-pool");
      expect(onLoop).toBe(onPool);
      expect(decodeProtectedHeader(onLoop)).toEqual({ alg, kid: k.kid, typ: "JWT" });
    },
  );

  it.each(["RS256", "ES256", "EdDSA"] as const)(
    "signs %s on the event loop into a token jose verifies against the JWKS",
    async (alg) => {
      const k = await key(alg);
      const token = await signJwt(payload(), k, "event-loop");
      const { payload: verified, protectedHeader } = await jwtVerify(
        token,
        createLocalJWKSet({ keys: [k.publicJwk] }),
        { issuer: "https://auth.example.test/", audience: "api", currentDate: new Date(1_764_640_000_000) },
      );
      expect(verified).toEqual(payload());
      expect(protectedHeader).toEqual({ alg, kid: k.kid, typ: "JWT" });
      // ES256's signature is the 64-byte r ‖ s of JWS, not DER (which jose would refuse).
      if (alg === "ES256") expect(Buffer.from(token.split(".")[2]!, "base64url")).toHaveLength(64);
    },
  );
});

describe("resolveSigningThread", () => {
  it("signs on the event loop when the process may use one CPU only, on the thread pool otherwise", () => {
    expect(resolveSigningThread("auto", 1)).toBe("event-loop");
    expect(resolveSigningThread("auto", 2)).toBe("thread-pool");
    expect(resolveSigningThread("auto", 64)).toBe("thread-pool");
    expect(resolveSigningThread("thread-pool", 1)).toBe("thread-pool");
    expect(resolveSigningThread("event-loop", 8)).toBe("event-loop");
  });
});

describe("tokens.signing", () => {
  const open: TestTextlock[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it.each(["event-loop", "thread-pool"] as const)(
    "issues a login's id_token and API access token that verify against the JWKS when signing on the %s",
    async (signing) => {
      const tl = await createTestTextlock({ tokens: { signing } });
      open.push(tl);
      const phone = "+14155550123";
      await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone });
      // A signature is a SIGNREQUEST job; one run on the thread pool calls back into JavaScript when it is
      // done (a synchronous one never does).
      const signJobs = new Set<number>();
      let jobs = 0;
      const hook = createHook({
        init: (id, type) => void (type === "SIGNREQUEST" && signJobs.add(id)),
        before: (id) => void (signJobs.has(id) && jobs++),
      }).enable();
      const res = await tl.api.token(
        {
          grant_type: "http://auth0.com/oauth/grant-type/passwordless/otp",
          client_id: "textlock-dev",
          username: phone,
          otp: tl.lastCode(phone),
          realm: "sms",
          scope: "openid phone",
          audience: "https://api.example.test/",
        },
        { issuer: "https://auth.example.test/" },
      );
      hook.disable();
      // Two signatures: the id_token and the API access token.
      expect(jobs).toBe(signing === "thread-pool" ? 2 : 0);
      const jwks = createLocalJWKSet(tl.keys.jwks());
      const id = await jwtVerify(res.id_token!, jwks, {
        issuer: "https://auth.example.test/",
        audience: "textlock-dev",
      });
      expect(id.payload).toMatchObject({ phone_number: phone, sub: expect.stringMatching(/^sms\|/) });
      const access = await jwtVerify(res.access_token, jwks, { audience: "https://api.example.test/" });
      expect(access.payload).toMatchObject({ sub: id.payload.sub, scope: "openid phone", azp: "textlock-dev" });
    },
  );
});
