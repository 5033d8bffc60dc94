import { afterEach, describe, expect, it } from "vitest";
import type { TextlockConfigInput } from "../../../core/config/schema.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";
import type { PendingCode } from "../../../core/otp/otp-store.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const PHONE = "+14155550177";
const CLIENT = "textlock-dev";
let tl: TestTextlock;
afterEach(async () => tl?.close());

const channels = (extra: Record<string, unknown> = {}): TextlockConfigInput => ({
  clients: [{ client_id: CLIENT }],
  connections: [
    {
      name: "sms",
      enabled_clients: [CLIENT],
      options: { delivery: "text", channels: ["sms", "voice", "whatsapp"], ...extra },
    },
  ],
});
const start = (delivery_method?: string, phone = PHONE) =>
  tl.api.start({
    client_id: CLIENT,
    connection: "sms",
    phone_number: phone,
    send: "code",
    ...(delivery_method === undefined ? {} : { delivery_method }),
  });
const verify = (otp: string, phone = PHONE) => tl.api.verify({ client_id: CLIENT, realm: "sms", username: phone, otp });
async function wire(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const { status, body } = toWireError(err);
    return { status, ...body };
  }
  throw new Error("expected the call to fail");
}
const wrongCode = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");
const codeIn = (body: string) => body.match(/\d{6}/)![0];

/** A memory code store that remembers what it was asked to keep. */
class RecordingStore extends MemoryOtpStore {
  issued: PendingCode[] = [];
  override async issue(key: string, code: PendingCode) {
    this.issued.push(code);
    return super.issue(key, code);
  }
}

