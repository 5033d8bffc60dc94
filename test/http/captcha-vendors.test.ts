import { afterEach, describe, expect, it } from "vitest";
import type { TextlockConfigInput } from "../../core/config/schema.js";
import { isTextlockError } from "../../core/errors/textlock-error.js";
import { type FakeCaptcha, type FakeCaptchaVendor, startFakeCaptcha } from "../fakes/fake-captcha.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

const SECRET = "fake-captcha-secret-0123456789";
const SITE_KEY = "fake-site-key";

type Provider = "turnstile" | "hcaptcha" | "recaptcha_v2" | "recaptcha_v3";
type CaptchaInput = NonNullable<NonNullable<TextlockConfigInput["protection"]>["captcha"]>;

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.map((o) => o.close()));
  open = [];
});

async function setup(
  provider: Provider,
  captchaOptions: Partial<CaptchaInput> = {},
  clock?: () => number,
): Promise<{ tl: TestTextlock; fake: FakeCaptcha }> {
  const vendor: FakeCaptchaVendor = provider.startsWith("recaptcha") ? "recaptcha" : (provider as FakeCaptchaVendor);
  const fake = await startFakeCaptcha(vendor, { secret: SECRET, siteKey: SITE_KEY });
  const tl = await createTestTextlock(
    {
      clients: [{ client_id: "app", name: "App" }],
      connections: [{ name: "sms", enabled_clients: ["app"] }],
      protection: {
        enabled: false,
        captcha: {
          policy: "always",
          provider,
          siteKey: SITE_KEY,
          secret: SECRET,
          verifyUrl: fake.verifyUrl,
          ...captchaOptions,
        },
      },
    },
    clock ? { clock } : {},
  );
  open.push(tl, fake);
  return { tl, fake };
}

const start = (tl: TestTextlock, phone: string, captcha?: string, ip = "203.0.113.7") =>
  tl.api.start(
    { client_id: "app", connection: "sms", phone_number: phone, ...(captcha === undefined ? {} : { captcha }) },
    { ip },
  );

