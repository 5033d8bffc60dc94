import { describe, inject, it } from "vitest";
import { ADAPTERS } from "../helpers/adapters.js";
import { checkPhoneLock } from "../helpers/phone-lock.js";

const redisUrl = inject("redisUrl");

// Issue 13 item 9 on the shared store: the failure window (and so Retry-After) comes from Redis.
describe.skipIf(!redisUrl).each(ADAPTERS)("the per-phone failure lock through %s (Redis store)", (adapter) => {
  it("answers /passwordless/start 429 too_many_requests with Retry-After and sends nothing; the token endpoint too_many_attempts with Retry-After", async () => {
    await checkPhoneLock(adapter, "+14155550501", {
      store: { type: "redis", url: redisUrl!, namespace: `lock-${process.pid}-${adapter}` },
    });
  });
});
