import { expect } from "vitest";
import type { TextlockConfigInput } from "../../core/config/schema.js";
import { type AdapterName, serve } from "./adapters.js";
import { createTestTextlock } from "./create-test-textlock.js";

const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";

/**
 * The per-phone failure lock through HTTP: three wrong codes lock the phone for a 60 s window; 20 s
 * later `/passwordless/start` is 429 `too_many_requests` with `Retry-After: 40` and sends nothing, the
 * token endpoint 429 `too_many_attempts` with the same Retry-After; once the window passes, the phone
 * gets a code again. Shared by the memory-store HTTP suite and the Redis integration suite.
 */
export async function checkPhoneLock(adapter: AdapterName, phone: string, config: TextlockConfigInput = {}) {
  let now = Date.now();
  const tl = await createTestTextlock(
    {
      clients: [{ client_id: "spa" }],
      connections: [{ name: "sms", enabled_clients: ["spa"] }],
      otp: { failureCeiling: { max: 3, windowSeconds: 60 } },
      ...config,
    },
    { clock: () => now },
  );
  const server = await serve(adapter, tl);
  try {
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const start = () => post("/passwordless/start", { client_id: "spa", connection: "sms", phone_number: phone });
    const token = (otp: string) =>
      post("/oauth/token", { grant_type: OTP, client_id: "spa", username: phone, otp, realm: "sms" });

    expect((await start()).status).toBe(200);
    const wrong = String((Number(tl.lastCode(phone)) + 1) % 1e6).padStart(6, "0");
    for (let i = 0; i < 3; i++) expect((await token(wrong)).status).toBe(403);
    const sent = tl.messages(phone).length;

    now += 20_000;
    const lockedStart = await start();
    expect(lockedStart.status).toBe(429);
    expect(await lockedStart.json()).toMatchObject({ error: "too_many_requests" });
    expect(lockedStart.headers.get("retry-after")).toBe("40");
    const lockedToken = await token(wrong);
    expect(lockedToken.status).toBe(429);
    expect(await lockedToken.json()).toMatchObject({ error: "too_many_attempts" });
    expect(lockedToken.headers.get("retry-after")).toBe("40");
    expect(tl.messages(phone)).toHaveLength(sent);

    now += 40_000;
    expect((await start()).status).toBe(200);
    expect(tl.messages(phone)).toHaveLength(sent + 1);
  } finally {
    await server.close();
    await tl.close();
  }
}
