import { afterEach, describe, expect, it } from "vitest";
import { containerOf } from "../../../core/container/internals.js";
import { OTP_STORE } from "../../../core/di-tokens.js";
import { Engine } from "../../../core/engine/engine.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

const open: TestTextlock[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe("createTextlock", () => {
  it("wires the engine in a child container per instance, so instances share nothing", async () => {
    const a = await createTestTextlock();
    const b = await createTestTextlock();
    open.push(a, b);
    expect(containerOf(a).resolve(Engine)).toBe(containerOf(a).resolve(Engine));
    expect(containerOf(a).resolve(Engine)).not.toBe(containerOf(b).resolve(Engine));
    expect(containerOf(a).resolve(OTP_STORE)).not.toBe(containerOf(b).resolve(OTP_STORE));
    await a.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550100" });
    const code = a.lastCode("+14155550100");
    await expect(
      b.api.verify({ client_id: "textlock-dev", realm: "sms", username: "+14155550100", otp: code }),
    ).rejects.toMatchObject({
      code: "ERR_WRONG_CODE",
    });
    await expect(
      a.api.verify({ client_id: "textlock-dev", realm: "sms", username: "+14155550100", otp: code }),
    ).resolves.toBeTruthy();
  });

  it("emits noun.past_verb events without codes", async () => {
    const t = await createTestTextlock();
    open.push(t);
    const seen: Array<[string, unknown]> = [];
    for (const name of ["code.sent", "code.verified", "user.created", "user.logged_in"] as const)
      t.events.on(name, (e: unknown) => seen.push([name, e]));
    await t.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550100" });
    const code = t.lastCode("+14155550100");
    await t.api.verify({ client_id: "textlock-dev", realm: "sms", username: "+14155550100", otp: code });
    expect(seen.map(([n]) => n)).toEqual(["code.sent", "code.verified", "user.created", "user.logged_in"]);
    expect(JSON.stringify(seen)).not.toContain(code);
  });

  it("close() is idempotent", async () => {
    const t = await createTestTextlock();
    await t.close();
    await t.close();
  });
});
