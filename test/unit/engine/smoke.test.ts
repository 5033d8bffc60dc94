import { afterEach, describe, expect, it } from "vitest";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

let tl: TestTextlock;
afterEach(async () => tl?.close());

describe("engine smoke", () => {
  it("sends a code and logs in with it", async () => {
    tl = await createTestTextlock();
    const res = await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550100" });
    expect(res.phone_number).toBe("+14155550100");
    const code = tl.lastCode("+14155550100");
    const out = await tl.api.verify({ client_id: "textlock-dev", realm: "sms", username: "+14155550100", otp: code });
    expect(out.user.user_id).toMatch(/^sms\|[0-9a-f]{24}$/);
    expect(out.created).toBe(true);
  });
});