/** The ERR_* code a start is refused with. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isTextlockError(err)) return err.code;
    throw err;
  }
  throw new Error("the start was not refused");
}

describe.each([
  ["turnstile", {}],
  ["hcaptcha", {}],
  ["recaptcha_v2", {}],
  ["recaptcha_v3", { score: 0.9, action: "passwordless_start" }],
] as const)("%s", (provider, claims) => {
  it("a solved token passes, verified server-side with secret, response and remoteip", async () => {
    const { tl, fake } = await setup(provider);
    await start(tl, "+14155550401", fake.issue(claims));
    expect(tl.messages("+14155550401")).toHaveLength(1);
    const asked = fake.requests.at(-1)!;
    expect(asked.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(asked.fields).toMatchObject({ secret: SECRET, remoteip: "203.0.113.7" });
    if (provider === "hcaptcha") expect(asked.fields.sitekey).toBe(SITE_KEY);
  });

  it("a missing, a forged and a replayed token are refused with no SMS", async () => {
    const { tl, fake } = await setup(provider);
    expect(await refusal(start(tl, "+14155550402"))).toBe("ERR_CAPTCHA_REQUIRED");
    expect(await refusal(start(tl, "+14155550402", "forged"))).toBe("ERR_CAPTCHA_INVALID");
    const token = fake.issue(claims);
    await start(tl, "+14155550402", token);
    expect(await refusal(start(tl, "+14155550402", token))).toBe("ERR_CAPTCHA_INVALID");
    expect(tl.messages("+14155550402")).toHaveLength(1);
  });
});

describe("reCAPTCHA v3 score and action", () => {
  it("refuses a score below minScore, the wrong action, and a v2 token (no score)", async () => {
    const { tl, fake } = await setup("recaptcha_v3", { minScore: 0.7, action: "login_sms" });
    expect(await refusal(start(tl, "+14155550410", fake.issue({ score: 0.3, action: "login_sms" })))).toBe(
      "ERR_CAPTCHA_INVALID",
    );
    expect(await refusal(start(tl, "+14155550410", fake.issue({ score: 0.69, action: "login_sms" })))).toBe(
      "ERR_CAPTCHA_INVALID",
    );
    expect(await refusal(start(tl, "+14155550410", fake.issue({ score: 0.9, action: "signup" })))).toBe(
      "ERR_CAPTCHA_INVALID",
    );
    expect(await refusal(start(tl, "+14155550410", fake.issue()))).toBe("ERR_CAPTCHA_INVALID");
    expect(tl.messages("+14155550410")).toHaveLength(0);
    await start(tl, "+14155550410", fake.issue({ score: 0.7, action: "login_sms" }));
    expect(tl.messages("+14155550410")).toHaveLength(1);
  });
});

describe("verifier outage", () => {
  it("fails closed by default: 5xx, timeout, garbage, reset and the vendor's internal-error refuse with no SMS", async () => {
    const { tl, fake } = await setup("turnstile", { timeoutMs: 200 });
    const faults = [
      { status: 500 },
      { hang: true },
      { status: 200, body: "<html>oops</html>" },
      { reset: true },
      { status: 200, body: { success: false, "error-codes": ["internal-error"] } },
    ];
    for (const fault of faults) {
      fake.script.push(fault);
      expect(await refusal(start(tl, "+14155550420", fake.issue()))).toBe("ERR_CAPTCHA_UNAVAILABLE");
    }
    expect(tl.messages("+14155550420")).toHaveLength(0);
    // And it recovers as soon as the vendor answers again.
    await start(tl, "+14155550420", fake.issue());
    expect(tl.messages("+14155550420")).toHaveLength(1);
  });

  it("with failOpen an outage lets the start through, but a refused token still does not pass", async () => {
    const { tl, fake } = await setup("hcaptcha", { timeoutMs: 200, failOpen: true });
    fake.script.push({ status: 503 }, { hang: true });
    await start(tl, "+14155550421", fake.issue());
    await start(tl, "+14155550422", fake.issue());
    expect(tl.messages("+14155550421")).toHaveLength(1);
    expect(tl.messages("+14155550422")).toHaveLength(1);
    expect(await refusal(start(tl, "+14155550423", "forged"))).toBe("ERR_CAPTCHA_INVALID");
    expect(await refusal(start(tl, "+14155550423"))).toBe("ERR_CAPTCHA_REQUIRED");
  });
});

describe("adaptive policy", () => {
  it("asks only once an IP passes its threshold in the window, and forgets after the window", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const { tl, fake } = await setup(
      "turnstile",
      { policy: "adaptive", adaptive: { windowSeconds: 600, perIp: 3, perPrefix: 0, perCountry: 0 } },
      () => now,
    );
    await start(tl, "+14155550431");
    await start(tl, "+14155550432");
    await start(tl, "+14155550433");
    expect(fake.requests).toHaveLength(0);
    expect(await refusal(start(tl, "+14155550434"))).toBe("ERR_CAPTCHA_REQUIRED");
    expect(tl.messages("+14155550434")).toHaveLength(0);
    await start(tl, "+14155550434", fake.issue());
    expect(tl.messages("+14155550434")).toHaveLength(1);
    // Another IP is not asked.
    await start(tl, "+14155550435", undefined, "198.51.100.9");
    // A window later the previous window still weighs in (fully, at its start); two windows later it is forgotten.
    now += 600_000;
    expect(await refusal(start(tl, "+14155550436"))).toBe("ERR_CAPTCHA_REQUIRED");
    now += 1_200_000;
    await start(tl, "+14155550437");
    expect(tl.messages("+14155550437")).toHaveLength(1);
  });

  it("counts number prefixes and countries across IPs", async () => {
    const { tl } = await setup("turnstile", {
      policy: "adaptive",
      adaptive: { perIp: 0, perPrefix: 2, perCountry: 0 },
    });
    await start(tl, "+14155550441", undefined, "198.51.100.1");
    await start(tl, "+14155550442", undefined, "198.51.100.2");
    expect(await refusal(start(tl, "+14155550443", undefined, "198.51.100.3"))).toBe("ERR_CAPTCHA_REQUIRED");
    await start(tl, "+12125550441", undefined, "198.51.100.4");

    const byCountry = await setup("turnstile", {
      policy: "adaptive",
      adaptive: { perIp: 0, perPrefix: 0, perCountry: 1 },
    });
    await start(byCountry.tl, "+33612345678", undefined, "198.51.100.5");
    await start(byCountry.tl, "+14155550444", undefined, "198.51.100.6");
    expect(await refusal(start(byCountry.tl, "+33687654321", undefined, "198.51.100.7"))).toBe("ERR_CAPTCHA_REQUIRED");
  });
});

describe("configuration", () => {
  it("refuses a policy without vendor, site key or secret, and a placeholder secret", async () => {
    await expect(
      createTestTextlock({ clients: [{ client_id: "app", captcha: "always" }], protection: { captcha: {} } }),
    ).rejects.toThrow(
      /protection\.captcha\.provider[\s\S]*protection\.captcha\.siteKey[\s\S]*protection\.captcha\.secret/,
    );
    await expect(
      createTestTextlock({
        protection: { captcha: { policy: "adaptive", provider: "hcaptcha", siteKey: "k", secret: "changeme" } },
      }),
    ).rejects.toThrow(/protection\.captcha\.secret/);
  });
});
