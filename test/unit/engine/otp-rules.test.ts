import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TextlockError } from "../../../core/errors/textlock-error.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";
import { defineSmsProvider, ProviderError } from "../../../core/providers/sms-provider.js";
import { MemoryUserStore } from "../../../core/users/memory-user-store.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const PHONE = "+14155550100";
const CLIENT = "textlock-dev";
let tl: TestTextlock;
afterEach(async () => tl?.close());

/** A settable clock so expiry is tested without sleeping. */
function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const start = (phone = PHONE, extra: Record<string, unknown> = {}) =>
  tl.api.start({ client_id: CLIENT, connection: "sms", phone_number: phone, send: "code", ...extra });
const verify = (otp: string, phone = PHONE) => tl.api.verify({ client_id: CLIENT, realm: "sms", username: phone, otp });

/** The wire body a failed call would produce. */
async function wire(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const { status, body } = toWireError(err);
    return { status, ...body };
  }
  throw new Error("expected the call to fail");
}

const WRONG = { status: 403, error: "invalid_grant", error_description: "Wrong phone number or verification code." };
const MAX = {
  status: 403,
  error: "invalid_grant",
  error_description: "You've reached the maximum number of attempts. Please try to login again.",
};
const wrongCode = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");

describe("OTP rules", () => {
  it("answers /start in Auth0's shape and sends a 6-digit code by default", async () => {
    tl = await createTestTextlock();
    const res = await start();
    expect(res).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      phone_number: PHONE,
      phone_verified: false,
      request_language: "en",
    });
    expect(tl.messages(PHONE)).toHaveLength(1);
    expect(tl.messages(PHONE)[0]!.body).toMatch(/^Your verification code is: \d{6}$/);
  });

  it("accepts only the last code issued", async () => {
    tl = await createTestTextlock();
    await start();
    const first = tl.lastCode(PHONE);
    await start();
    const second = tl.lastCode(PHONE);
    if (first !== second) expect(await wire(verify(first))).toEqual(WRONG);
    await expect(verify(second)).resolves.toMatchObject({ user: { phone_number: PHONE } });
  });

  it("accepts a code once", async () => {
    tl = await createTestTextlock();
    await start();
    const code = tl.lastCode(PHONE);
    await verify(code);
    expect(await wire(verify(code))).toEqual(WRONG);
  });

  it("kills a code after 3 wrong attempts, even for the right code", async () => {
    tl = await createTestTextlock();
    await start();
    const code = tl.lastCode(PHONE);
    for (let i = 0; i < 3; i++) expect(await wire(verify(wrongCode(code)))).toEqual(WRONG);
    expect(await wire(verify(code))).toEqual(MAX);
    expect(await wire(verify(code))).toEqual(MAX);
    await start();
    await expect(verify(tl.lastCode(PHONE))).resolves.toBeTruthy();
  });

  it("expires codes after 180 s by default", async () => {
    const clock = manualClock();
    tl = await createTestTextlock({}, { clock: clock.now });
    await start();
    clock.advance(179_000);
    await expect(verify(tl.lastCode(PHONE))).resolves.toBeTruthy();
    await start();
    clock.advance(180_000);
    expect(await wire(verify(tl.lastCode(PHONE)))).toEqual(WRONG);
  });

  it("honours totp.time_step and totp.length", async () => {
    const clock = manualClock();
    tl = await createTestTextlock(
      { connections: [{ name: "sms", enabled_clients: [CLIENT], options: { totp: { time_step: 60, length: 8 } } }] },
      { clock: clock.now },
    );
    await start();
    expect(tl.lastCode(PHONE)).toMatch(/^\d{8}$/);
    clock.advance(60_000);
    expect(await wire(verify(tl.lastCode(PHONE)))).toEqual(WRONG);
  });

  it("binds a code to its phone number", async () => {
    tl = await createTestTextlock();
    await start(PHONE);
    expect(await wire(verify(tl.lastCode(PHONE), "+14155550199"))).toEqual(WRONG);
  });

  it("stops resend-to-reset loops with a per-phone failure ceiling, reset by success", async () => {
    tl = await createTestTextlock({ otp: { failureCeiling: { max: 10, windowSeconds: 3600 } } });
    let failures = 0;
    while (failures < 10) {
      await start();
      const code = tl.lastCode(PHONE);
      for (let i = 0; i < 3 && failures < 10; i++, failures++) await wire(verify(wrongCode(code)));
    }
    expect(await wire(start())).toMatchObject({ status: 429, error: "too_many_requests" });
    expect(await wire(verify("000000"))).toMatchObject({ status: 429, error: "too_many_attempts" });
    // Another phone is not affected.
    await start("+14155550111");
    await expect(verify(tl.lastCode("+14155550111"), "+14155550111")).resolves.toBeTruthy();
  });

  it("resets the failure count on a successful login", async () => {
    tl = await createTestTextlock({ otp: { failureCeiling: { max: 4, windowSeconds: 3600 } } });
    await start();
    let code = tl.lastCode(PHONE);
    for (let i = 0; i < 3; i++) await wire(verify(wrongCode(code)));
    await start();
    await verify(tl.lastCode(PHONE));
    await start();
    code = tl.lastCode(PHONE);
    for (let i = 0; i < 3; i++) expect(await wire(verify(wrongCode(code)))).toEqual(WRONG);
  });

  it("charges at most 3 of 200 concurrent wrong codes, and the code is dead afterwards", async () => {
    // Per-code rule in isolation: the per-phone ceiling (tested above) would otherwise answer 429 at the end.
    tl = await createTestTextlock({
      connections: [{ name: "sms", enabled_clients: [CLIENT], options: { brute_force_protection: false } }],
    });
    const compared: string[] = [];
    tl.events.on("code.failed", (e) => compared.push(e.reason));
    await start();
    const code = tl.lastCode(PHONE);
    const results = await Promise.all(Array.from({ length: 200 }, () => wire(verify(wrongCode(code)))));
    expect(compared.filter((r) => r === "wrong").length).toBeLessThanOrEqual(3);
    expect(results.filter((r) => r.error_description === WRONG.error_description).length).toBeLessThanOrEqual(3);
    expect(results.every((r) => r.status === 403)).toBe(true);
    expect(await wire(verify(code))).toEqual(MAX);
  });

  it("lets exactly one of 200 concurrent correct submissions log in", async () => {
    tl = await createTestTextlock();
    await start();
    const code = tl.lastCode(PHONE);
    const settled = await Promise.allSettled(Array.from({ length: 200 }, () => verify(code)));
    const ok = settled.filter((s) => s.status === "fulfilled");
    expect(ok).toHaveLength(1);
    for (const s of settled) if (s.status === "rejected") expect(s.reason).toBeInstanceOf(TextlockError);
    expect(
      await tl.api.verify({ client_id: CLIENT, realm: "sms", username: PHONE, otp: code }).catch((e) => e.code),
    ).toMatch(/ERR_/);
  });
});

