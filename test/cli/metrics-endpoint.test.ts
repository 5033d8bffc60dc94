import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePrometheusText } from "../helpers/prometheus-text.js";
import { spawnServe } from "../helpers/serve-process.js";

// `/metrics` of a real `textlock serve` child process, read as a Prometheus scraper reads it.
const TOKEN = "scrape-7f3a9c1e5b2d40688e1f";
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const PHONES = ["+14155550131", "+14155550132", "+14155550133"];
let url: string;
let child: ChildProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "textlock-metrics-"));
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      secret: "metrics-test-secret-metrics-test-secret-01",
      users: { type: "memory" },
      metrics: { bearerToken: TOKEN },
      logging: { level: "warn" },
    }),
  );
  ({ url, child } = await spawnServe(file));
}, 60_000);

afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGTERM");
});

const post = (path: string, body: object) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const codeFor = (phone: string): string =>
  readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => m.to === phone)
    .at(-1)
    .body.match(/\d{6}/)[0];
const token = (phone: string, otp: string) =>
  post("/oauth/token", { grant_type: OTP, client_id: "textlock-dev", username: phone, otp, realm: "sms" });
const scrape = (auth?: string) => fetch(`${url}/metrics`, auth ? { headers: { authorization: auth } } : {});

describe("GET /metrics through textlock serve", () => {
  it("refuses a scraper without the bearer token, or with another one", async () => {
    const none = await scrape();
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expect(await none.json()).toMatchObject({ error: "invalid_token" });
    const wrong = await scrape(`Bearer ${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("textlock_");
  });

  it("counts exactly the requests made: 3 starts, 2 verifications of which 1 wrong", async () => {
    for (const phone of PHONES) {
      expect(
        (await post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone }))
          .status,
      ).toBe(200);
    }
    expect((await token(PHONES[0]!, codeFor(PHONES[0]!))).status).toBe(200);
    const right = codeFor(PHONES[1]!);
    expect((await token(PHONES[1]!, right === "000000" ? "000001" : "000000")).status).toBe(403);

    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const m = parsePrometheusText(await res.text());

    expect(m.types.get("textlock_codes_sent_total")).toBe("counter");
    const sent = m.samples.filter((s) => s.name === "textlock_codes_sent_total");
    expect(sent).toEqual([
      {
        name: "textlock_codes_sent_total",
        labels: { connection: "sms", provider: "console", channel: "sms", country: "US" },
        value: 3,
      },
    ]);
    const outcomes = Object.fromEntries(
      m.samples.filter((s) => s.name === "textlock_verifications_total").map((s) => [s.labels.outcome, s.value]),
    );
    expect(outcomes).toEqual({ verified: 1, wrong: 1, expired: 0, missing: 0, used: 0, exhausted: 0, ceiling: 0 });
    expect(m.value("textlock_refusals_total", { reason: "prefix_velocity" })).toBe(0);
    expect(m.value("textlock_refusals_total", { reason: "daily_budget" })).toBe(0);

    expect(m.types.get("textlock_provider_request_duration_seconds")).toBe("histogram");
    expect(m.value("textlock_provider_request_duration_seconds_count", { provider: "console", outcome: "ok" })).toBe(3);
    expect(m.samples.filter((s) => s.name === "textlock_provider_errors_total")).toEqual([]);

    const http = (route: string, status: string, method = "POST") =>
      m.value("textlock_http_request_duration_seconds_count", { method, route, status });
    expect(http("/passwordless/start", "200")).toBe(3);
    expect(http("/oauth/token", "200")).toBe(1);
    expect(http("/oauth/token", "403")).toBe(1);
    expect(http("/metrics", "401", "GET")).toBe(2);
    // Only the instance's own registry: no prom-client default or global metrics.
    expect(m.samples.every((s) => s.name.startsWith("textlock_"))).toBe(true);
  });
});
