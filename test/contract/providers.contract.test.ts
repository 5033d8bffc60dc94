import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runProviderContract } from "../../core/testing/index.js";
import { createConsoleProvider } from "../../providers/console/index.js";
import { createSmsGatewayProvider } from "../../providers/sms-gateway/index.js";
import { createTwilioProvider } from "../../providers/twilio/index.js";
import { createVonageProvider } from "../../providers/vonage/index.js";
import { startFakeSmsGateway } from "../fakes/fake-sms-gateway.js";
import { startFakeTwilio } from "../fakes/fake-twilio.js";
import { startFakeVonage } from "../fakes/fake-vonage.js";
import { startFakeVonageMessages } from "../fakes/fake-vonage-messages.js";

const runner = { describe, it, expect: expect as never };
const BAD = "+15005550001";
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-auth-token-secret-1234";

runProviderContract(
  "console",
  async () => {
    const outboxFile = join(mkdtempSync(join(tmpdir(), "textlock-contract-")), "outbox.jsonl");
    const read = () => {
      try {
        return readFileSync(outboxFile, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .map((m) => ({ to: m.to, text: m.body }));
      } catch {
        return [];
      }
    };
    return { provider: createConsoleProvider({ outboxFile, stream: null }), delivered: read, close: async () => {} };
  },
  runner,
);

runProviderContract(
  "twilio",
  async () => {
    const fake = await startFakeTwilio({ accountSid: SID, authToken: TOKEN, invalidNumbers: [BAD] });
    return {
      provider: createTwilioProvider({
        accountSid: SID,
        authToken: TOKEN,
        from: "+15005550006",
        apiBaseUrl: fake.url,
        whatsappContentSid: "HX0123456789abcdef0123456789abcdef",
      }),
      delivered: () =>
        fake.accepted.map((m) => ({
          to: m.to,
          channel: m.kind,
          text: m.body ?? Object.values(JSON.parse(m.contentVariables ?? "{}")).join(" "),
        })),
      secrets: [TOKEN],
      badNumber: BAD,
      faults: { failNext: () => fake.script.push({ status: 503 }), hangNext: () => fake.script.push({ hang: true }) },
      close: fake.close,
    };
  },
  runner,
);

runProviderContract(
  "vonage",
  async () => {
    const fake = await startFakeVonage({
      apiKey: "vkey",
      apiSecret: "vonage-secret-987",
      statusFor: { [BAD.slice(1)]: "3" },
    });
    const messages = await startFakeVonageMessages({ apiKey: "vkey", apiSecret: "vonage-secret-987" });
    return {
      provider: createVonageProvider({
        apiKey: "vkey",
        apiSecret: "vonage-secret-987",
        from: "Textlock",
        restHost: fake.url,
        whatsapp: { from: "447700900001", template: "login_code", locale: "en", apiHost: messages.url },
      }),
      // Each case sends one message, so the SMS records followed by the WhatsApp ones keep "the newest" last.
      delivered: () => [
        ...fake.accepted.map((m) => ({ to: m.to, text: m.text, channel: "sms" as const })),
        ...messages.accepted.map((m) => ({ to: m.to, text: m.parameters.join(" "), channel: "whatsapp" as const })),
      ],
      secrets: ["vonage-secret-987"],
      badNumber: BAD,
      faults: {
        failNext: () => {
          fake.script.push({ status: 503 });
          messages.script.push({ status: 503 });
        },
        hangNext: () => {
          fake.script.push({ hang: true });
          messages.script.push({ hang: true });
        },
      },
      close: async () => {
        await fake.close();
        await messages.close();
      },
    };
  },
  runner,
);

runProviderContract(
  "sms_gateway",
  async () => {
    const fake = await startFakeSmsGateway();
    return {
      provider: createSmsGatewayProvider({
        url: `${fake.url}/send`,
        from: "+15550001",
        authentication: { audience: "urn:gw", secret: "gateway-secret-555" },
      }),
      delivered: () => fake.accepted.map((m) => ({ to: m.recipient, text: m.body })),
      secrets: ["gateway-secret-555"],
      faults: { failNext: () => fake.script.push({ status: 503 }), hangNext: () => fake.script.push({ hang: true }) },
      close: fake.close,
    };
  },
  runner,
);
