import { isProviderError, type ProviderError, type SmsProvider } from "../providers/sms-provider.js";
import type { VerificationRequest } from "../providers/verification.js";
import type { TestRunner } from "./provider-contract.js";

/** What the harness of a provider that owns the code (Twilio Verify) gives the conformance suite. */
export interface CodeOwnerHarness {
  provider: SmsProvider;
  /** The code the (fake) vendor last sent to `to`, as the person would read it. */
  sentCode(to: string): Promise<string | undefined> | string | undefined;
  /** A number the (fake) vendor refuses: the provider must report it as `bad_phone`. */
  badNumber?: string;
  /** Secrets the provider was configured with; they must never appear in an error. */
  secrets?: string[];
  close(): Promise<void>;
}

const request = (to: string): VerificationRequest => ({
  to,
  channel: "sms",
  language: "en",
  codeLength: 6,
  connection: "sms",
  client: { client_id: "contract", name: "Contract" },
});
const context = () => ({
  signal: new AbortController().signal,
  options: {},
  request: { ip: "203.0.113.7", userAgent: "contract", language: "en" },
});

/**
 * The conformance suite of providers whose vendor makes and checks the code
 * (`provider.verification`): the vendor sends a code, the right code is `approved` once and is then
 * `gone`, a wrong code is `wrong`, a refused number is a `bad_phone` {@link ProviderError}. textlock
 * applies its own attempt cap and single use on top; this suite checks only the vendor mapping.
 */
export function runCodeOwnerContract(name: string, setup: () => Promise<CodeOwnerHarness>, t: TestRunner): void {
  const withHarness = (fn: (h: CodeOwnerHarness) => Promise<void>) => async () => {
    const h = await setup();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };
  t.describe(`code-owning provider contract: ${name}`, () => {
    t.it(
      "has a verification part; a started verification delivers a code that checks once",
      withHarness(async (h) => {
        const v = h.provider.verification;
        t.expect(typeof v?.start === "function" && typeof v?.check === "function").toBe(true);
        const started = await v!.start(request("+14155550110"), context());
        t.expect(typeof started.id === "string" && started.id.length > 0).toBe(true);
        const code = await h.sentCode("+14155550110");
        t.expect(typeof code === "string" && /^[0-9]{4,10}$/.test(code)).toBe(true);
        const wrong = code === "000000" ? "111111" : "000000";
        t.expect(await v!.check({ to: "+14155550110", code: wrong }, context())).toBe("wrong");
        t.expect(await v!.check({ to: "+14155550110", code: code! }, context())).toBe("approved");
        t.expect(await v!.check({ to: "+14155550110", code: code! }, context())).toBe("gone");
      }),
    );

    t.it(
      "reports a refused number as a bad_phone ProviderError without secrets",
      withHarness(async (h) => {
        if (!h.badNumber) return;
        const err = await h.provider.verification!.start(request(h.badNumber), context()).then(
          () => undefined,
          (e: unknown) => e,
        );
        t.expect(isProviderError(err)).toBe(true);
        t.expect((err as ProviderError).kind).toBe("bad_phone");
        const visible = JSON.stringify({ m: (err as Error).message, s: String(err) });
        for (const secret of h.secrets ?? []) t.expect(visible.includes(secret)).toBe(false);
      }),
    );
  });
}
