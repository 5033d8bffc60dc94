import { afterEach, describe, expect, it } from "vitest";
import type { HookFunctions, PreSendEvent } from "../../core/hooks/index.js";
import { MemoryOtpStore } from "../../core/otp/memory-otp-store.js";
import type { PendingCode } from "../../core/otp/otp-store.js";
import { startFakeServer } from "../fakes/fake-server.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { wire } from "../helpers/hook-login.js";

const REFUSED = { error: "access_denied", error_description: "The request was refused." };
const example = new URL("../../docs/examples/hooks/pre-send.js", import.meta.url).pathname;
const script = new URL("./pre-send/deny-by-number.js", import.meta.url).pathname;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A memory code store that counts codes issued: a refused send must never store one. */
class CountingOtpStore extends MemoryOtpStore {
  issued = 0;
  override async issue(key: string, code: PendingCode): Promise<void> {
    this.issued++;
    return super.issue(key, code);
  }
}

async function make(config: Record<string, unknown>) {
  const codes = new CountingOtpStore();
  const tl = await createTestTextlock(config, { otpStore: codes });
  cleanup.push(() => tl.close());
  const refusedEvents: string[] = [];
  tl.events.on("request.refused", (e) => refusedEvents.push(e.reason));
  return { tl, codes, refusedEvents };
}

const request = { ip: "203.0.113.7", userAgent: "RiskTest/1.0", acceptLanguage: "fr-FR" };
const start = async (tl: TestTextlock, phone: string) => {
  const { status, body } = await wire(
    tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone }, request),
  );
  return { status, body };
};

describe("pre-send risk trigger", () => {
  it("a function sees the phone, request, client and connection; its deny refuses with no code and no SMS", async () => {
    const seen: PreSendEvent[] = [];
    const functions: HookFunctions = {
      "pre-send": (event, api) => {
        seen.push(event);
        if (event.phone.number.endsWith("0666")) api.access.deny("known fraud range");
      },
    };
    const { tl, codes, refusedEvents } = await make({ hooks: { functions } });

    expect(await start(tl, "+14155550666")).toEqual({ status: 403, body: REFUSED });
    expect(tl.messages()).toHaveLength(0);
    expect(codes.issued).toBe(0);
    expect(tl.metrics.refusals().risk).toBe(1);
    expect(refusedEvents).toEqual(["risk"]);
    expect(seen[0]).toMatchObject({
      phone: { number: "+14155550666", country: "US" },
      channel: "sms",
      request: { ip: "203.0.113.7", user_agent: "RiskTest/1.0", language: "fr-FR" },
      client: { client_id: "textlock-dev" },
      connection: { name: "sms", strategy: "sms" },
    });
    expect(typeof seen[0]!.phone.line_type).toBe("string");

    expect((await start(tl, "+14155550120")).status).toBe(200);
    expect(tl.messages("+14155550120")).toHaveLength(1);
    expect(codes.issued).toBe(1);
  });

  it("a sandboxed script's deny refuses the send; the reason reaches the log only", async () => {
    const { tl, codes } = await make({ hooks: { scripts: { "pre-send": script } } });
    expect(await start(tl, "+14155550666")).toEqual({ status: 403, body: REFUSED });
    expect(codes.issued).toBe(0);
    expect(tl.messages()).toHaveLength(0);
    expect((await start(tl, "+14155550120")).status).toBe(200);
    expect(tl.messages()).toHaveLength(1);
  });

  it("a throwing, looping, memory-bombing or escaping script refuses the send (fail closed)", async () => {
    const { tl, codes } = await make({ hooks: { scripts: { "pre-send": script }, timeoutMs: 300 } });
    for (const phone of ["+14155550777", "+14155550888", "+14155550999", "+14155550555"])
      expect(await start(tl, phone), phone).toEqual({ status: 403, body: REFUSED });
    expect(codes.issued).toBe(0);
    expect(tl.messages()).toHaveLength(0);
    expect(tl.metrics.refusals().risk).toBe(4);
    // The process survived the escape attempt and still serves.
    expect((await start(tl, "+14155550120")).status).toBe(200);
  });

  it("with hooks.failOpen['pre-send'] a throwing or looping script lets the send proceed; a deny still refuses", async () => {
    const { tl } = await make({
      hooks: { scripts: { "pre-send": script }, timeoutMs: 300, failOpen: { "pre-send": true } },
    });
    expect((await start(tl, "+14155550777")).status).toBe(200);
    expect((await start(tl, "+14155550888")).status).toBe(200);
    expect(tl.messages()).toHaveLength(2);
    expect((await start(tl, "+14155550666")).status).toBe(403);
  });

  it("a throwing function refuses; with fail-open it does not", async () => {
    const functions: HookFunctions = {
      "pre-send": () => {
        throw new Error("no risk service");
      },
    };
    const closed = await make({ hooks: { functions } });
    expect(await start(closed.tl, "+14155550120")).toEqual({ status: 403, body: REFUSED });
    expect(closed.codes.issued).toBe(0);
    const open = await make({ hooks: { functions, failOpen: { "pre-send": true } } });
    expect((await start(open.tl, "+14155550120")).status).toBe(200);
    expect(open.tl.messages()).toHaveLength(1);
  });

  it("the documented example: the risk API's block refuses, its outage fails closed, its allow sends", async () => {
    const api = await startFakeServer((req) => ({
      status: 200,
      body: { verdict: (req.fields as { phone: string }).phone.endsWith("0666") ? "block" : "allow" },
    }));
    cleanup.push(() => api.close());
    const { tl, codes } = await make({
      hooks: {
        scripts: { "pre-send": example },
        secrets: { RISK_API_URL: `${api.url}/check`, RISK_API_KEY: "k-9f8e7d6c5b4a" },
        allowedHosts: [new URL(api.url).host],
      },
    });
    expect(await start(tl, "+14155550666")).toEqual({ status: 403, body: REFUSED });
    expect((await start(tl, "+14155550120")).status).toBe(200);
    api.script.push({ status: 503 });
    expect(await start(tl, "+14155550121")).toEqual({ status: 403, body: REFUSED });
    expect(codes.issued).toBe(1);
    expect(api.requests[0]!.fields).toEqual({
      phone: "+14155550666",
      ip: "203.0.113.7",
      user_agent: "RiskTest/1.0",
    });
    expect(api.requests[0]!.headers.authorization).toBe("Bearer k-9f8e7d6c5b4a");
  });
});
