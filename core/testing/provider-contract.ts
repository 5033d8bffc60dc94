import { isProviderError, type ProviderError, type SmsMessage, type SmsProvider } from "../providers/sms-provider.js";
import type { ContractRunner } from "./runner.js";

/** What a provider's test harness gives the conformance suite. */
export interface ProviderHarness {
  provider: SmsProvider;
  /**
   * Messages (and calls) the (fake) vendor accepted, oldest first: the recipient, the text it will show
   * or say (for a WhatsApp template, the template's variables joined, so the code is in it), and, when
   * the vendor tells them apart, the channel it went over (`sms`, `voice`, `whatsapp`).
   */
  delivered(): Promise<DeliveredMessage[]> | DeliveredMessage[];
  /** Secrets the provider was configured with; they must never appear in an error. */
  secrets?: string[];
  /** A number the (fake) vendor refuses as invalid: the provider must report it as `bad_phone`. */
  badNumber?: string;
  /** Fault knobs of the fake vendor, when it has them. */
  faults?: {
    /** The next send gets a vendor 5xx (or equivalent). */
    failNext(): void;
    /** The next send never gets an answer. */
    hangNext(): void;
  };
  close(): Promise<void>;
}

/** One message or call the (fake) vendor accepted. */
export interface DeliveredMessage {
  /** Recipient as the vendor got it (a `whatsapp:` prefix and a leading `+` are ignored). */
  to: string;
  text: string;
  channel?: "sms" | "voice" | "whatsapp";
}

/** @deprecated The older name of {@link ContractRunner}. */
export type TestRunner = Pick<ContractRunner, "describe" | "it" | "expect">;

const message = (to: string, code: string, channel: SmsMessage["channel"] = "sms"): SmsMessage => ({
  to,
  body: `Your verification code is: ${code}`,
  channel,
  code,
  language: "en",
  connection: "sms",
  client: { client_id: "contract", name: "Contract" },
});
const context = (signal = new AbortController().signal) => ({
  signal,
  options: {},
  request: { ip: "203.0.113.7", userAgent: "contract", language: "en" },
});

/** Everything a caller or a log could see of an error. */
const visible = (err: unknown) => {
  const e = err as { message?: unknown; vendorCode?: unknown };
  return JSON.stringify({ m: e?.message, s: String(err), v: e?.vendorCode });
};

/**
 * The provider conformance suite. Every built-in provider passes it against its fake vendor; plugin
 * authors run it against theirs (vitest or jest):
 *
 * ```ts
 * import { describe, it, expect, beforeEach, afterEach } from "vitest";
 * import { runProviderContract } from "textlock/testing";
 * runProviderContract("acme-sms", async () => ({ provider, delivered: () => fake.inbox, close: fake.close }),
 *   { describe, it, expect, beforeEach, afterEach });
 * ```
 *
 * Errors are checked by brand (`isProviderError`), so a plugin built against either module format passes.
 */
