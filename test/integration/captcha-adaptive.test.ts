import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { isTextlockError } from "../../core/errors/textlock-error.js";
import { type FakeCaptcha, startFakeCaptcha } from "../fakes/fake-captcha.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const redisUrl = inject("redisUrl");
const SECRET = "recaptcha-fake-secret-0123456789";

// Adaptive bot checks count starts in the rate-limit backend: two instances on one Redis share the counts.
describe.skipIf(!redisUrl)("adaptive bot check across processes (Redis)", () => {
  let fake: FakeCaptcha;
  let a: TestTextlock;
  let b: TestTextlock;

  beforeAll(async () => {
    fake = await startFakeCaptcha("recaptcha", { secret: SECRET, siteKey: "site" });
    const config = {
      store: { type: "redis" as const, url: redisUrl!, namespace: `captcha-${process.pid}-${Date.now()}` },
      clients: [{ client_id: "app" }],
      connections: [{ name: "sms", enabled_clients: ["app"] }],
      protection: {
        enabled: false,
        captcha: {
          policy: "adaptive" as const,
          provider: "recaptcha_v2" as const,
          siteKey: "site",
          secret: SECRET,
          verifyUrl: fake.verifyUrl,
          adaptive: { perIp: 2, perPrefix: 0, perCountry: 0 },
        },
      },
    };
    [a, b] = await Promise.all([createTestTextlock(config), createTestTextlock(config)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), fake?.close()]);
  });

  const start = (tl: TestTextlock, phone: string, captcha?: string) =>
    tl.api.start(
      { client_id: "app", connection: "sms", phone_number: phone, ...(captcha ? { captcha } : {}) },
      { ip: "192.0.2.44" },
    );

  it("a start counted on one instance counts on the other", async () => {
    await start(a, "+14155550701");
    await start(b, "+14155550702");
    const refused = await start(a, "+14155550703").catch((err: unknown) => err);
    expect(isTextlockError(refused) && refused.code).toBe("ERR_CAPTCHA_REQUIRED");
    const refusedOnB = await start(b, "+14155550703").catch((err: unknown) => err);
    expect(isTextlockError(refusedOnB) && refusedOnB.code).toBe("ERR_CAPTCHA_REQUIRED");
    await start(b, "+14155550703", fake.issue());
    expect(b.messages("+14155550703")).toHaveLength(1);
  });
});
