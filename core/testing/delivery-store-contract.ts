import type { DeliveryStore, EscalationPlan } from "../delivery/delivery-store.js";
import type { OtpStore } from "../otp/otp-store.js";
import type { ContractRunner } from "./runner.js";

/**
 * The DeliveryStore contract, run against memory and Redis (each next to its code store, since the
 * Redis one keeps delivery state in the code's own record). Concurrency cases fire real parallel calls.
 */
export function runDeliveryStoreContract(
  name: string,
  create: () => Promise<{ codes: OtpStore; deliveries: DeliveryStore; close(): Promise<void> }>,
  t: ContractRunner,
): void {
  const { describe, it, expect, beforeEach, afterEach } = t;
  describe(`DeliveryStore contract: ${name}`, () => {
    let stores: Awaited<ReturnType<typeof create>>;
    let n = 0;
    let key: string;
    const now = Date.now();
    const plan = (over: Partial<EscalationPlan> = {}): EscalationPlan => ({
      clientId: "app",
      language: "en",
      channels: ["whatsapp", "voice"],
      step: 0,
      dueAt: now + 10_000,
      ...over,
    });
    const issue = async (codeId: string) => {
      await stores.codes.issue(key, { codeId, hash: "aGFzaA", expiresAt: now + 60_000, maxAttempts: 3 });
      return { codeId, expiresAt: now + 60_000 };
    };
    const sent = (messageId: string, channel = "sms") => ({ provider: "twilio", messageId, channel, sentAt: now });

    beforeEach(async () => {
      stores = await create();
      key = `sms:+1415666${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}${n++}`;
    });
    afterEach(async () => stores.close());

    it("records sends with the code and moves a message's status forward only", async () => {
      const code = await issue("c1");
      expect(await stores.deliveries.recordSend(key, code, sent(`SM${key}1`))).toBe(true);
      const at = now + 1_500;
      const sentUpdate = await stores.deliveries.recordReceipt({
        provider: "twilio",
        messageId: `SM${key}1`,
        status: "sent",
        at,
      });
      expect(sentUpdate).toMatchObject({ key, codeId: "c1", previous: "queued", message: { status: "sent" } });
      const delivered = await stores.deliveries.recordReceipt({
        provider: "twilio",
        messageId: `SM${key}1`,
        status: "delivered",
        at: at + 1,
      });
      expect(delivered).toMatchObject({ previous: "sent", message: { status: "delivered", updatedAt: at + 1 } });
      const late = await stores.deliveries.recordReceipt({
        provider: "twilio",
        messageId: `SM${key}1`,
        status: "sent",
        at: at + 2,
      });
      expect(late).toMatchObject({ previous: "delivered", message: { status: "delivered" } });
      expect(
        await stores.deliveries.recordReceipt({ provider: "twilio", messageId: "unknown", status: "sent", at }),
      ).toBe(undefined);
      expect(
        await stores.deliveries.recordReceipt({ provider: "vonage", messageId: `SM${key}1`, status: "sent", at }),
      ).toBe(undefined);
      const state = await stores.deliveries.state(key);
      expect(state?.codeId).toBe("c1");
      expect(state?.messages.map((m) => [m.messageId, m.status])).toEqual([[`SM${key}1`, "delivered"]]);
    });

    it("a new code for the phone starts a clean record", async () => {
      await stores.deliveries.recordSend(key, await issue("c1"), sent(`SM${key}a`), plan());
      await stores.deliveries.recordSend(key, await issue("c2"), sent(`SM${key}b`));
      const state = await stores.deliveries.state(key);
      expect(state?.codeId).toBe("c2");
      expect(state?.messages.map((m) => m.messageId)).toEqual([`SM${key}b`]);
      expect(state?.escalation).toBe(undefined);
      expect(
        await stores.deliveries.recordReceipt({
          provider: "twilio",
          messageId: `SM${key}a`,
          status: "failed",
          at: now,
        }),
      ).toBe(undefined);
    });

    it("lists due escalations and lets exactly one of 50 concurrent callers take a step", async () => {
      const code = await issue("c1");
      await stores.deliveries.recordSend(key, code, sent(`SM${key}e`), plan({ dueAt: now + 1_000 }));
      expect(await stores.deliveries.dueEscalations(now, 1_000)).not.toContain(key);
      expect(await stores.deliveries.dueEscalations(now + 1_000, 1_000)).toContain(key);
      const wins = await Promise.all(
        Array.from({ length: 50 }, () =>
          stores.deliveries.advanceEscalation(key, "c1", 0, { step: 1, dueAt: now + 5_000 }),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await stores.deliveries.state(key))?.escalation).toMatchObject({ step: 1, dueAt: now + 5_000 });
      expect(await stores.deliveries.dueEscalations(now + 1_000, 1_000)).not.toContain(key);
      expect(await stores.deliveries.advanceEscalation(key, "other-code", 1, null)).toBe(false);
      expect(await stores.deliveries.advanceEscalation(key, "c1", 1, null)).toBe(true);
      expect((await stores.deliveries.state(key))?.escalation?.step).toBe(2);
      expect(await stores.deliveries.dueEscalations(now + 60_000, 1_000)).not.toContain(key);
    });
  });
}
