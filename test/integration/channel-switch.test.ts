import { describe, expect, inject, it } from "vitest";
import type { TextlockConfigInput } from "../../core/config/schema.js";
import { toWireError } from "../../core/errors/to-wire-error.js";
import { createTestTextlock } from "../helpers/create-test-textlock.js";

const redisUrl = inject("redisUrl");

// Two textlock instances sharing one Redis (as two processes behind a load balancer): a channel switch
// through the second re-sends the code the first issued, and the attempts are shared across both.
describe.skipIf(!redisUrl)("channel switch across instances on Redis", () => {
  const config = (namespace: string): TextlockConfigInput => ({
    store: { type: "redis", url: redisUrl!, namespace, commandTimeoutMs: 1_000 },
    clients: [{ client_id: "app" }],
    connections: [{ name: "sms", enabled_clients: ["app"], options: { channels: ["sms", "voice", "whatsapp"] } }],
  });
  const codeIn = (body: string) => body.match(/\d{6}/)![0];
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  const failure = async (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err) => toWireError(err).body.error_description,
    );

  it("B sends A's code by voice and WhatsApp; 3 wrong codes over A and B kill it; a third switch sends nothing", async () => {
    const namespace = `switch-${process.pid}-${Date.now()}`;
    const a = await createTestTextlock(config(namespace));
    const b = await createTestTextlock(config(namespace));
    try {
      const phone = "+14155557321";
      const start = (tl: typeof a, delivery_method?: string) =>
        tl.api.start({
          client_id: "app",
          connection: "sms",
          phone_number: phone,
          ...(delivery_method ? { delivery_method } : {}),
        });
      const verify = (tl: typeof a, otp: string) =>
        tl.api.verify({ client_id: "app", realm: "sms", username: phone, otp });

      await start(a);
      const code = codeIn(a.messages(phone)[0]!.body);
      expect(await failure(verify(a, wrong(code)))).toBe("Wrong phone number or verification code.");
      await start(b, "voice");
      expect(b.messages(phone)[0]).toMatchObject({ channel: "voice" });
      expect(codeIn(b.messages(phone)[0]!.body)).toBe(code);
      expect(await failure(verify(b, wrong(code)))).toBe("Wrong phone number or verification code.");
      // 20 concurrent WhatsApp switches through both instances: one message.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).api.resendLiveCode({ connection: "sms", phone_number: phone, channel: "whatsapp" }),
        ),
      );
      expect(results.filter((r) => r.status === "sent")).toHaveLength(1);
      const whatsapp = [...a.messages(phone), ...b.messages(phone)].filter((m) => m.channel === "whatsapp");
      expect(whatsapp).toHaveLength(1);
      expect(codeIn(whatsapp[0]!.body)).toBe(code);
      expect(await failure(verify(a, wrong(code)))).toBe("Wrong phone number or verification code.");
      expect(await failure(verify(b, code))).toBe(
        "You've reached the maximum number of attempts. Please try to login again.",
      );
      expect(await b.api.resendLiveCode({ connection: "sms", phone_number: phone, channel: "voice" })).toEqual({
        status: "no_live_code",
        channel: "voice",
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
