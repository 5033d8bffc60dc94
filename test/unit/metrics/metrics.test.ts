import { pino } from "pino";
import { register as globalRegistry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { TextlockConfigInput } from "../../../core/config/schema.js";
import { provide } from "../../../core/container/compose.js";
import { containerOf } from "../../../core/container/internals.js";
import { METRICS, RATE_LIMIT_BACKEND } from "../../../core/di-tokens.js";
import { TextlockError } from "../../../core/errors/textlock-error.js";
import { observeStore } from "../../../core/metrics/observe.js";
import { defineSmsProvider, ProviderError } from "../../../core/providers/sms-provider.js";
import { createTextlock } from "../../../lib/index.js";
import { createTestTextlock, TEST_SECRET, type TestTextlock } from "../../helpers/create-test-textlock.js";
import { parsePrometheusText } from "../../helpers/prometheus-text.js";

const CLIENT = "textlock-dev";
const open: TestTextlock[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
async function make(config: TextlockConfigInput = {}) {
  const t = await createTestTextlock(config);
  open.push(t);
  return t;
}
const start = (t: TestTextlock, phone: string) =>
  t.api.start({ client_id: CLIENT, connection: "sms", phone_number: phone, send: "code" });
const scrape = async (t: TestTextlock) => parsePrometheusText(await t.metrics.prometheus());

describe("metrics", () => {
  it("each instance has its own registry: two in one process neither collide nor share counts", async () => {
    const a = await make();
    const b = await make();
    expect(a.metrics.registry).not.toBe(b.metrics.registry);
    await start(a, "+14155550141");
    await start(a, "+14155550142");
    await start(b, "+14155550143");
    const sentA = (await scrape(a)).samples.filter((s) => s.name === "textlock_codes_sent_total");
    const sentB = (await scrape(b)).samples.filter((s) => s.name === "textlock_codes_sent_total");
    expect(sentA.map((s) => s.value)).toEqual([2]);
    expect(sentB.map((s) => s.value)).toEqual([1]);
    expect(await globalRegistry.metrics()).not.toContain("textlock_");
  });

  it("counts refusals by reason in the registry and keeps refusals() in step", async () => {
    const t = await make({ protection: { enabled: true, perIp: { points: 1, seconds: 60 } } });
    await t.api.start({ client_id: CLIENT, connection: "sms", phone_number: "+14155550144" }, { ip: "203.0.113.9" });
    await expect(
      t.api.start({ client_id: CLIENT, connection: "sms", phone_number: "+14155550145" }, { ip: "203.0.113.9" }),
    ).rejects.toMatchObject({ code: "ERR_RATE_LIMITED" });
    expect(t.metrics.refusals().ip_limit).toBe(1);
    const m = await scrape(t);
    expect(m.value("textlock_refusals_total", { reason: "ip_limit" })).toBe(1);
    expect(m.value("textlock_refusals_total", { reason: "prefix_velocity" })).toBe(0);
  });

  it("shows codes for test numbers under provider test_number", async () => {
    const t = await make({
      connections: [
        {
          name: "sms",
          enabled_clients: [CLIENT],
          options: { test_numbers: [{ phone_number: "+15555550100", code: "424242" }] },
        },
      ],
    });
    await start(t, "+15555550100");
    expect(
      (await scrape(t)).value("textlock_codes_sent_total", {
        connection: "sms",
        provider: "test_number",
        channel: "sms",
        country: "unknown",
      }),
    ).toBe(1);
  });

  it("times provider attempts and counts provider errors by kind", async () => {
    const flaky = defineSmsProvider({
      name: "flaky",
      async send() {
        throw new ProviderError("transient", "upstream unavailable");
      },
    });
    const t = await make({
      providers: { flaky },
      delivery: { retries: 1, backoffMs: 0 },
      connections: [{ name: "sms", enabled_clients: [CLIENT], options: { provider: "flaky" } }],
    });
    await expect(start(t, "+14155550146")).rejects.toMatchObject({ code: "ERR_PROVIDER_FAILED" });
    const m = await scrape(t);
    expect(m.value("textlock_provider_errors_total", { provider: "flaky", kind: "transient" })).toBe(2);
    expect(m.value("textlock_provider_request_duration_seconds_count", { provider: "flaky", outcome: "error" })).toBe(
      2,
    );
    expect(m.value("textlock_delivery_failures_total", { connection: "sms", reason: "ERR_PROVIDER_FAILED" })).toBe(1);
    expect(m.samples.filter((s) => s.name === "textlock_codes_sent_total")).toEqual([]);
  });

  it("times configured hooks by trigger, and not the triggers without one", async () => {
    const t = await make({
      hooks: {
        functions: {
          "post-login": async (_event, api) => {
            api.idToken.setCustomClaim("https://example.com/x", 1);
          },
        },
      },
    });
    await start(t, "+14155550147");
    await t.api.verify({ client_id: CLIENT, realm: "sms", username: "+14155550147", otp: t.lastCode("+14155550147") });
    const m = await scrape(t);
    expect(m.value("textlock_hook_duration_seconds_count", { trigger: "post-login", outcome: "ok" })).toBe(1);
    expect(
      m.samples.some((s) => s.name.startsWith("textlock_hook") && s.labels.trigger === "pre-user-registration"),
    ).toBe(false);
  });

  it("counts store failures by store and operation, not a store's ordinary answers", async () => {
    const t = await make();
    const metrics = containerOf(t).resolve(METRICS);
    const store = observeStore(
      {
        async unreachable() {
          throw new TextlockError("ERR_STORE_UNAVAILABLE");
        },
        async refused() {
          throw new TextlockError("ERR_WRONG_CODE");
        },
        async fine() {
          return 1;
        },
      },
      "codes",
      metrics,
    );
    await expect(store.unreachable()).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    await expect(store.refused()).rejects.toMatchObject({ code: "ERR_WRONG_CODE" });
    expect(await store.fine()).toBe(1);
    const m = await scrape(t);
    expect(m.value("textlock_store_errors_total", { store: "codes", operation: "unreachable" })).toBe(1);
    expect(m.samples.filter((s) => s.name === "textlock_store_errors_total")).toHaveLength(1);
  });

  it("counts a rate-limit store that fails as a store error (the start fails closed)", async () => {
    // A Redis client whose every command fails, as when Redis is unreachable.
    const down = { eval: () => Promise.reject(new Error("connection refused")) };
    const t = await createTestTextlock(
      { protection: { enabled: true } },
      { logger: pino({ level: "silent" }), provide: [provide(RATE_LIMIT_BACKEND, { redis: down })] },
    );
    open.push(t);
    await expect(
      t.api.start({ client_id: CLIENT, connection: "sms", phone_number: "+14155550148" }, { ip: "203.0.113.10" }),
    ).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    const m = await scrape(t);
    // Every limit of a start is one script, so the failed operation is the start.
    expect(m.value("textlock_store_errors_total", { store: "rate_limits", operation: "start" })).toBe(1);
    expect(m.samples.filter((s) => s.name === "textlock_codes_sent_total")).toEqual([]);
  });

  it("serves no /metrics route unless a bearer token is configured", async () => {
    const { createHttpHandler } = await import("../../../core/http/handler.js");
    const without = createHttpHandler(await make());
    expect(without.matches("GET", "/metrics")).toBe(false);
    const t = await createTextlock(
      {
        secret: TEST_SECRET,
        dataDir: (await make()).dataDir,
        store: { type: "memory" },
        users: { type: "memory" },
        metrics: { bearerToken: "scrape-token-0123456789", path: "/internal/metrics" },
      },
      { logger: pino({ level: "silent" }) },
    );
    try {
      const handler = createHttpHandler(t);
      expect(handler.matches("GET", "/internal/metrics")).toBe(true);
      const res = await handler({
        method: "GET",
        path: "/internal/metrics",
        query: {},
        headers: { authorization: "Bearer scrape-token-0123456789" },
        ip: "127.0.0.1",
      } as never);
      expect(res.status).toBe(200);
      expect(parsePrometheusText(String(res.body)).types.get("textlock_refusals_total")).toBe("counter");
    } finally {
      await t.close();
    }
  });
});
