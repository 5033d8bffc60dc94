import { pino } from "pino";
import { afterEach, describe, expect, inject, it } from "vitest";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import type { TextlockEventMap } from "../../../core/events/events.js";
import { defineSmsProvider, ProviderError } from "../../../core/providers/sms-provider.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const open: TestTextlock[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

// Every other limit out of the way, so only pumping detection and budgets decide.
const roomy = {
  enabled: true,
  perIp: { points: 10_000, seconds: 3600 },
  perPhone: { points: 10_000, seconds: 3600 },
  perPrefix: { points: 10_000, seconds: 3600 },
  resendCooldownSeconds: 0,
};
let clock = Date.parse("2026-06-01T10:00:00Z");
async function make(protection: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  clock = Date.parse("2026-06-01T10:00:00Z");
  const tl = await createTestTextlock(
    { protection: { ...roomy, ...protection }, ...extra },
    { logger: pino({ level: "silent" }), clock: () => clock },
  );
  open.push(tl);
  return tl;
}
const start = (tl: TestTextlock, phone: string, client_id = "textlock-dev") =>
  tl.api.start({ client_id, connection: "sms", phone_number: phone }, { ip: "203.0.113.1" }).then(
    () => ({ status: 200, body: {} as Record<string, string>, headers: {} as Record<string, string> }),
    (e) => toWireError(e),
  );
const verify = (tl: TestTextlock, phone: string) =>
  tl.api.token(
    { grant_type: OTP, client_id: "textlock-dev", username: phone, otp: tl.lastCode(phone), realm: "sms" },
    { issuer: "https://auth.example.com/" },
  );
const collect = <K extends keyof TextlockEventMap>(tl: TestTextlock, name: K) => {
  const out: TextlockEventMap[K][0][] = [];
  tl.events.on(name, ((e: TextlockEventMap[K][0]) => out.push(e)) as never);
  return out;
};
const pumping = (mode: "enforce" | "monitor") => ({
  pumping: {
    mode,
    windowSeconds: 600,
    minVerifiedRatio: 0.5,
    minSends: { prefix: 5, country: 1000 },
    quarantineSeconds: 60,
  },
});

describe("pumping detection", () => {
  it("quarantines a prefix whose codes are never verified, explains it, and clears it once the window is clean", async () => {
    const tl = await make(pumping("enforce"));
    const detected = collect(tl, "pumping.detected");
    const cleared = collect(tl, "pumping.cleared");
    for (let i = 0; i < 5; i++) expect((await start(tl, `+1415555000${i}`)).status).toBe(200);
    expect(detected).toEqual([
      {
        scope: "prefix",
        prefix: "+1415555",
        ratio: 0,
        sent: 5,
        verified: 0,
        mode: "enforce",
        until: new Date(clock + 60_000).toISOString(),
      },
    ]);
    const refused = await start(tl, "+14155550009");
    expect(refused).toMatchObject({
      status: 429,
      body: {
        error: "too_many_requests",
        error_description: "Codes cannot be sent to this phone number right now. Try again later.",
      },
      headers: { "retry-after": "60" },
    });
    expect(tl.messages()).toHaveLength(5);
    expect(tl.messages("+14155550009")).toHaveLength(0);
    // Another prefix of the same country still works.
    expect((await start(tl, "+14155560001")).status).toBe(200);
    expect(tl.metrics.refusals().pumping).toBe(1);
    expect(tl.metrics.alerts().pumping_detected).toBe(1);
    expect(await tl.metrics.prometheus()).toContain('textlock_refusals_total{reason="pumping"} 1');
    expect(await tl.metrics.prometheus()).toContain('textlock_protection_alerts_total{alert="pumping_detected"} 1');

    // The quarantine ended but the window still shows the burst: renewed, not cleared.
    clock += 61_000;
    expect((await start(tl, "+14155550009")).status).toBe(429);
    expect(cleared).toEqual([]);
    // Once the burst left the window, the first start clears it, reports it, and is sent.
    clock += 600_000;
    expect((await start(tl, "+14155550009")).status).toBe(200);
    expect(cleared).toEqual([{ scope: "prefix", prefix: "+1415555", ratio: 0, sent: 0, verified: 0 }]);
    expect(tl.metrics.alerts().pumping_cleared).toBe(1);
  });

  it("leaves a prefix alone while its codes are verified", async () => {
    const tl = await make(pumping("enforce"));
    const detected = collect(tl, "pumping.detected");
    for (let i = 0; i < 8; i++) {
      const phone = `+1415555100${i}`;
      expect((await start(tl, phone)).status).toBe(200);
      // Judged at each send, before that code could be verified: 3 of 5, then 6 of 8, verified.
      if (i % 4 !== 3) await verify(tl, phone);
    }
    expect(detected).toEqual([]);
    expect((await start(tl, "+14155551009")).status).toBe(200);
  });

  it("watches countries too, with their own sample size", async () => {
    const tl = await make({
      pumping: { mode: "enforce", minVerifiedRatio: 0.5, minSends: { prefix: 1000, country: 4 } },
    });
    const detected = collect(tl, "pumping.detected");
    for (const phone of ["+33612345678", "+33622345678", "+33632345678", "+33642345678"])
      expect((await start(tl, phone)).status).toBe(200);
    expect(detected).toMatchObject([{ scope: "country", country: "FR", sent: 4, verified: 0 }]);
    expect((await start(tl, "+33652345678")).status).toBe(429);
    expect((await start(tl, "+14155550001")).status).toBe(200);
  });

  it("in monitor mode reports but never refuses", async () => {
    const tl = await make(pumping("monitor"));
    const detected = collect(tl, "pumping.detected");
    for (let i = 0; i < 8; i++) expect((await start(tl, `+1415555200${i}`)).status).toBe(200);
    expect(detected).toMatchObject([{ scope: "prefix", prefix: "+1415555", mode: "monitor", sent: 5 }]);
    expect(tl.messages()).toHaveLength(8);
    expect(tl.metrics.refusals().pumping).toBe(0);
  });

  it("is off with mode off", async () => {
    const tl = await make({ pumping: { mode: "off", minSends: { prefix: 1, country: 1 } } });
    const detected = collect(tl, "pumping.detected");
    for (let i = 0; i < 4; i++) expect((await start(tl, `+1415555300${i}`)).status).toBe(200);
    expect(detected).toEqual([]);
  });
});

