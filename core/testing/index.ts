import { ProviderError, type SmsMessage, type SmsProvider } from "../providers/sms-provider.js";

/** What a provider's test harness gives the conformance suite. */
export interface ProviderHarness {
  provider: SmsProvider;
  /** Messages the (fake) vendor accepted, oldest first: the recipient and the text it will show. */
  delivered(): Promise<Array<{ to: string; text: string }>> | Array<{ to: string; text: string }>;
  /** Secrets the provider was configured with; they must never appear in an error. */
  secrets?: string[];
  /** Fault knobs of the fake vendor, when it has them. */
  faults?: {
    /** The next send gets a vendor 5xx (or equivalent). */
    failNext(): void;
    /** The next send never gets an answer. */
    hangNext(): void;
  };
  close(): Promise<void>;
}

/** The test runner's functions, injected so the suite runs under vitest, jest or node:test. */
export interface TestRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  expect: (value: unknown) => { toBe(v: unknown): void; toBeTruthy(): void; toContain(v: unknown): void; toBeInstanceOf(c: unknown): void; toEqual(v: unknown): void };
}

const message = (to: string, code: string): SmsMessage => ({
  to,
  body: `Your verification code is: ${code}`,
  channel: "sms",
  code,
  language: "en",
  connection: "sms",
  client: { client_id: "contract", name: "Contract" },
});
const context = (signal = new AbortController().signal) => ({ signal, options: {}, request: { ip: "203.0.113.7", userAgent: "contract", language: "en" } });

/**
 * The provider conformance suite. Every built-in provider passes it against its fake vendor; plugin
 * authors run it against theirs:
 *
 * ```ts
 * import { describe, it, expect } from "vitest";
 * import { runProviderContract } from "textlock/testing";
 * runProviderContract("acme-sms", async () => ({ provider: createAcme(...), delivered: () => fake.inbox, close: fake.close }), { describe, it, expect });
 * ```
 */
export function runProviderContract(name: string, setup: () => Promise<ProviderHarness>, t: TestRunner): void {
  t.describe(`SMS provider contract: ${name}`, () => {
    t.it("delivers the message, with the code, to the recipient, once", async () => {
      const h = await setup();
      try {
        const before = (await h.delivered()).length;
        const result = await h.provider.send(message("+14155550100", "482913"), context());
        t.expect(typeof result.id === "string" && result.id.length > 0).toBe(true);
        const after = (await h.delivered()).slice(before);
        t.expect(after.length).toBe(1);
        t.expect(after[0]!.to.replace(/^\+/, "")).toBe("14155550100");
        t.expect(after[0]!.text).toContain("482913");
      } finally {
        await h.close();
      }
    });

    t.it("has a name and declares its channels", async () => {
      const h = await setup();
      try {
        t.expect(typeof h.provider.name === "string" && h.provider.name.length > 0).toBe(true);
        t.expect((h.provider.channels ?? ["sms"]).includes("sms")).toBe(true);
      } finally {
        await h.close();
      }
    });

    t.it("reports a vendor failure as a transient ProviderError without secrets", async () => {
      const h = await setup();
      try {
        if (!h.faults) return;
        h.faults.failNext();
        const err = await h.provider.send(message("+14155550100", "111111"), context()).then(() => undefined, (e: unknown) => e);
        t.expect(err).toBeInstanceOf(ProviderError);
        t.expect((err as ProviderError).kind).toBe("transient");
        for (const secret of h.secrets ?? []) t.expect(JSON.stringify({ m: (err as Error).message, s: String(err) }).includes(secret)).toBe(false);
      } finally {
        await h.close();
      }
    });

    t.it("settles soon after its abort signal fires when the vendor hangs", async () => {
      const h = await setup();
      try {
        if (!h.faults) return;
        h.faults.hangNext();
        const started = Date.now();
        const signal = AbortSignal.timeout(300);
        const outcome = await h.provider.send(message("+14155550100", "222222"), context(signal)).then(() => "sent", () => "failed");
        t.expect(outcome).toBe("failed");
        t.expect(Date.now() - started < 3_000).toBe(true);
      } finally {
        await h.close();
      }
    }, 10_000);
  });
}
