import { pino } from "pino";
import { describe, expect, inject, it } from "vitest";
import { startServer } from "../../adapters/standalone/index.js";
import { TextlockError } from "../../core/errors/textlock-error.js";
import { RedisOtpStore } from "../../core/otp/redis-otp-store.js";
import { runOtpStoreContract } from "../../core/testing/otp-store-contract.js";
import { runUserStoreContract } from "../../core/testing/user-store-contract.js";
import { PostgresUserStore } from "../../core/users/postgres-user-store.js";
import { createTestTextlock } from "../helpers/create-test-textlock.js";
import { expectDoubleSubmitIsHarmless } from "../helpers/double-submit.js";
import { startRedis } from "../helpers/services.js";
import { vitestRunner } from "../helpers/vitest-runner.js";

const logger = pino({ level: "silent" });
const redisUrl = inject("redisUrl");
const postgresUrl = inject("postgresUrl");
let ns = 0;

describe.skipIf(!redisUrl)("Redis OtpStore", () => {
  runOtpStoreContract(
    "redis",
    () =>
      RedisOtpStore.connect({ url: redisUrl!, namespace: `t${process.pid}-${++ns}`, commandTimeoutMs: 1_000 }, logger),
    vitestRunner,
  );

  it("answers 50 concurrent submissions of the right code over HTTP with one login, no lockout", async () => {
    const tl = await createTestTextlock({
      store: { type: "redis", url: redisUrl!, namespace: `double-${process.pid}`, commandTimeoutMs: 1_000 },
      clients: [{ client_id: "spa" }],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
    });
    const server = await startServer(tl, { host: "127.0.0.1", port: 0 });
    try {
      await expectDoubleSubmitIsHarmless(server.url, tl, "+14155557001");
    } finally {
      await server.close();
      await tl.close();
    }
  });

  it("fails closed within the command timeout while Redis is down, then recovers without a restart", async () => {
    const redis = await startRedis();
    const store = await RedisOtpStore.connect({ url: redis.url, namespace: "fault", commandTimeoutMs: 300 }, logger);
    try {
      await store.issue("k", { codeId: "c1", hash: "aGFzaA", expiresAt: Date.now() + 60_000, maxAttempts: 3 });
      await redis.stop();
      for (let i = 0; i < 5; i++) {
        const began = Date.now();
        const err = await store.redeem("k", "aGFzaA", Date.now()).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TextlockError);
        expect((err as TextlockError).code).toBe("ERR_STORE_UNAVAILABLE");
        expect(Date.now() - began).toBeLessThan(1_000);
      }
      const again = await startRedis(redis.port);
      try {
        await expect
          .poll(
            () =>
              store.redeem("k", "aGFzaA", Date.now()).then(
                (r) => r.status,
                () => "down",
              ),
            { timeout: 10_000, interval: 100 },
          )
          .toBe("missing");
      } finally {
        await again.stop();
      }
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe.skipIf(!postgresUrl)("PostgreSQL UserStore", () => {
  runUserStoreContract("postgres", () => PostgresUserStore.connect({ url: postgresUrl! }, logger), vitestRunner);

  it("migrates once when several processes start together", async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresUserStore.connect({ url: postgresUrl! }, logger)),
    );
    await Promise.all(stores.map((s) => s.close()));
  });

  it("purges refresh-token records of expired families only", async () => {
    const users = await PostgresUserStore.connect({ url: postgresUrl! }, logger);
    try {
      const s = users.refreshTokenStore();
      const tag = `purge-${process.pid}-${Date.now()}`;
      const base = { user_id: `sms|${tag}`, client_id: "c", connection: "sms", scope: "offline_access" };
      await s.save(`${tag}-old`, { ...base, family: `${tag}-old`, expiresAt: 1_000 });
      await s.revokeFamily(`${tag}-gone`, 1_500);
      await s.save(`${tag}-live`, { ...base, family: `${tag}-live`, expiresAt: 4_000_000_000_000 });
      expect(await s.purgeExpired!(2_000)).toBeGreaterThanOrEqual(2);
      expect(await s.find(`${tag}-old`)).toBeUndefined();
      expect(await s.find(`${tag}-live`)).toBeDefined();
    } finally {
      await users.close();
    }
  });
});