describe("sign-up policy", () => {
  const disabled = { connections: [{ name: "sms", enabled_clients: [CLIENT], options: { disable_signup: true } }] };

  it("creates the user on first login, Auth0-shaped, and reuses it after", async () => {
    tl = await createTestTextlock();
    await start();
    const first = await verify(tl.lastCode(PHONE));
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({
      user_id: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
      phone_number: PHONE,
      phone_verified: true,
      name: PHONE,
      logins_count: 1,
      identities: [{ provider: "sms", connection: "sms", user_id: first.user.user_id.slice(4), isSocial: false }],
    });
    await start();
    const second = await verify(tl.lastCode(PHONE));
    expect(second.created).toBe(false);
    expect(second.user.user_id).toBe(first.user.user_id);
    expect(second.user.logins_count).toBe(2);
  });

  it("a sign-up is one user write (the creating insert counts the login); a store that ignores that still counts it", async () => {
    for (const honours of [true, false]) {
      const users = new MemoryUserStore();
      const calls: string[] = [];
      const create = users.create.bind(users);
      const recordLogin = users.recordLogin.bind(users);
      users.create = (connection, phone, fields) => {
        calls.push("create");
        return create(connection, phone, honours ? fields : { ...fields, login: undefined });
      };
      users.recordLogin = (id, facts) => {
        calls.push("recordLogin");
        return recordLogin(id, facts);
      };
      tl = await createTestTextlock({}, { userStore: users });
      await start();
      const first = await verify(tl.lastCode(PHONE));
      expect(first.user).toMatchObject({ logins_count: 1, last_login: expect.any(String) });
      expect(calls).toEqual(honours ? ["create"] : ["create", "recordLogin"]);
      await start();
      expect((await verify(tl.lastCode(PHONE))).user.logins_count).toBe(2);
      if (honours) await tl.close(); // the last one is closed by afterEach
    }
  });

  it("with disable_signup, unknown numbers get the same answers but no SMS and no account", async () => {
    tl = await createTestTextlock(disabled);
    const refused: unknown[] = [];
    tl.events.on("signup.refused", (e) => refused.push(e));
    const res = await start("+14155550142");
    expect(res).toEqual({
      _id: expect.any(String),
      phone_number: "+14155550142",
      phone_verified: false,
      request_language: "en",
    });
    await expect.poll(() => refused.length).toBe(1);
    expect(tl.messages("+14155550142")).toHaveLength(0);
    // Attempts and lockout behave as for a real code.
    for (let i = 0; i < 3; i++)
      expect(await wire(verify("111111", "+14155550142"))).toMatchObject({ error: "invalid_grant" });
    expect(await wire(verify("111111", "+14155550142"))).toEqual(MAX);
    expect(
      await tl.api
        .verify({ client_id: CLIENT, realm: "sms", username: "+14155550142", otp: "1" })
        .catch(() => "refused"),
    ).toBe("refused");
  });

  it("with disable_signup, existing users still get codes and log in", async () => {
    tl = await createTestTextlock({ ...disabled, users: { type: "memory" } });
    // Seed the user through the store, as an admin import would.
    const users = tl.users;
    await users.create("sms", PHONE);
    await start();
    await expect.poll(() => tl.messages(PHONE).length).toBe(1);
    await expect(verify(tl.lastCode(PHONE))).resolves.toMatchObject({ created: false });
  });

  it("sends no code to a blocked user and refuses their login", async () => {
    tl = await createTestTextlock();
    const users = tl.users;
    const { user } = await users.create("sms", PHONE);
    await users.update(user.user_id, { blocked: true });
    await expect(start()).resolves.toMatchObject({ phone_number: PHONE });
    expect(tl.messages(PHONE)).toHaveLength(0);
  });
});

