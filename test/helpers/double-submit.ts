import { expect } from "vitest";
import type { TestTextlock } from "./create-test-textlock.js";

const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const WRONG = { error: "invalid_grant", error_description: "Wrong phone number or verification code." };

/**
 * Submits the right code `n` times at once: exactly one login, the losers answered like a wrong code,
 * a replay too, and the person's next `/passwordless/start` and login still work (losers of the race
 * are not consecutive failures). Shared by the HTTP suite (memory store) and the Redis integration suite.
 */
export async function expectDoubleSubmitIsHarmless(url: string, tl: TestTextlock, phone: string, n = 50) {
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const start = () => post("/passwordless/start", { client_id: "spa", connection: "sms", phone_number: phone });
  const token = (otp: string) =>
    post("/oauth/token", { grant_type: OTP, client_id: "spa", username: phone, otp, realm: "sms", scope: "openid" });

  expect((await start()).status).toBe(200);
  const code = tl.lastCode(phone);
  const answers = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await token(code);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }),
  );
  expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
  expect(answers.filter((a) => a.status !== 200)).toEqual(Array(n - 1).fill({ status: 403, body: WRONG }));

  const replay = await token(code);
  expect({ status: replay.status, body: await replay.json() }).toEqual({ status: 403, body: WRONG });
  expect((await start()).status).toBe(200);
  expect((await token(tl.lastCode(phone))).status).toBe(200);
}