export function runProviderContract(name: string, setup: () => Promise<ProviderHarness>, t: TestRunner): void {
  const withHarness = (fn: (h: ProviderHarness) => Promise<void>) => async () => {
    const h = await setup();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };
  const failure = (h: ProviderHarness, msg: SmsMessage, signal?: AbortSignal) =>
    h.provider.send(msg, context(signal)).then(
      () => undefined,
      (e: unknown) => e,
    );

  t.describe(`SMS provider contract: ${name}`, () => {
    t.it(
      "delivers the message, with the code, to the recipient, once",
      withHarness(async (h) => {
        const before = (await h.delivered()).length;
        const result = await h.provider.send(message("+14155550100", "482913"), context());
        t.expect(typeof result.id === "string" && result.id.length > 0).toBe(true);
        const after = (await h.delivered()).slice(before);
        t.expect(after.length).toBe(1);
        t.expect(after[0]!.to.replace(/^\+/, "")).toBe("14155550100");
        t.expect(after[0]!.text).toContain("482913");
      }),
    );

    t.it(
      "has a name and declares its channels",
      withHarness(async (h) => {
        t.expect(typeof h.provider.name === "string" && h.provider.name.length > 0).toBe(true);
        t.expect((h.provider.channels ?? ["sms"]).includes("sms")).toBe(true);
      }),
    );

    t.it(
      "delivers by voice when it declares the voice channel",
      withHarness(async (h) => {
        if (!(h.provider.channels ?? []).includes("voice")) return;
        const before = (await h.delivered()).length;
        const result = await h.provider.send(message("+14155550101", "735102", "voice"), context());
        t.expect(typeof result.id === "string" && result.id.length > 0).toBe(true);
        const after = (await h.delivered()).slice(before);
        t.expect(after.length).toBe(1);
        t.expect(after[0]!.to.replace(/^\+/, "")).toBe("14155550101");
      }),
    );

    t.it(
      "delivers over WhatsApp, with the code, when it declares the whatsapp channel; never as an SMS",
      withHarness(async (h) => {
        if (!(h.provider.channels ?? []).includes("whatsapp")) return;
        const before = (await h.delivered()).length;
        const result = await h.provider.send(message("+14155550102", "590317", "whatsapp"), context());
        t.expect(typeof result.id === "string" && result.id.length > 0).toBe(true);
        const after = (await h.delivered()).slice(before);
        t.expect(after.length).toBe(1);
        t.expect(after[0]!.to.replace(/^whatsapp:/, "").replace(/^\+/, "")).toBe("14155550102");
        t.expect(after[0]!.text).toContain("590317");
        if (after[0]!.channel !== undefined) t.expect(after[0]!.channel).toBe("whatsapp");
      }),
    );

    t.it(
      "reports a WhatsApp vendor failure as a transient ProviderError without secrets or the code",
      withHarness(async (h) => {
        if (!h.faults || !(h.provider.channels ?? []).includes("whatsapp")) return;
        h.faults.failNext();
        const err = await failure(h, message("+14155550102", "333333", "whatsapp"));
        t.expect(isProviderError(err)).toBe(true);
        t.expect((err as ProviderError).kind).toBe("transient");
        for (const secret of [...(h.secrets ?? []), "333333"]) t.expect(visible(err).includes(secret)).toBe(false);
      }),
    );

    t.it(
      "reports a refused number as a bad_phone ProviderError, without the code",
      withHarness(async (h) => {
        if (!h.badNumber) return;
        const err = await failure(h, message(h.badNumber, "604218"));
        t.expect(isProviderError(err)).toBe(true);
        t.expect((err as ProviderError).kind).toBe("bad_phone");
        t.expect(visible(err).includes("604218")).toBe(false);
      }),
    );

    t.it(
      "reports a vendor failure as a transient ProviderError without secrets or the code",
      withHarness(async (h) => {
        if (!h.faults) return;
        h.faults.failNext();
        const err = await failure(h, message("+14155550100", "111111"));
        t.expect(isProviderError(err)).toBe(true);
        t.expect((err as ProviderError).kind).toBe("transient");
        for (const secret of [...(h.secrets ?? []), "111111"]) t.expect(visible(err).includes(secret)).toBe(false);
      }),
    );

    t.it(
      "settles soon after its abort signal fires when the vendor hangs",
      withHarness(async (h) => {
        if (!h.faults) return;
        h.faults.hangNext();
        const started = Date.now();
        const outcome = await h.provider
          .send(message("+14155550100", "222222"), context(AbortSignal.timeout(300)))
          .then(
            () => "sent",
            () => "failed",
          );
        t.expect(outcome).toBe("failed");
        t.expect(Date.now() - started < 3_000).toBe(true);
      }),
      10_000,
    );

    t.it(
      "can be closed twice",
      withHarness(async (h) => {
        await h.provider.close?.();
        await h.provider.close?.();
        t.expect(true).toBe(true);
      }),
    );
  });
}