describe("clients and connections", () => {
  const confidential = {
    clients: [
      {
        client_id: "web",
        client_secret: "s3cret-s3cret-s3cret",
        grant_types: ["http://auth0.com/oauth/grant-type/passwordless/otp"],
      },
    ],
    connections: [{ name: "sms", enabled_clients: ["web"] }],
  };

  it("requires the secret of a confidential client and compares it", async () => {
    tl = await createTestTextlock(confidential);
    const base = { client_id: "web", connection: "sms", phone_number: PHONE };
    expect(await wire(tl.api.start(base))).toEqual({
      status: 401,
      error: "unauthorized_client",
      error_description: "Client authentication is required",
    });
    expect(await wire(tl.api.start({ ...base, client_secret: "wrong-wrong-wrong-wrong" }))).toEqual({
      status: 401,
      error: "invalid_client",
      error_description: "Client authentication failed",
    });
    await expect(tl.api.start({ ...base, client_secret: "s3cret-s3cret-s3cret" })).resolves.toBeTruthy();
  });

  it("gives Auth0's exact bad.* errors", async () => {
    tl = await createTestTextlock();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ connection: "sms", phone_number: PHONE }, "bad.client_id", "Missing required property: client_id"],
      [{ client_id: CLIENT, phone_number: PHONE }, "bad.connection", "Missing required property: connection"],
      [{ client_id: CLIENT, connection: "nope", phone_number: PHONE }, "bad.connection", "Connection does not exist"],
      [{ client_id: CLIENT, connection: "sms" }, "bad.phone_number", "Missing required property: phone_number"],
      [
        { client_id: CLIENT, connection: "sms", phone_number: "4155550100" },
        "bad.phone_number",
        "String does not match pattern: ^\\+[0-9]{1,15}$",
      ],
      [
        { client_id: CLIENT, connection: "sms", phone_number: "+1234567890123456" },
        "bad.phone_number",
        "String does not match pattern: ^\\+[0-9]{1,15}$",
      ],
      [
        { client_id: CLIENT, connection: "sms", phone_number: PHONE, authParams: "x" },
        "bad.authParams",
        "error in authParams - invalid type: string (expected object)",
      ],
      [
        { client_id: CLIENT, connection: "sms", phone_number: PHONE, foo: 1, bar: 2 },
        "bad.request",
        "the following properties are not allowed: foo, bar",
      ],
    ];
    for (const [input, error, description] of cases) {
      expect(await wire(tl.api.start(input))).toEqual({ status: 400, error, error_description: description });
    }
  });

  it("refuses a connection not enabled for the client, and a client without the OTP grant", async () => {
    tl = await createTestTextlock({
      clients: [{ client_id: "a" }, { client_id: "b", grant_types: ["authorization_code"] }],
      connections: [
        { name: "sms", enabled_clients: ["b"] },
        { name: "other", enabled_clients: [] },
      ],
    });
    expect(await wire(tl.api.start({ client_id: "a", connection: "other", phone_number: PHONE }))).toMatchObject({
      error: "bad.connection",
      error_description: "Connection is disabled",
    });
    expect(await wire(tl.api.start({ client_id: "b", connection: "sms", phone_number: PHONE }))).toMatchObject({
      status: 403,
      error: "unauthorized_client",
      error_description: "Grant type 'http://auth0.com/oauth/grant-type/passwordless/otp' not allowed for the client.",
      error_uri: "https://auth0.com/docs/clients/client-grant-types",
    });
  });
});

describe("delivery failures and secrecy", () => {
  it("leaves no valid code when the provider fails", async () => {
    let sentCode = "";
    const flaky = defineSmsProvider({
      name: "flaky",
      async send(message) {
        sentCode = message.code;
        throw new ProviderError("transient", "upstream unavailable");
      },
    });
    tl = await createTestTextlock({
      providers: { flaky },
      connections: [{ name: "sms", enabled_clients: [CLIENT], options: { provider: "flaky" } }],
    });
    expect(await wire(start())).toMatchObject({ status: 400, error: "sms_provider_error" });
    expect(sentCode).toMatch(/^\d{6}$/);
    expect(await wire(verify(sentCode))).toEqual(WRONG);
  });

  it("never writes a code to the log", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    tl = await createTestTextlock({}, { logger: pino({ level: "trace" }, sink) });
    for (let i = 0; i < 3; i++) {
      await start();
      const code = tl.lastCode(PHONE);
      await wire(verify(wrongCode(code)));
      await verify(code);
      const log = lines.join("");
      expect(log).not.toContain(code);
    }
  });
});
