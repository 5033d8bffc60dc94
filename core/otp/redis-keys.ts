/**
 * Redis key names of the code store and the limits, in one place so that every part names a key the
 * same way. Keys carry a hash tag (the part in braces) so that a Redis Cluster keeps together what one
 * script touches: every per-phone key (code, failure window, resend cooldown, per-phone limit) is
 * tagged with the phone's store key (`{connection:phone}`), so a phone's keys share one slot and codes
 * spread over the cluster by phone; every counter shared between phones (per IP, per prefix, the daily
 * budget, pumping and money budgets, the due escalations) is tagged with the namespace (`{textlock}`), so they share one
 * slot. On a single Redis the tags change nothing.
 */
export interface RedisKeys {
  /** The pending code of a phone (`key` is the engine's `connection:phone`). */
  code(key: string): string;
  /** The phone's consecutive-failure window. */
  fail(key: string): string;
  /** A per-phone send limit (`cooldown`, `phone`). */
  phoneLimit(name: string, key: string): string;
  /** A counter shared between phones (`rl:ip:…`, `pump:…`, `budget:…`), and the due escalations. */
  shared(rest: string): string;
  /** The index from a vendor's message id to its code (delivery receipts), in the message's own slot. */
  message(provider: string, messageId: string): string;
}

export function redisKeys(namespace: string): RedisKeys {
  return {
    code: (key) => `${namespace}:code:{${key}}`,
    fail: (key) => `${namespace}:fail:{${key}}`,
    phoneLimit: (name, key) => `${namespace}:rl:${name}:{${key}}`,
    shared: (rest) => `{${namespace}}:${rest}`,
    message: (provider, messageId) => `${namespace}:dmsg:{${provider}:${messageId}}`,
  };
}
