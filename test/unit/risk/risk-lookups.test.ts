import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";
import type { PendingCode } from "../../../core/otp/otp-store.js";
import { simSwappedRecently } from "../../../providers/twilio/lookup-risk.js";
import { startFakeTwilioLookup } from "../../fakes/fake-twilio-lookup.js";
import { startFakeVonageInsight } from "../../fakes/fake-vonage-insight.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";
import { wire } from "../../helpers/hook-login.js";

const ACCOUNT_SID = `AC${randomBytes(16).toString("hex")}`;
const AUTH_TOKEN = randomBytes(16).toString("hex");
const REFUSED = { error: "access_denied", error_description: "The request was refused." };
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

class CountingOtpStore extends MemoryOtpStore {
  issued = 0;
  override async issue(key: string, code: PendingCode): Promise<void> {
    this.issued++;
    return super.issue(key, code);
  }
}

async function make(risk: Record<string, unknown>) {
  const codes = new CountingOtpStore();
  const tl = await createTestTextlock({ risk }, { otpStore: codes });
  cleanup.push(() => tl.close());
  return { tl, codes };
}

const start = async (tl: TestTextlock, phone: string) => {
  const { status, body } = await wire(
    tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone }),
  );
  return { status, body };
};

async function twilioFake(numbers: Parameters<typeof startFakeTwilioLookup>[0]["numbers"] = {}) {
  const fake = await startFakeTwilioLookup({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers });
  cleanup.push(() => fake.close());
  return fake;
}
const twilioRisk = (url: string, extra: Record<string, unknown> = {}) => ({
  twilioLookup: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, baseUrl: url, simSwapMaxAgeHours: 24, ...extra },
});

