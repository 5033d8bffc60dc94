import { TextlockError } from "../errors/textlock-error.js";
import { evalScript, type RedisEval } from "../protection/redis-eval.js";

/**
 * Short-lived single-use records of the browser flow: authorization codes and login tickets. `take`
 * is atomic (exactly one of N concurrent takers gets the value), so a code or ticket is redeemed once
 * even when several textlock processes share Redis.
 */
export interface OneTimeStore {
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value without consuming it (the cross-origin fallback page looks before it redeems). */
  peek(key: string): Promise<string | undefined>;
  /** The value, removed in the same step; undefined when unknown, expired or already taken. */
  take(key: string): Promise<string | undefined>;
}

/** In-process store (the embedded default, next to the memory code store). Bounded in size. */
export class MemoryOneTimeStore implements OneTimeStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.entries.size >= this.maxEntries) this.sweep();
    // Still full of live entries: drop the oldest (insertion order), never grow without bound.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async peek(key: string): Promise<string | undefined> {
    return this.live(key);
  }

  async take(key: string): Promise<string | undefined> {
    // Read and delete with no await between them: concurrent takers cannot both see the value.
    const value = this.live(key);
    this.entries.delete(key);
    return value;
  }

  private live(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

const TAKE = `local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v`;

/** The same records in Redis (when the code store is Redis), so any process can redeem them. */
export class RedisOneTimeStore implements OneTimeStore {
  constructor(
    private readonly client: RedisEval,
    private readonly namespace: string,
  ) {}

  private key(key: string) {
    return `${this.namespace}:grant:${key}`;
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
    }
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.call(() =>
      evalScript(this.client, `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`, {
        keys: [this.key(key)],
        arguments: [value, String(ttlMs)],
      }),
    );
  }

  async peek(key: string): Promise<string | undefined> {
    const v = await this.call(() =>
      evalScript(this.client, `return redis.call('GET', KEYS[1])`, { keys: [this.key(key)], arguments: [] }),
    );
    return typeof v === "string" ? v : undefined;
  }

  async take(key: string): Promise<string | undefined> {
    const v = await this.call(() => evalScript(this.client, TAKE, { keys: [this.key(key)], arguments: [] }));
    return typeof v === "string" ? v : undefined;
  }
}
