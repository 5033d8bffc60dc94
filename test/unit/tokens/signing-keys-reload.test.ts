import { describe, expect, it } from "vitest";
import { type KeyBackend, type SealedKey, SigningKeys } from "../../../core/tokens/signing-keys.js";

/** Keys in memory, newest first; `list()` can be held after it has read them (a slow database). */
class HeldBackend implements KeyBackend {
  keys: SealedKey[] = [];
  hold: Promise<void> | undefined;
  async list() {
    const read = [...this.keys];
    await this.hold;
    return read;
  }
  async createIfEmpty(key: SealedKey) {
    if (!this.keys.length) this.keys.push(key);
    return [...this.keys];
  }
  async add(key: SealedKey, keep: number) {
    this.keys = [key, ...this.keys].slice(0, keep);
  }
  async remove(kid: string) {
    const before = this.keys.length;
    this.keys = this.keys.filter((k) => k.kid !== kid);
    return this.keys.length < before;
  }
}

describe("SigningKeys reloads after its own writes", () => {
  it("rotate signs with the new key though a periodic reload read the keys before it was added", async () => {
    const backend = new HeldBackend();
    const keys = await SigningKeys.fromBackend(backend, "EdDSA", 3, Buffer.alloc(32, 7));
    const k0 = keys.current.kid;
    let release!: () => void;
    backend.hold = new Promise((r) => (release = r));
    // The periodic reload has read [k0] and waits on the database when the rotation begins.
    const periodic = keys.reload();
    const rotating = keys.rotate();
    await new Promise((r) => setTimeout(r, 50));
    backend.hold = undefined;
    release();
    const k1 = (await rotating).kid;
    await periodic;
    expect(k1).not.toBe(k0);
    expect(keys.current.kid).toBe(k1);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([k1, k0]);
  });

  it("retire drops the key with a periodic reload in flight", async () => {
    const backend = new HeldBackend();
    const keys = await SigningKeys.fromBackend(backend, "EdDSA", 3, Buffer.alloc(32, 7));
    const k0 = keys.current.kid;
    const k1 = (await keys.rotate()).kid;
    let release!: () => void;
    backend.hold = new Promise((r) => (release = r));
    const periodic = keys.reload();
    const retiring = keys.retire(k0);
    await new Promise((r) => setTimeout(r, 50));
    backend.hold = undefined;
    release();
    await retiring;
    await periodic;
    expect(keys.find(k0)).toBeUndefined();
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([k1]);
  });
});