describe("channel per request", () => {
  it("keeps a sealed copy of a code only when another channel could re-send it", async () => {
    const single = new RecordingStore();
    tl = await createTestTextlock(
      { clients: [{ client_id: CLIENT }], connections: [{ name: "sms", enabled_clients: [CLIENT] }] },
      { otpStore: single },
    );
    await start();
    expect(single.issued).toHaveLength(1);
    expect(single.issued[0]!.sealed).toBeUndefined();
    expect(await wire(start("voice"))).toMatchObject({ status: 400 });
    await tl.close();

    const several = new RecordingStore();
    tl = await createTestTextlock(channels(), { otpStore: several });
    await start();
    expect(several.issued[0]!.sealed).toEqual(expect.any(String));
    // Sealed, never the code in the clear.
    expect(several.issued[0]!.sealed).not.toContain(codeIn(tl.messages(PHONE).at(-1)!.body));
  });

  it("a switch re-sends the same live code over the new channel; a second start on a used channel is a new code", async () => {
    tl = await createTestTextlock(channels());
    await start();
    const first = tl.messages(PHONE).at(-1)!;
    expect(first.channel).toBe("sms");
    await start("voice");
    await start("whatsapp");
    const [sms, voice, whatsapp] = tl.messages(PHONE);
    expect([voice!.channel, whatsapp!.channel]).toEqual(["voice", "whatsapp"]);
    expect(codeIn(voice!.body)).toBe(codeIn(sms!.body));
    expect(codeIn(whatsapp!.body)).toBe(codeIn(sms!.body));
    // Back to a channel the code already went over: a resend, so a new code (Auth0's /start).
    await start("text");
    const fresh = codeIn(tl.messages(PHONE).at(-1)!.body);
    expect(await wire(verify(codeIn(sms!.body)))).toMatchObject({ status: 403, error: "invalid_grant" });
    await expect(verify(fresh)).resolves.toMatchObject({ created: true });
  });

  it("switching channel does not reset attempts: 3 wrong codes across two channels kill the code", async () => {
    tl = await createTestTextlock(channels());
    await start();
    const code = codeIn(tl.messages(PHONE).at(-1)!.body);
    expect(await wire(verify(wrongCode(code)))).toMatchObject({ status: 403 });
    expect(await wire(verify(wrongCode(code)))).toMatchObject({ status: 403 });
    await start("voice");
    expect(codeIn(tl.messages(PHONE).at(-1)!.body)).toBe(code);
    expect(await wire(verify(wrongCode(code)))).toMatchObject({
      error_description: "Wrong phone number or verification code.",
    });
    expect(await wire(verify(code))).toMatchObject({
      status: 403,
      error_description: "You've reached the maximum number of attempts. Please try to login again.",
    });
  });

  it("resendLiveCode sends each channel once, counts against the per-phone send limit, and says why when it sends nothing", async () => {
    tl = await createTestTextlock({
      ...channels(),
      protection: { enabled: true, perPhone: { points: 2, seconds: 3600 }, resendCooldownSeconds: 0 },
    });
    expect(await tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "voice" })).toEqual({
      status: "no_live_code",
      channel: "voice",
    });
    await start();
    const code = codeIn(tl.messages(PHONE).at(-1)!.body);
    const sent = await tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "whatsapp" });
    expect(sent).toMatchObject({ status: "sent", channel: "whatsapp", provider: "console" });
    expect(codeIn(tl.messages(PHONE).at(-1)!.body)).toBe(code);
    expect(await tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "whatsapp" })).toEqual({
      status: "already_sent",
      channel: "whatsapp",
    });
    // Two sends used the phone's limit of 2: the voice resend is refused like a third /start.
    expect(
      await wire(tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "voice" })),
    ).toMatchObject({ status: 429 });
    expect(tl.messages(PHONE)).toHaveLength(2);
    await expect(verify(code)).resolves.toMatchObject({ created: true });
    expect(await tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "voice" })).toEqual({
      status: "no_live_code",
      channel: "voice",
    });
  });

  it("of 20 concurrent switches to one channel exactly one sends", async () => {
    tl = await createTestTextlock(channels());
    await start();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "voice" }),
      ),
    );
    expect(results.filter((r) => r.status === "sent")).toHaveLength(1);
    expect(tl.messages(PHONE).filter((m) => m.channel === "voice")).toHaveLength(1);
  });

  it("unknown delivery_method values and channels the connection does not allow are 400 bad.request", async () => {
    tl = await createTestTextlock(channels({ channels: ["sms", "voice"] }));
    expect(await wire(start("carrier-pigeon"))).toEqual({
      status: 400,
      error: "bad.request",
      error_description: "delivery_method must be one of: text, voice, whatsapp",
    });
    expect(await wire(start("sms"))).toMatchObject({ status: 400, error: "bad.request" });
    expect(
      await wire(
        tl.api.start({ client_id: CLIENT, connection: "sms", phone_number: PHONE, delivery_method: 7 as never }),
      ),
    ).toMatchObject({ status: 400, error: "bad.request" });
    expect(await wire(start("whatsapp"))).toEqual({
      status: 400,
      error: "bad.request",
      error_description: "The connection sms does not deliver codes by whatsapp",
    });
    expect(
      await wire(tl.api.resendLiveCode({ connection: "sms", phone_number: PHONE, channel: "whatsapp" })),
    ).toMatchObject({ status: 400, error: "bad.request" });
    expect(tl.messages(PHONE)).toHaveLength(0);
  });

  it("a connection without `channels` allows only its delivery channel", async () => {
    tl = await createTestTextlock();
    expect(await wire(start("voice"))).toMatchObject({ status: 400, error: "bad.request" });
    await start("text");
    expect(tl.messages(PHONE)).toHaveLength(1);
  });

  it("refuses a channels list without the delivery channel", async () => {
    await expect(createTestTextlock(channels({ delivery: "voice", channels: ["sms"] }))).rejects.toThrow(
      /channels: must include "voice"/,
    );
  });

  it("text messages carry the client's autofill lines; voice and WhatsApp messages do not", async () => {
    tl = await createTestTextlock({
      issuer: "https://login.example.com/",
      protection: { enabled: false },
      clients: [
        { client_id: CLIENT },
        { client_id: "android", sms_autofill: { android_app_hash: "FA+9qCX9VSu" } },
        { client_id: "quiet", sms_autofill: { origin_bound: false } },
      ],
      connections: [
        {
          name: "sms",
          enabled_clients: [CLIENT, "android", "quiet"],
          options: { channels: ["sms", "voice", "whatsapp"] },
        },
      ],
    });
    await start();
    const sms = tl.messages(PHONE).at(-1)!;
    const code = codeIn(sms.body);
    expect(sms.body).toBe(`Your verification code is: ${code}\n\n@login.example.com #${code}`);
    await start("voice");
    await start("whatsapp");
    const [, voice, whatsapp] = tl.messages(PHONE);
    expect(voice!.body).toBe(`Your verification code is: ${code}`);
    expect(whatsapp!.body).toBe(`Your verification code is: ${code}`);
    const other = "+14155550178";
    await tl.api.start({ client_id: "android", connection: "sms", phone_number: other });
    expect(tl.messages(other).at(-1)!.body).toMatch(
      /^Your verification code is: (\d{6})\nFA\+9qCX9VSu\n@login\.example\.com #\1$/,
    );
    const third = "+14155550179";
    await tl.api.start({ client_id: "quiet", connection: "sms", phone_number: third });
    expect(tl.messages(third).at(-1)!.body).toMatch(/^Your verification code is: \d{6}$/);
  });
});
