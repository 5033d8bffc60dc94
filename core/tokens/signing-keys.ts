import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  type JWK,
} from "jose";

export type SigningAlgorithm = "RS256" | "ES256" | "EdDSA";

/** A key pair that signs tokens. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  /** The public JWK as published in `/.well-known/jwks.json`. */
  publicJwk: JWK;
  createdAt: string;
}

interface StoredKey {
  kid: string;
  alg: SigningAlgorithm;
  pkcs8: string;
  publicJwk: JWK;
  createdAt: string;
}

interface KeyFile {
  keys: StoredKey[];
}

/**
 * Signing keys kept in `<dataDir>/keys.json` (mode 0600): generated once, the first key signs, the
 * others stay published in the JWKS so tokens signed before a rotation still verify. Written by
 * rename (never half a file), and created with an exclusive flag so processes starting together on
 * one data folder agree on one key.
 */
export class SigningKeys {
  private constructor(
    private readonly file: string,
    private keys: SigningKey[],
    private readonly keep: number,
  ) {}

  static async open(dataDir: string, alg: SigningAlgorithm, keep: number): Promise<SigningKeys> {
    const file = join(dataDir, "keys.json");
    let stored = await readKeyFile(file);
    if (!stored) {
      await mkdir(dataDir, { recursive: true });
      const first = await createKey(alg);
      try {
        await writeFile(file, JSON.stringify({ keys: [first] }, null, 2), { mode: 0o600, flag: "wx" });
        stored = { keys: [first] };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        stored = await waitForKeyFile(file);
      }
    }
    return new SigningKeys(file, await Promise.all(stored.keys.map(loadKey)), keep);
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return this.keys[0]!;
  }

  /** Every published key, by `kid`. */
  find(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** Makes a new signing key; the previous ones stay published (up to `keep` in all). */
  async rotate(alg: SigningAlgorithm = this.current.alg): Promise<SigningKey> {
    const fresh = await createKey(alg);
    const current = (await readKeyFile(this.file)) ?? { keys: [] };
    const next: KeyFile = { keys: [fresh, ...current.keys].slice(0, Math.max(1, this.keep)) };
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify(next, null, 2), { mode: 0o600 });
    await rename(tmp, this.file);
    this.keys = await Promise.all(next.keys.map(loadKey));
    return this.current;
  }
}

async function createKey(alg: SigningAlgorithm): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}),
  });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    alg,
    pkcs8: await exportPKCS8(privateKey),
    publicJwk: { ...jwk, kid, alg, use: "sig" },
    createdAt: new Date().toISOString(),
  };
}

async function loadKey(stored: StoredKey): Promise<SigningKey> {
  return {
    kid: stored.kid,
    alg: stored.alg,
    privateKey: await importPKCS8(stored.pkcs8, stored.alg),
    publicJwk: stored.publicJwk,
    createdAt: stored.createdAt,
  };
}

async function readKeyFile(file: string): Promise<KeyFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as KeyFile;
    return parsed.keys?.length ? parsed : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Another process created the file a moment ago: wait until its content is complete. */
async function waitForKeyFile(file: string): Promise<KeyFile> {
  for (let i = 0; i < 100; i++) {
    const stored = await readKeyFile(file);
    if (stored) return stored;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`signing key file ${file} stayed empty`);
}
