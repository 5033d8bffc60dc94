import { describe, expect, it } from "vitest";
import { runCodeOwnerContract } from "../../core/testing/index.js";
import { createTwilioVerifyProvider } from "../../providers/twilio/index.js";
import { startFakeTwilioVerify } from "../fakes/fake-twilio-verify.js";

const runner = { describe, it, expect: expect as never };
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-verify-token-secret-1234";
const SERVICE = "VA0123456789abcdef0123456789abcdef";

async function harness() {
  const fake = await startFakeTwilioVerify({ accountSid: SID, authToken: TOKEN, serviceSid: SERVICE });
  const provider = createTwilioVerifyProvider({
    accountSid: SID,
    authToken: TOKEN,
    serviceSid: SERVICE,
    apiBaseUrl: fake.url,
  });
  return { fake, provider };
}

runCodeOwnerContract(
  "twilio-verify",
  async () => {
    const { fake, provider } = await harness();
    return {
      provider,
      sentCode: (to: string) => fake.verifications.filter((v) => v.to === to).at(-1)?.code,
      badNumber: "+1415",
      secrets: [TOKEN],
      close: fake.close,
    };
  },
  runner,
);

describe("twilio-verify: Verify's own limits as textlock's outcomes", () => {
  const ctx = () => ({ signal: new AbortController().signal, options: {} });
  it("60202 (a 6th check) is `exhausted`; 60203 (a 6th send) a `limited` ProviderError; a Verify outage is transient", async () => {
    const { fake, provider } = await harness();
    try {
      const v = provider.verification!;
      const req = {
        to: "+14155550120",
        channel: "sms" as const,
        language: null,
        codeLength: 6,
        connection: "sms",
        client: { client_id: "c", name: "c" },
      };
      const send = { ...ctx(), request: { language: null } };
      for (let i = 0; i < 5; i++) await v.start(req, send);
      await expect(v.start(req, send)).rejects.toMatchObject({ kind: "limited", vendorCode: 60203 });
      const code = fake.pending(req.to)!.code;
      const wrong = code === "000000" ? "111111" : "000000";
      for (let i = 0; i < 4; i++) expect(await v.check({ to: req.to, code: wrong }, ctx())).toBe("wrong");
      // The 5th wrong check maxes the verification out (Verify deletes it); the right code is then gone.
      expect(await v.check({ to: req.to, code: wrong }, ctx())).toBe("wrong");
      expect(await v.check({ to: req.to, code }, ctx())).toBe("gone");

      const other = { ...req, to: "+14155550121" };
      await v.start(other, send);
      fake.pending(other.to)!.checks = 5;
      expect(await v.check({ to: other.to, code: "123456" }, ctx())).toBe("exhausted");
      fake.script.push({ status: 503 });
      await expect(v.check({ to: other.to, code: "123456" }, ctx())).rejects.toMatchObject({ kind: "transient" });
    } finally {
      await fake.close();
    }
  });
});
