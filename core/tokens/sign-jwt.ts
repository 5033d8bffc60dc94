import { KeyObject, sign } from "node:crypto";
import { availableParallelism } from "node:os";
import { type CryptoKey, type JWTPayload, SignJWT } from "jose";
import type { SigningAlgorithm, SigningKey } from "./signing-keys.js";

/** Where a token's signature is computed (`tokens.signing`). */
export type SigningThread = "event-loop" | "thread-pool";

/**
 * `auto`: on the event loop when this process can run on one CPU only (`os.availableParallelism()`,
 * which counts the CPUs it may use: a one-CPU container, a process pinned with `taskset`), else on
 * libuv's thread pool.
 *
 * Signing through WebCrypto (jose) hands the signature to a thread-pool thread and back: with more than
 * one CPU that thread signs while the event loop serves other requests. With one CPU it cannot: the
 * thread takes the same core, and the hand-off (a queued job, futex wake-ups, a context switch each way,
 * the completion's event) is pure cost: on the bench's pinned core, signing on the event loop made a
 * returning login 6–12% cheaper (docs/performance.md).
 */
export function resolveSigningThread(setting: SigningThread | "auto", cpus = availableParallelism()): SigningThread {
  if (setting !== "auto") return setting;
  return cpus <= 1 ? "event-loop" : "thread-pool";
}

/** `{ alg, kid, typ: "JWT" }`, the protected header of every token textlock signs. */
function header(key: SigningKey) {
  return { alg: key.alg, kid: key.kid, typ: "JWT" };
}

/**
 * A compact JWS of `payload` (a JWT) signed by `key`. On the thread pool jose signs it through WebCrypto;
 * on the event loop node:crypto signs the same bytes synchronously: RS256 (RSASSA-PKCS1-v1_5, SHA-256)
 * and EdDSA (Ed25519) signatures are deterministic, so both give the same token; ES256 signs with
 * SHA-256 and the raw `r ‖ s` encoding JWS requires (RFC 7518 §3.4), not DER.
 */
export function signJwt(payload: JWTPayload, key: SigningKey, on: SigningThread): Promise<string> {
  if (on === "thread-pool") return new SignJWT(payload).setProtectedHeader(header(key)).sign(key.privateKey);
  try {
    return Promise.resolve(signNow(payload, key));
  } catch (err) {
    return Promise.reject(err);
  }
}

const SIGN: Record<SigningAlgorithm, (data: Buffer, key: KeyObject) => Buffer> = {
  RS256: (data, key) => sign("sha256", data, key),
  ES256: (data, key) => sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }),
  EdDSA: (data, key) => sign(null, data, key),
};

/** Per signing key: its node:crypto form and its encoded protected header. */
const prepared = new WeakMap<CryptoKey, { keyObject: KeyObject; encodedHeader: string }>();

function signNow(payload: JWTPayload, key: SigningKey): string {
  let ready = prepared.get(key.privateKey);
  if (!ready) {
    ready = {
      keyObject: KeyObject.from(key.privateKey),
      encodedHeader: Buffer.from(JSON.stringify(header(key))).toString("base64url"),
    };
    prepared.set(key.privateKey, ready);
  }
  const input = `${ready.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return `${input}.${SIGN[key.alg](Buffer.from(input), ready.keyObject).toString("base64url")}`;
}
