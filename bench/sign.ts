// Signatures per second for one algorithm, in its own process: prints one JSON line.
// Signed the cheapest way there is on one core: node:crypto, synchronously (textlock's `signJwt` on the
// event loop, what `tokens.signing: auto` picks for a process pinned to one core). Through WebCrypto
// (jose's way) each signature is also handed to a thread-pool thread and back, which on one core is
// extra work, not part of the floor; that rate is printed beside it as `webCryptoPerSecond`.
import { generateKeyPair } from "jose";
import { signJwt } from "../core/tokens/sign-jwt.js";
import type { SigningKey } from "../core/tokens/signing-keys.js";

const alg = (process.argv[2] ?? "RS256") as "RS256" | "ES256" | "EdDSA";
const seconds = Number(process.argv[3] ?? 2);
const { privateKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
const key: SigningKey = { kid: "k", alg, privateKey, publicJwk: {}, createdAt: "" };
const claims = () => {
  const iat = Math.floor(Date.now() / 1000);
  return {
    sub: "sms|0123456789abcdef01234567",
    aud: "textlock-dev",
    iss: "https://127.0.0.1/",
    phone_number: "+14155550100",
    iat,
    exp: iat + 36_000,
  };
};

/** Signatures per second over `seconds`, one at a time, after 50 to warm up. */
async function rate(sign: () => Promise<string>): Promise<number> {
  for (let i = 0; i < 50; i++) await sign();
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await sign();
    n++;
  }
  return n / seconds;
}

const perSecond = await rate(() => signJwt(claims(), key, "event-loop"));
const webCryptoPerSecond = await rate(() => signJwt(claims(), key, "thread-pool"));
console.log(JSON.stringify({ alg, perSecond, webCryptoPerSecond }));
