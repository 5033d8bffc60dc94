import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { TextlockConfigInput } from "../../../core/config/schema.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import type { TextlockEventMap } from "../../../core/events/events.js";
import { defineSmsProvider } from "../../../core/providers/sms-provider.js";
import { createTextlock } from "../../../lib/index.js";
import { createTestTextlock, TEST_SECRET, type TestTextlock } from "../../helpers/create-test-textlock.js";

const CLIENT = "textlock-dev";
const TEST_PHONE = "+15555550100";
const REAL_PHONE = "+14155550123";
let tl: TestTextlock | undefined;
afterEach(async () => {
  await tl?.close();
  tl = undefined;
});

/** A provider that only counts its calls. */
function countingProvider() {
  const sent: string[] = [];
  const provider = defineSmsProvider({
    name: "counting",
    async send(message) {
      sent.push(message.to);
      return { id: `m${sent.length}` };
    },
  });
  return { sent, provider };
}

function config(extra: Record<string, unknown> = {}, provider = countingProvider().provider): TextlockConfigInput {
  return {
    providers: { counting: provider },
    connections: [
      {
        name: "sms",
        enabled_clients: [CLIENT],
        options: { provider: "counting", test_numbers: [{ phone_number: TEST_PHONE, code: "424242" }], ...extra },
      },
    ],
  };
}

const start = (t: TestTextlock, phone: string) =>
  t.api.start({ client_id: CLIENT, connection: "sms", phone_number: phone, send: "code" });
const verify = (t: TestTextlock, phone: string, otp: string) =>
  t.api.verify({ client_id: CLIENT, realm: "sms", username: phone, otp });

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const { status, body } = toWireError(err);
    return { status, ...body };
  }
  throw new Error("expected the call to fail");
}

describe("test numbers", () => {
  it("log in with their fixed code without any provider call, and real numbers still go to the provider", async () => {
    const counting = countingProvider();
    tl = await createTestTextlock(config({}, counting.provider));
    const sent: TextlockEventMap["code.sent"][0][] = [];
    tl.events.on("code.sent", (e) => sent.push(e));

    await start(tl, TEST_PHONE);
    expect(counting.sent).toEqual([]);
    expect(sent).toEqual([expect.objectContaining({ phone_number: TEST_PHONE, provider: "test_number" })]);
    const { user } = await verify(tl, TEST_PHONE, "424242");
    expect(user.phone_number).toBe(TEST_PHONE);

    await start(tl, REAL_PHONE);
    expect(counting.sent).toEqual([REAL_PHONE]);
    expect(sent.at(-1)).toMatchObject({ phone_number: REAL_PHONE, provider: "counting" });
  });

  it("are single use like a real code", async () => {
    tl = await createTestTextlock(config());
    await start(tl, TEST_PHONE);
    await verify(tl, TEST_PHONE, "424242");
    expect(await failure(verify(tl, TEST_PHONE, "424242"))).toMatchObject({ status: 403, error: "invalid_grant" });
  });

  it("die after 3 wrong codes: the fixed code is refused until the next /start", async () => {
    tl = await createTestTextlock(config());
    await start(tl, TEST_PHONE);
    for (let i = 0; i < 3; i++) {
      expect(await failure(verify(tl, TEST_PHONE, "000000"))).toMatchObject({
        error_description: "Wrong phone number or verification code.",
      });
    }
    expect(await failure(verify(tl, TEST_PHONE, "424242"))).toMatchObject({
      status: 403,
      error_description: "You've reached the maximum number of attempts. Please try to login again.",
    });
    await start(tl, TEST_PHONE);
    await expect(verify(tl, TEST_PHONE, "424242")).resolves.toMatchObject({ user: { phone_number: TEST_PHONE } });
  });

  it("expire like a real code", async () => {
    let now = Date.now();
    tl = await createTestTextlock(config(), { clock: () => now });
    await start(tl, TEST_PHONE);
    now += 181_000;
    expect(await failure(verify(tl, TEST_PHONE, "424242"))).toMatchObject({ status: 403, error: "invalid_grant" });
    await start(tl, TEST_PHONE);
    now += 179_000;
    await expect(verify(tl, TEST_PHONE, "424242")).resolves.toMatchObject({ user: { phone_number: TEST_PHONE } });
  });

  it("use no send limit or SMS budget", async () => {
    const counting = countingProvider();
    tl = await createTestTextlock({
      ...config({}, counting.provider),
      protection: { enabled: true, dailySmsBudget: 1, resendCooldownSeconds: 0 },
    });
    for (let i = 0; i < 3; i++) await start(tl, TEST_PHONE);
    await start(tl, REAL_PHONE);
    expect(counting.sent).toEqual([REAL_PHONE]);
  });

  it("log at info without the code", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    tl = await createTestTextlock(config(), { logger });
    await start(tl, TEST_PHONE);
    const line = lines.find((l) => l.includes("test number"));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 30, phone_number: TEST_PHONE, connection: "sms" });
    expect(lines.join("")).not.toContain("424242");
  });

  it("need codes of the connection's length", async () => {
    await expect(
      createTestTextlock(config({ test_numbers: [{ phone_number: TEST_PHONE, code: "4242" }] })),
    ).rejects.toThrow(/test_numbers\.0\.code: must have 6 digits/);
  });

  it("are refused under NODE_ENV=production unless allowed", async () => {
    const production = (extra: Record<string, unknown>) =>
      createTextlock(
        {
          ...config(extra),
          secret: TEST_SECRET,
          issuer: "https://auth.example.com/",
          store: { type: "memory" },
          users: { type: "memory" },
          logging: { level: "silent" },
        },
        { env: { NODE_ENV: "production" } },
      );
    await expect(production({})).rejects.toThrow(/test_numbers: test numbers .* refused when NODE_ENV=production/);
    const allowed = await production({ allow_test_numbers_in_production: true });
    try {
      await allowed.api.start({ client_id: CLIENT, connection: "sms", phone_number: TEST_PHONE, send: "code" });
      await expect(
        allowed.api.verify({ client_id: CLIENT, realm: "sms", username: TEST_PHONE, otp: "424242" }),
      ).resolves.toMatchObject({ user: { phone_number: TEST_PHONE } });
    } finally {
      await allowed.close();
    }
  });
});
