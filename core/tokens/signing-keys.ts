import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
} from "jose";
import { SealedBox } from "../crypto/sealed-box.js";
import { TextlockError } from "../errors/textlock-error.js";

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

/** A key as stored: the private key sealed with the server secret (AES-256-GCM), never in the clear. */
export interface SealedKey {
  kid: string;
  alg: SigningAlgorithm;
  /** base64url(iv ‖ tag ‖ ciphertext of the PKCS#8 PEM), the `kid` as additional data. */
  sealed: string;
  publicJwk: JWK;
  createdAt: string;
}

/** Where shared keys live: a file (`keys.json`) or the PostgreSQL database. Newest first. */
export interface KeyBackend {
  list(): Promise<SealedKey[]>;
  /** Stores `key` unless some key exists already; returns the keys after. */
  createIfEmpty(key: SealedKey): Promise<SealedKey[]>;
  /** Adds `key` and keeps the newest `keep` keys. */
  add(key: SealedKey, keep: number): Promise<void>;
  /** Deletes a key; false when there was none. */
  remove(kid: string): Promise<boolean>;
  close?(): Promise<void>;
}

/** A key given in configuration (`tokens.keys`). */
export interface ConfiguredKey {
  kid?: string | undefined;
  alg: SigningAlgorithm;
  privateKey: string | JWK;
}

export interface SigningKeysOptions {
  /** How often the key set is read again (ms); 0 never. */
  reloadMs?: number;
  /** Least time between two reloads caused by tokens with an unknown `kid` (ms). */
  unknownKidReloadMs?: number;
}

/**
 * The signing keys of an instance: the first key signs, the others stay published in the JWKS so
 * tokens signed before a rotation verify until their key is retired. Keys come from configuration
 * (fixed) or from a shared backend (a file, or PostgreSQL), where every process reads them again every
 * `reloadMs` and when it meets a token whose `kid` it does not know, so a rotation or retirement made
 * by one process reaches all of them without a restart.
 */