const budget = (budgets: Record<string, unknown>) => ({ pumping: { mode: "off" }, budgets });

describe("money budgets", () => {
  it("stops sends at a country's daily budget, alerts once per threshold, and says nothing of money", async () => {
    const tl = await make(budget({ prices: { US: 0.05 }, perCountryDaily: { US: 0.2 }, alertAt: [0.5, 0.8] }));
    const alerts = collect(tl, "budget.threshold");
    const refusedEvents = collect(tl, "request.refused");
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await start(tl, `+1415555400${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(tl.messages()).toHaveLength(4);
    expect(alerts).toEqual([
      { scope: "country", country: "US", threshold: 0.5, spent: 0.1, limit: 0.2, currency: "USD", day: "2026-06-01" },
      { scope: "country", country: "US", threshold: 0.8, spent: 0.2, limit: 0.2, currency: "USD", day: "2026-06-01" },
    ]);
    const refused = await start(tl, "+14155554009");
    expect(refused).toMatchObject({
      status: 429,
      body: { error: "too_many_requests", error_description: "Too many messages were sent today. Try again later." },
      // Until the next UTC midnight (the clock is at 10:00).
      headers: { "retry-after": String(14 * 3600) },
    });
    expect(refusedEvents.at(-1)).toEqual({ reason: "cost_budget", endpoint: "/passwordless/start" });
    // Other countries have no budget here; the next UTC day starts afresh.
    expect((await start(tl, "+33612345678")).status).toBe(200);
    clock += 14 * 3600_000;
    expect((await start(tl, "+14155554009")).status).toBe(200);
    expect(alerts).toHaveLength(2);
  });

  it("charges per-client and total budgets with the example price table and `*`", async () => {
    const tl = await make(budget({ defaultPrice: 0.5, perClientDaily: { "*": 1 }, daily: 100 }), {
      clients: [
        { client_id: "a", name: "a" },
        { client_id: "b", name: "b" },
      ],
      connections: [{ name: "sms", enabled_clients: ["a", "b"] }],
    });
    // A country missing from both tables costs defaultPrice: 2 fit in a client's budget of 1.
    expect((await start(tl, "+380501234567", "a")).status).toBe(200);
    expect((await start(tl, "+380501234568", "a")).status).toBe(200);
    expect((await start(tl, "+380501234569", "a")).status).toBe(429);
    expect((await start(tl, "+380501234569", "b")).status).toBe(200);
    // Client a's budget is spent: even a US message (under a cent in the example table) is refused, while
    // b, at 0.5, still has room for it but not for another message to Ukraine.
    expect((await start(tl, "+14155554100", "a")).status).toBe(429);
    expect((await start(tl, "+14155554100", "b")).status).toBe(200);
    expect((await start(tl, "+380501234570", "b")).status).toBe(429);
    expect(tl.metrics.refusals().cost_budget).toBe(3);
  });

  it("uses the USD example table only for USD, and checks budgets against the configuration", async () => {
    const eur = await make(budget({ currency: "EUR", defaultPrice: 0.5, perCountryDaily: { US: 1 } }));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await start(eur, `+1415555410${i}`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    await expect(make(budget({ currency: "EUR", perCountryDaily: { US: 1 } }))).rejects.toThrow(
      /required when currency is not USD/,
    );
    await expect(make(budget({ perClientDaily: { nope: 1 } }))).rejects.toThrow(/unknown client "nope"/);
  });

  it("refunds a send that never left", async () => {
    let fail = true;
    const flaky = defineSmsProvider({
      name: "flaky",
      async send() {
        if (fail) throw new ProviderError("transient", "down");
        return { id: "1" };
      },
    });
    const tl = await make(budget({ prices: { US: 0.05 }, perCountryDaily: { US: 0.1 } }), {
      providers: { flaky },
      connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "flaky" } }],
      delivery: { retries: 0 },
    });
    // Two failures (a breaker would stop more): unrefunded, they would have spent the whole budget.
    for (let i = 0; i < 2; i++)
      expect((await start(tl, `+1415555500${i}`)).body).toMatchObject({ error: "sms_provider_error" });
    fail = false;
    expect((await start(tl, "+14155555010")).status).toBe(200);
    expect((await start(tl, "+14155555011")).status).toBe(200);
    expect((await start(tl, "+14155555012")).status).toBe(429);
  });
});

const redisUrl = inject("redisUrl");
describe.skipIf(!redisUrl)("pumping and budgets shared through Redis", () => {
  const pair = async (protection: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const config = {
      store: {
        type: "redis" as const,
        url: redisUrl!,
        namespace: `pb-${process.pid}-${Math.random()}`,
        commandTimeoutMs: 1000,
      },
      protection: { ...roomy, ...protection },
      ...extra,
    };
    const a = await createTestTextlock(config, { logger: pino({ level: "silent" }) });
    const b = await createTestTextlock(config, { logger: pino({ level: "silent" }) });
    open.push(a, b);
    return [a, b] as const;
  };

  it("spends a budget exactly across two instances under concurrency, alerting once", async () => {
    const [a, b] = await pair(budget({ prices: { US: 0.05 }, perCountryDaily: { US: 1 }, alertAt: [0.5] }));
    const seen: unknown[] = [];
    a.events.on("budget.threshold", (e) => seen.push(e));
    b.events.on("budget.threshold", (e) => seen.push(e));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => start(i % 2 ? a : b, `+1415555${String(1000 + i)}`)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
    expect(results.filter((r) => r.status === 429)).toHaveLength(40);
    expect(a.messages().length + b.messages().length).toBe(20);
    expect(seen).toMatchObject([{ threshold: 0.5, spent: 0.5, limit: 1 }]);
  });

  it("shares a quarantine between instances", async () => {
    const [a, b] = await pair(pumping("enforce"));
    const detected = [collect(a, "pumping.detected"), collect(b, "pumping.detected")];
    for (let i = 0; i < 5; i++) expect((await start(i % 2 ? a : b, `+1415555600${i}`)).status).toBe(200);
    expect(detected.flat()).toMatchObject([{ prefix: "+1415555", sent: 5, verified: 0 }]);
    expect((await start(a, "+14155556009")).status).toBe(429);
    expect((await start(b, "+14155556009")).status).toBe(429);
    expect((await start(b, "+14155576009")).status).toBe(200);
  });

  it("refunds a send that never left, on Redis", async () => {
    let fail = true;
    const flaky = defineSmsProvider({
      name: "flaky",
      async send() {
        if (fail) throw new ProviderError("transient", "down");
        return { id: "1" };
      },
    });
    const [a, b] = await pair(budget({ prices: { US: 0.05 }, perCountryDaily: { US: 0.1 } }), {
      providers: { flaky },
      connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "flaky" } }],
      delivery: { retries: 0 },
    });
    expect((await start(a, "+14155557001")).body).toMatchObject({ error: "sms_provider_error" });
    expect((await start(b, "+14155557002")).body).toMatchObject({ error: "sms_provider_error" });
    fail = false;
    expect((await start(a, "+14155557003")).status).toBe(200);
    expect((await start(b, "+14155557004")).status).toBe(200);
    expect((await start(a, "+14155557005")).status).toBe(429);
  });
});
