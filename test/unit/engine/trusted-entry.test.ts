import { afterEach, describe, expect, it } from "vitest";
import { OTP_GRANT } from "../../../core/config/schema.js";
import { containerOf } from "../../../core/container/internals.js";
import { Engine } from "../../../core/engine/engine.js";
import { createTestTextlock, type TestTextlock } from "../../helpers/create-test-textlock.js";

let tl: TestTextlock;
afterEach(async () => tl?.close());

const PHONE = "+14155550142";
const confidential = {
  clients: [
    { client_id: "web", client_secret: "s3cret-s3cret-s3cret", grant_types: [OTP_GRANT] },
    { client_id: "no-otp", client_secret: "s3cret-s3cret-s3cret", grant_types: ["authorization_code"] },
  ],
  connections: [{ name: "sms", enabled_clients: ["web", "no-otp"] }],
};

// The browser flow acts for clients without their secret; everything else about the flow must still hold.
describe("engine trusted entries (startForClient, verifyForClient)", () => {
  it("run start and verify for a confidential client without its secret", async () => {
    tl = await createTestTextlock(confidential);
    const engine = containerOf(tl).resolve(Engine);
    const client = tl.config.clients.find((c) => c.client_id === "web")!;
    await expect(tl.api.start({ client_id: "web", connection: "sms", phone_number: PHONE })).rejects.toMatchObject({
      code: "ERR_CLIENT_AUTH_REQUIRED",
    });

    await engine.startForClient(client, { connection: "sms", phone_number: PHONE });
    const out = await engine.verifyForClient(client, {
      realm: "sms",
      username: PHONE,
      otp: tl.lastCode(PHONE),
      scope: "openid",
    });
    expect(out).toMatchObject({ client, created: true, scope: "openid" });
  });

  it("keep every other step: the grant, the realm, the code rules", async () => {
    tl = await createTestTextlock(confidential);
    const engine = containerOf(tl).resolve(Engine);
    const web = tl.config.clients.find((c) => c.client_id === "web")!;
    const noOtp = tl.config.clients.find((c) => c.client_id === "no-otp")!;
    await expect(engine.startForClient(noOtp, { connection: "sms", phone_number: PHONE })).rejects.toMatchObject({
      code: "ERR_GRANT_NOT_ALLOWED",
    });
    await expect(engine.verifyForClient(web, { realm: "nope", username: PHONE, otp: "000000" })).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });

    await engine.startForClient(web, { connection: "sms", phone_number: PHONE });
    const wrong = String((Number(tl.lastCode(PHONE)) + 1) % 1e6).padStart(6, "0");
    await expect(engine.verifyForClient(web, { realm: "sms", username: PHONE, otp: wrong })).rejects.toMatchObject({
      code: "ERR_WRONG_CODE",
    });
  });
});