export class SigningKeys {
  private keys: SigningKey[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastUnknownKidReload = 0;
  private reloading: Promise<void> | undefined;

  private constructor(
    private readonly backend: KeyBackend | undefined,
    private readonly box: SealedBox | undefined,
    private readonly keep: number,
    private readonly options: SigningKeysOptions,
  ) {}

  /** Keys in `<dataDir>/keys.json` (mode 0600), private keys sealed with `secret`. */
  static async open(
    dataDir: string,
    alg: SigningAlgorithm,
    keep: number,
    secret?: Buffer,
    options: SigningKeysOptions = {},
  ): Promise<SigningKeys> {
    return SigningKeys.fromBackend(new FileKeyBackend(join(dataDir, "keys.json")), alg, keep, secret, options);
  }

  /** Keys in a shared backend; one is generated when there is none. */
  static async fromBackend(
    backend: KeyBackend,
    alg: SigningAlgorithm,
    keep: number,
    secret: Buffer | undefined,
    options: SigningKeysOptions = {},
  ): Promise<SigningKeys> {
    // Private keys at rest: AES-256-GCM under a key derived from the server secret.
    const box = secret ? new SealedBox(secret, "textlock signing keys v1") : undefined;
    const keys = new SigningKeys(backend, box, keep, options);
    let stored = await backend.list();
    if (!stored.length) stored = await backend.createIfEmpty(await keys.createKey(alg));
    keys.keys = await Promise.all(stored.map((s) => keys.unseal(s)));
    if (options.reloadMs) {
      keys.timer = setInterval(() => void keys.reload().catch(() => {}), options.reloadMs);
      keys.timer.unref();
    }
    return keys;
  }

  /** Keys given in configuration: the first signs; nothing is generated or written. */
  static async fromConfig(configured: readonly ConfiguredKey[]): Promise<SigningKeys> {
    const keys = new SigningKeys(undefined, undefined, configured.length, {});
    keys.keys = await Promise.all(configured.map(importConfiguredKey));
    return keys;
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

  /** Reads the shared key set again. */
  async reload(): Promise<void> {
    if (!this.backend) return;
    this.reloading ??= (async () => {
      try {
        const stored = await this.backend!.list();
        if (stored.length) this.keys = await Promise.all(stored.map((s) => this.unseal(s)));
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** A token names a `kid` this process does not know: reload, at most once per `unknownKidReloadMs`. */
  async reloadForUnknownKid(kid: string | undefined): Promise<boolean> {
    if (!this.backend || (kid && this.find(kid))) return false;
    if (Date.now() - this.lastUnknownKidReload < (this.options.unknownKidReloadMs ?? 5_000)) return false;
    this.lastUnknownKidReload = Date.now();
    await this.reload();
    return !!kid && !!this.find(kid);
  }

  /**
   * A reload that reads the backend after this call: one already in flight (the periodic one) may have
   * listed the keys before a write this process just made, so it is waited for and not shared.
   */
  private async reloadAfterWrite(): Promise<void> {
    await this.reloading?.catch(() => undefined);
    await this.reload();
  }

  /** Makes a new signing key; the previous ones stay published (up to `keep` in all). */
  async rotate(alg: SigningAlgorithm = this.current.alg): Promise<SigningKey> {
    const backend = this.writable();
    await backend.add(await this.createKey(alg), Math.max(1, this.keep));
    await this.reloadAfterWrite();
    return this.current;
  }

  /** Removes a key from the JWKS: tokens it signed stop verifying. The signing key cannot be retired. */
  async retire(kid: string): Promise<void> {
    const backend = this.writable();
    await this.reload();
    if (this.current.kid === kid) {
      throw new TextlockError("ERR_INVALID_REQUEST", {
        description: `Key ${kid} signs new tokens: rotate first, then retire it.`,
      });
    }
    if (!(await backend.remove(kid))) {
      throw new TextlockError("ERR_INVALID_REQUEST", { description: `No signing key ${kid}.` });
    }
    await this.reloadAfterWrite();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.backend?.close?.();
  }

  private writable(): KeyBackend {
    if (!this.backend) {
      throw new TextlockError("ERR_INVALID_REQUEST", {
        description: "Signing keys come from configuration (tokens.keys): change them there.",
      });
    }
    return this.backend;
  }

  private async createKey(alg: SigningAlgorithm): Promise<SealedKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}),
    });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return {
      kid,
      alg,
      sealed: this.seal(kid, await exportPKCS8(privateKey)),
      publicJwk: { ...jwk, kid, alg, use: "sig" },
      createdAt: new Date().toISOString(),
    };
  }

  private seal(kid: string, pem: string): string {
    if (!this.box) throw new Error("signing keys need the server secret to be stored");
    return this.box.seal(pem, kid).toString("base64url");
  }

  private async unseal(stored: SealedKey & { pkcs8?: string }): Promise<SigningKey> {
    // keys.json written before keys were sealed holds the PEM itself.
    let pem = stored.pkcs8;
    if (!pem) {
      if (!this.box) throw new Error("signing keys need the server secret to be read");
      pem = this.box.open(Buffer.from(stored.sealed, "base64url"), stored.kid)?.toString("utf8");
      if (pem === undefined) throw new Error(`signing key ${stored.kid} does not open with this server secret`);
    }
    return {
      kid: stored.kid,
      alg: stored.alg,
      privateKey: await importPKCS8(pem, stored.alg),
      publicJwk: stored.publicJwk,
      createdAt: stored.createdAt,
    };
  }
}

async function importConfiguredKey(c: ConfiguredKey): Promise<SigningKey> {
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  if (typeof c.privateKey === "string") {
    privateKey = (await importPKCS8(c.privateKey, c.alg, { extractable: true })) as CryptoKey;
    publicJwk = await exportJWK(privateKey);
  } else {
    privateKey = (await importJWK({ ...c.privateKey, ext: true }, c.alg)) as CryptoKey;
    publicJwk = { ...c.privateKey };
  }
  // The public half: drop every private member.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = publicJwk;
  const members = Object.fromEntries(
    Object.entries(pub).filter(([k]) => ["kty", "crv", "x", "y", "n", "e"].includes(k)),
  ) as JWK;
  const kid = c.kid ?? (typeof pub.kid === "string" ? pub.kid : await calculateJwkThumbprint(members));
  return {
    kid,
    alg: c.alg,
    privateKey,
    publicJwk: { ...members, kid, alg: c.alg, use: "sig" },
    createdAt: new Date(0).toISOString(),
  };
}

interface KeyFile {
  keys: SealedKey[];
}

/** `keys.json` (mode 0600), written by rename (never half a file), created with an exclusive flag. */
class FileKeyBackend implements KeyBackend {
  constructor(private readonly file: string) {}

  async list(): Promise<SealedKey[]> {
    return (await readKeyFile(this.file))?.keys ?? [];
  }

  async createIfEmpty(key: SealedKey): Promise<SealedKey[]> {
    await mkdir(join(this.file, ".."), { recursive: true });
    try {
      await writeFile(this.file, JSON.stringify({ keys: [key] }, null, 2), { mode: 0o600, flag: "wx" });
      return [key];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return (await waitForKeyFile(this.file)).keys;
    }
  }

  async add(key: SealedKey, keep: number): Promise<void> {
    await this.write([key, ...(await this.list())].slice(0, keep));
  }

  async remove(kid: string): Promise<boolean> {
    const keys = await this.list();
    const rest = keys.filter((k) => k.kid !== kid);
    if (rest.length === keys.length) return false;
    await this.write(rest);
    return true;
  }

  private async write(keys: SealedKey[]): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
    await rename(tmp, this.file);
  }
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
