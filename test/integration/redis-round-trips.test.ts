import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { monitorRedis, type RedisMonitor } from "../helpers/redis-monitor.js";
import { type RunningService, startRedis } from "../helpers/services.js";

// Issue 18: codes and every limit of a start are one Redis round trip, and a code exchange is one too,
// with every protection on (failure ceiling, per-IP/phone/prefix limits, cooldown, daily budget, pumping
// counts, money budgets). Counted on the server with MONITOR: commands a Lua script runs are not
// round trips; every other command is one.
const enabled = !!inject("redisUrl");

describe.skipIf(!enabled)("Redis round trips per request", () => {
  let redis: RunningService;
  let monitor: RedisMonitor;
  let tl: TestTextlock;

  beforeAll(async () => {
    redis = await startRedis();
    monitor = await monitorRedis(redis.port);
    tl = await createTestTextlock({
      store: { type: "redis", url: redis.url, namespace: "rt", commandTimeoutMs: 2_000 },
      protection: {
        enabled: true,
        perIp: { points: 100, seconds: 3600 },
        perPhone: { points: 5, seconds: 3600 },
        resendCooldownSeconds: 30,
        pumping: { mode: "enforce", minSends: { prefix: 1000, country: 1000 } },
        budgets: { currency: "USD", daily: 100, perCountryDaily: { "*": 50 }, alertAt: [0.5] },
      },
    });
  });
  afterAll(async () => {
    await tl?.close();
    monitor?.stop();
    await redis?.stop();
  });

  const start = (phone: string, ip = "203.0.113.9") =>
    tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone }, { ip });
  const login = (phone: string, code: string) =>
    tl.api.login({ client_id: "textlock-dev", phone_number: phone, code, scope: "openid" });

  it("a start is one round trip for codes and limits, and so is a login or a wrong code", async () => {
    await start("+14155550100"); // warm up (connection, first script load)
    await monitor.reset();
    for (let i = 1; i <= 5; i++) await start(`+1415555010${i}`);
    expect(await monitor.commands()).toEqual(Array(5).fill("evalsha"));

    await monitor.reset();
    const wrong = String((Number(tl.lastCode("+14155550101")) + 1) % 1e6).padStart(6, "0");
    await expect(login("+14155550101", wrong)).rejects.toMatchObject({ code: "ERR_WRONG_CODE" });
    expect(await monitor.commands()).toEqual(["evalsha"]);

    await monitor.reset();
    for (let i = 1; i <= 5; i++) {
      const tokens = await login(`+1415555010${i}`, tl.lastCode(`+1415555010${i}`));
      expect(tokens.id_token).toEqual(expect.any(String));
    }
    expect(await monitor.commands()).toEqual(Array(5).fill("evalsha"));
  });

  it("sends the script by its SHA1; a Redis that lost its script cache (restart, SCRIPT FLUSH) gets it once again", async () => {
    await start("+16505550150");
    await monitor.reset();
    await start("+16505550151");
    expect(await monitor.commands()).toEqual(["evalsha"]);
    execFileSync("redis-cli", ["-p", String(redis.port), "script", "flush"]);
    await monitor.reset();
    // NOSCRIPT, then the script itself (which caches it again), then back to one evalsha per start.
    await start("+16505550152");
    expect(await monitor.commands()).toEqual(["evalsha", "eval"]);
    await monitor.reset();
    await start("+16505550153");
    expect(await monitor.commands()).toEqual(["evalsha"]);
    const code = tl.lastCode("+16505550152");
    await expect(login("+16505550152", code)).resolves.toMatchObject({ id_token: expect.any(String) });
  });

  it("a refused start is one round trip and consumes nothing", async () => {
    const ipCount = () =>
      execFileSync("redis-cli", ["-p", String(redis.port), "hget", "{rt}:rl:ip:203.0.113.9", "c"], {
        encoding: "utf8",
      }).trim();
    await start("+14155550200");
    const before = ipCount();
    expect(Number(before)).toBeGreaterThan(0);
    await monitor.reset();
    // The resend cooldown refuses the second start; the per-IP count is not charged for it.
    await expect(start("+14155550200")).rejects.toMatchObject({ code: "ERR_RATE_LIMITED" });
    expect(await monitor.commands()).toEqual(["evalsha"]);
    expect(tl.metrics.refusals().resend_cooldown).toBe(1);
    expect(ipCount()).toBe(before);
  });

  it("a channel switch is one round trip too: the start's script claims the live code for the new channel", async () => {
    const sw = await createTestTextlock({
      store: { type: "redis", url: redis.url, namespace: "rt-switch", commandTimeoutMs: 2_000 },
      clients: [{ client_id: "app" }],
      connections: [{ name: "sms", enabled_clients: ["app"], options: { channels: ["sms", "voice"] } }],
      protection: {
        enabled: true,
        perIp: { points: 100, seconds: 3600 },
        perPhone: { points: 5, seconds: 3600 },
        resendCooldownSeconds: 0,
        pumping: { mode: "enforce", minSends: { prefix: 1000, country: 1000 } },
        budgets: { currency: "USD", daily: 100, perCountryDaily: { "*": 50 }, alertAt: [0.5] },
      },
    });
    try {
      const phone = "+14155550300";
      const switchTo = (delivery_method?: string) =>
        sw.api.start(
          { client_id: "app", connection: "sms", phone_number: phone, ...(delivery_method ? { delivery_method } : {}) },
          { ip: "203.0.113.10" },
        );
      await switchTo();
      const code = sw.lastCode(phone);
      await monitor.reset();
      await switchTo("voice");
      expect(await monitor.commands()).toEqual(["evalsha"]);
      expect(sw.messages(phone).at(-1)).toMatchObject({ channel: "voice" });
      expect(sw.lastCode(phone)).toBe(code);
      // Asking again for a channel the code already went over is an ordinary resend: a new code, one round trip.
      await monitor.reset();
      await switchTo("voice");
      expect(await monitor.commands()).toEqual(["evalsha"]);
      expect(sw.lastCode(phone)).not.toBe(code);
    } finally {
      await sw.close();
    }
  });
});