describe("Twilio Lookup v2 risk checker (real twilio SDK, loopback fake)", () => {
  it("refuses a SIM-swapped number with no code stored and no SMS; a number without a recent swap is sent", async () => {
    const fake = await twilioFake();
    const { tl, codes } = await make(twilioRisk(fake.url));
    expect(await start(tl, "+12345678901")).toEqual({ status: 403, body: REFUSED });
    expect(codes.issued).toBe(0);
    expect(tl.messages()).toHaveLength(0);
    expect(tl.metrics.refusals().risk).toBe(1);

    expect((await start(tl, "+12345678900")).status).toBe(200);
    expect(tl.messages("+12345678900")).toHaveLength(1);
    const [lookup] = fake.lookups();
    expect(lookup!.path).toBe("/v2/PhoneNumbers/+12345678901");
    expect(lookup!.query.Fields!.split(",").sort()).toEqual(["line_type_intelligence", "sim_swap"]);
    expect(lookup!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`,
    );
  });

  it("refuses by the SIM swap date against simSwapMaxAgeHours", async () => {
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const fake = await twilioFake({
      "+14155550101": { lastSimSwap: { last_sim_swap_date: hoursAgo(2), swapped_period: "PT24H" } },
      "+14155550102": { lastSimSwap: { last_sim_swap_date: hoursAgo(30), swapped_period: "PT48H" } },
      "+14155550103": { lastSimSwap: null },
    });
    const { tl } = await make(twilioRisk(fake.url));
    expect((await start(tl, "+14155550101")).status).toBe(403);
    expect((await start(tl, "+14155550102")).status).toBe(200);
    expect((await start(tl, "+14155550103")).status).toBe(200);
    expect(simSwappedRecently({ last_sim_swap_date: hoursAgo(30) }, 48, Date.now())).toBe(true);
  });

  it("refuses the configured line types (line type intelligence), even where libphonenumber says mobile-or-fixed", async () => {
    const fake = await twilioFake({
      "+14155550104": { lineType: "nonFixedVoip" },
      "+14155550105": { lineType: "landline" },
    });
    const { tl, codes } = await make(twilioRisk(fake.url, { refuseLineTypes: ["nonFixedVoip"] }));
    expect((await start(tl, "+14155550104")).status).toBe(403);
    expect((await start(tl, "+14155550105")).status).toBe(200);
    expect(codes.issued).toBe(1);
  });

  it("caches an answer for cacheTtlSeconds: a second send to the number makes no second lookup", async () => {
    const fake = await twilioFake();
    const { tl } = await make(twilioRisk(fake.url));
    expect((await start(tl, "+12345678900")).status).toBe(200);
    expect((await start(tl, "+12345678900")).status).toBe(200);
    expect((await start(tl, "+12345678901")).status).toBe(403);
    expect((await start(tl, "+12345678901")).status).toBe(403);
    expect(fake.lookups()).toHaveLength(2);

    const uncached = await twilioFake();
    const other = await make(twilioRisk(uncached.url, { cacheTtlSeconds: 0 }));
    await start(other.tl, "+12345678900");
    await start(other.tl, "+12345678900");
    expect(uncached.lookups()).toHaveLength(2);
  });

  it("fails closed when the lookup hangs past its timeout; risk.failOpen sends anyway; a failure is not cached", async () => {
    const fake = await twilioFake();
    fake.always = { hang: true };
    const { tl, codes } = await make(twilioRisk(fake.url, { timeoutMs: 300 }));
    const began = Date.now();
    expect(await start(tl, "+12345678900")).toEqual({ status: 403, body: REFUSED });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(codes.issued).toBe(0);
    expect(tl.messages()).toHaveLength(0);
    fake.always = undefined;
    expect((await start(tl, "+12345678900")).status).toBe(200);

    const hanging = await twilioFake();
    hanging.always = { hang: true };
    const open = await make({ ...twilioRisk(hanging.url, { timeoutMs: 300 }), failOpen: true });
    expect((await start(open.tl, "+12345678900")).status).toBe(200);
    expect(open.tl.messages()).toHaveLength(1);
  });

  it("a vendor error (503) fails closed and is not cached", async () => {
    const fake = await twilioFake();
    fake.script.push({ status: 503 });
    const { tl } = await make(twilioRisk(fake.url));
    expect((await start(tl, "+12345678900")).status).toBe(403);
    expect((await start(tl, "+12345678900")).status).toBe(200);
  });
});

describe("Vonage Number Insight v2 risk checker (loopback fake)", () => {
  it("refuses a swapped SIM and a 'block' recommendation; allows the rest; asks once per number (cache)", async () => {
    const creds = { apiKey: "a1b2c3d4", apiSecret: randomBytes(12).toString("hex") };
    const fake = await startFakeVonageInsight({
      ...creds,
      numbers: { "14155550111": { swapped: true }, "14155550112": { recommendation: "block" } },
    });
    cleanup.push(() => fake.close());
    const { tl, codes } = await make({ vonage: { ...creds, baseUrl: fake.url } });
    expect((await start(tl, "+14155550111")).status).toBe(403);
    expect((await start(tl, "+14155550112")).status).toBe(403);
    expect((await start(tl, "+14155550113")).status).toBe(200);
    expect((await start(tl, "+14155550113")).status).toBe(200);
    expect(codes.issued).toBe(2);
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[0]!.fields).toEqual({
      type: "phone",
      phone: "14155550111",
      insights: ["fraud_score", "sim_swap"],
    });
  });

  it("fails closed on a hanging or failing insight", async () => {
    const creds = { apiKey: "a1b2c3d4", apiSecret: randomBytes(12).toString("hex") };
    const fake = await startFakeVonageInsight(creds);
    cleanup.push(() => fake.close());
    const { tl } = await make({ vonage: { ...creds, baseUrl: fake.url, timeoutMs: 300 } });
    fake.script.push({ hang: true }, { status: 500 });
    expect((await start(tl, "+14155550113")).status).toBe(403);
    expect((await start(tl, "+14155550113")).status).toBe(403);
    expect((await start(tl, "+14155550113")).status).toBe(200);
  });
});
