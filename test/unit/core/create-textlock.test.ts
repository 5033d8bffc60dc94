import { afterEach, describe, expect, it } from "vitest";
import { containerOf } from "../../../core/container/internals.js";
import { OTP_STORE, PROVIDERS, TOKENS, USER_STORE } from "../../../core/di-tokens.js";
import { Engine } from "../../../core/engine/engine.js";
import { MemoryUserStore } from "../../../core/users/memory-user-store.js";
import { provide, tokens } from "../../../lib/index.js";
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

describe("the composition root", () => {
  it("uses a part the host provides under its token instead of building one", async () => {
    const users = new MemoryUserStore();
    const t = await createTestTextlock({}, { provide: [provide(tokens.USER_STORE, users)] });
    open.push(t);
    expect(containerOf(t).resolve(USER_STORE)).toBe(users);
    await t.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550177" });
    await t.api.login({ client_id: "textlock-dev", phone_number: "+14155550177", code: t.lastCode("+14155550177") });
    expect(await users.findByPhone("sms", "+14155550177")).toMatchObject({ phone_number: "+14155550177" });
  });

  it("registers each part once and shows users facades, not the container", async () => {
    const t = await createTestTextlock();
    open.push(t);
    const c = containerOf(t);
    expect(c.resolve(TOKENS)).toBe(c.resolve(TOKENS));
    expect(c.resolve(PROVIDERS)).toBe(c.resolve(PROVIDERS));
    expect(c.resolve(Engine)).toBe(c.resolve(Engine));
    for (const hidden of ["container", "tokens", "browser", "protection"]) expect(t).not.toHaveProperty(hidden);
    expect(Object.keys(t.users).sort()).toEqual(["create", "delete", "findByPhone", "get", "list", "search", "update"]);
    expect(t.keys.jwks().keys).toHaveLength(1);
    expect(t.metrics.refusals()).toMatchObject({ ip_limit: 0 });
  });
});
