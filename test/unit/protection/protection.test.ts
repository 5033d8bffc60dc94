import { pino } from "pino";
import { afterEach, describe, expect, inject, it } from "vitest";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { resolveClientIp } from "../../../core/http/client-ip.js";
import { defineSmsProvider, ProviderError } from "../../../core/providers/sms-provider.js";
import { serve } from "../../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const open: TestTextlock[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
async function make(protection: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const tl = await createTestTextlock({ protection: { enabled: true, ...protection }, ...extra });
  open.push(tl);
  return tl;
}
const start = (tl: TestTextlock, phone: string, ip = "203.0.113.1") =>
  tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone }, { ip }).then(
    () => ({ status: 200, body: {}, headers: {} as Record<string, string> }),
    (e) => toWireError(e),
  );

describe("send limits", () => {
  it("limits starts per IP with Auth0's 429 body, Retry-After and x-ratelimit headers", async () => {
    const tl = await make({ perIp: { points: 3, seconds: 3600 } });
    const events: unknown[] = [];
    tl.events.on("request.refused", (e) => events.push(e));
    for (let i = 0; i < 3; i++) expect((await start(tl, `+1415555011${i}`)).status).toBe(200);
    expect(events).toEqual([]);
    const refused = await start(tl, "+14155550119");
    expect(events).toEqual([{ reason: "ip_limit", endpoint: "/passwordless/start" }]);
    expect(refused).toMatchObject({
      status: 429,
      body: { error: "too_many_requests", error_description: expect.stringContaining("X-RateLimit-Limit") },
      headers: {
        "retry-after": expect.stringMatching(/^\d+$/),
        "x-ratelimit-limit": "3",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": expect.stringMatching(/^\d+$/),
      },
    });
    expect((await start(tl, "+14155550119", "203.0.113.2")).status).toBe(200);
    expect(tl.metrics.refusals().ip_limit).toBe(1);
    expect(await tl.metrics.prometheus()).toContain('textlock_refusals_total{reason="ip_limit"} 1');
  });

  it("enforces the resend cooldown and the per-phone limit", async () => {
    const tl = await make({ resendCooldownSeconds: 30 });
    expect((await start(tl, "+14155550120")).status).toBe(200);
    expect(await start(tl, "+14155550120")).toMatchObject({
      status: 429,
      headers: { "retry-after": expect.any(String) },
    });
    const tl2 = await make({ resendCooldownSeconds: 0, perPhone: { points: 2, seconds: 3600 } });
    expect((await start(tl2, "+14155550121")).status).toBe(200);
    expect((await start(tl2, "+14155550121")).status).toBe(200);
    expect((await start(tl2, "+14155550121")).status).toBe(429);
    expect(tl2.metrics.refusals().phone_limit).toBe(1);
  });

  it("slows down number-range walks (prefix velocity) and caps the daily budget", async () => {
    const tl = await make({ perPrefix: { points: 3, seconds: 3600 }, perIp: { points: 1000, seconds: 3600 } });
    const walked = [];
    for (let i = 0; i < 5; i++) walked.push(await start(tl, `+1415555${String(1000 + i)}`, `198.51.100.${i}`));
    expect(walked.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    const budget = await make({ dailySmsBudget: 2, perIp: { points: 1000, seconds: 3600 } });
    const sent = [
      await start(budget, "+14155550140"),
      await start(budget, "+33612345678"),
      await start(budget, "+447911123456"),
    ];
    expect(sent.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(budget.metrics.refusals().daily_budget).toBe(1);
    // Neither refusal states the size of the limit: it would tell a pumper how much is left to take.
    for (const refused of [walked[4]!, sent[2]!]) {
      expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
      expect(refused.headers["x-ratelimit-remaining"]).toBe("0");
      expect(refused.headers).not.toHaveProperty("x-ratelimit-limit");
    }
  });

  it("says which limit fired, in a stable description that gives no budget, keeping too_many_requests", async () => {
    const describeRefusal = async (tl: TestTextlock, phones: string[], ips: string[] = []) => {
      let last = await start(tl, phones[0]!, ips[0]);
      for (let i = 1; i < phones.length; i++) last = await start(tl, phones[i]!, ips[i] ?? ips[0]);
      expect(last.status).toBe(429);
      const body = last.body as { error?: string; error_description?: string };
      expect(body.error).toBe("too_many_requests");
      expect(last.headers).toMatchObject({ "retry-after": expect.any(String), "x-ratelimit-remaining": "0" });
      return body.error_description;
    };
    const noCooldown = { resendCooldownSeconds: 0 };
    expect(
      await describeRefusal(await make({ ...noCooldown, perPhone: { points: 1, seconds: 3600 } }), [
        "+14155550150",
        "+14155550150",
      ]),
    ).toBe("Too many codes were sent to this phone number. Try again later.");
    expect(await describeRefusal(await make({ resendCooldownSeconds: 30 }), ["+14155550151", "+14155550151"])).toBe(
      "A code was just sent to this phone number. Wait a moment before asking for another one.",
    );
    expect(
      await describeRefusal(
        await make({ ...noCooldown, perPrefix: { points: 1, seconds: 3600 } }),
        ["+14155551000", "+14155551001"],
        ["198.51.100.1", "198.51.100.2"],
      ),
    ).toBe("Too many codes were sent to phone numbers like this one. Try again later.");
    expect(
      await describeRefusal(await make({ ...noCooldown, dailySmsBudget: 1 }), ["+14155550152", "+33612345678"]),
    ).toBe("Too many messages were sent today. Try again later.");
    expect(
      await describeRefusal(await make({ ...noCooldown, perIp: { points: 1, seconds: 3600 } }), [
        "+14155550153",
        "+33612345679",
      ]),
    ).toBe("Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.");
  });

  it("sends the limit's description and the x-ratelimit headers over HTTP", async () => {
    const tl = await make({ resendCooldownSeconds: 30 });
    const server = await serve("standalone", tl);
    try {
      const send = () =>
        fetch(`${server.url}/passwordless/start`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550160" }),
        });
      expect((await send()).status).toBe(200);
      const refused = await send();
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({
        error: "too_many_requests",
        error_description: "A code was just sent to this phone number. Wait a moment before asking for another one.",
      });
      for (const h of ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
        expect(refused.headers.get(h)).toMatch(/^\d+$/);
    } finally {
      await server.close();
    }
  });

  it("charges nothing when the request is refused, and gives the quota back when the send never left", async () => {
    let fail = true;
    const flaky = defineSmsProvider({
      name: "flaky",
      async send() {
        if (fail) throw new ProviderError("transient", "down");
        return { id: "1" };
      },
    });
    const tl = await make(
      { perPhone: { points: 1, seconds: 3600 }, resendCooldownSeconds: 30 },
      {
        providers: { flaky },
        connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "flaky" } }],
        delivery: { retries: 0 },
      },
    );
    expect((await start(tl, "+14155550150")).body).toMatchObject({ error: "sms_provider_error" });
    fail = false;
    expect((await start(tl, "+14155550150")).status).toBe(200);
    expect((await start(tl, "+14155550150")).status).toBe(429);
  });

  it("holds under concurrency: 40 parallel starts from one IP with a limit of 10 send exactly 10", async () => {
    const tl = await make({ perIp: { points: 10, seconds: 3600 } });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => start(tl, `+1415555${String(2000 + i)}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(tl.messages()).toHaveLength(10);
  });
});

describe("phone policy", () => {
  it("refuses premium-rate and toll-free numbers and applies country lists", async () => {
    const tl = await make({ countries: { allow: ["US", "FR"], deny: [] } });
    expect(await start(tl, "+19005551234")).toMatchObject({
      status: 400,
      body: { error: "bad.phone_number", error_description: "This type of phone number is not supported" },
    });
    expect(await start(tl, "+18005550100")).toMatchObject({ status: 400, body: { error: "bad.phone_number" } });
    expect(await start(tl, "+447911123456")).toMatchObject({
      status: 400,
      body: { error: "bad.phone_number", error_description: "The phone number's country is not allowed" },
    });
    expect((await start(tl, "+33612345678")).status).toBe(200);
    const denied = await make({ countries: { allow: [], deny: ["FR"] } });
    expect((await start(denied, "+33612345678")).status).toBe(400);
    expect(denied.metrics.refusals().country).toBe(1);
  });
});

describe("resolveClientIp (trust proxy)", () => {
  it("ignores X-Forwarded-For unless proxies are trusted", () => {
    expect(resolveClientIp("::ffff:10.0.0.5", "1.2.3.4", false)).toBe("10.0.0.5");
    expect(resolveClientIp("10.0.0.5", "1.2.3.4, 10.0.0.9", true)).toBe("1.2.3.4");
    expect(resolveClientIp("10.0.0.5", "6.6.6.6, 1.2.3.4", 1)).toBe("1.2.3.4");
    expect(resolveClientIp("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", ["10.0.0.5", "10.0.0.9"])).toBe("1.2.3.4");
  });
});

const redisUrl = inject("redisUrl");
describe.skipIf(!redisUrl)("limits shared through Redis", () => {
  it("two instances on one Redis share the per-IP limit exactly", async () => {
    const config = {
      store: { type: "redis" as const, url: redisUrl!, namespace: `prot-${process.pid}`, commandTimeoutMs: 1000 },
      protection: { enabled: true, perIp: { points: 10, seconds: 3600 } },
    };
    const a = await createTestTextlock(config, { logger: pino({ level: "silent" }) });
    const b = await createTestTextlock(config, { logger: pino({ level: "silent" }) });
    open.push(a, b);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => start(i % 2 ? a : b, `+1415555${String(3000 + i)}`, "192.0.2.77")),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
  });
});
