import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";

// A test number through a real `textlock serve`: its fixed code logs in and nothing reaches a provider
// (the console provider's outbox is the provider's only output).
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const TEST_NUMBER = "+15555550100";
const REAL_NUMBER = "+14155550187";
let url: string;
let child: ChildProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "textlock-test-numbers-"));
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      secret: "test-numbers-secret-test-numbers-secret-9",
      users: { type: "memory" },
      connections: [
        {
          name: "sms",
          enabled_clients: ["textlock-dev"],
          options: { test_numbers: [{ phone_number: TEST_NUMBER, code: "424242" }] },
        },
      ],
      logging: { level: "warn" },
    }),
  );
  ({ url, child } = await spawnServe(file));
}, 60_000);

afterAll(() => {
  if (child?.exitCode === null) child.kill("SIGTERM");
});

const post = (path: string, body: object) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const sentTo = (phone: string) => {
  const outbox = join(dataDir, "outbox.jsonl");
  if (!existsSync(outbox)) return 0;
  return readFileSync(outbox, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .filter((l) => JSON.parse(l).to === phone).length;
};
const login = (otp: string) =>
  post("/oauth/token", {
    grant_type: OTP,
    client_id: "textlock-dev",
    username: TEST_NUMBER,
    otp,
    realm: "sms",
    scope: "openid",
  });

describe("a test number through textlock serve", () => {
  it("logs in with its fixed code, once, and no provider is called", async () => {
    const start = await post("/passwordless/start", {
      client_id: "textlock-dev",
      connection: "sms",
      phone_number: TEST_NUMBER,
    });
    expect(start.status).toBe(200);
    const tokens = await login("424242");
    expect(tokens.status).toBe(200);
    expect(await tokens.json()).toMatchObject({ id_token: expect.any(String) });
    expect((await login("424242")).status).toBe(403);
    expect(sentTo(TEST_NUMBER)).toBe(0);
    // The provider itself works: a real number gets its message.
    const real = await post("/passwordless/start", {
      client_id: "textlock-dev",
      connection: "sms",
      phone_number: REAL_NUMBER,
    });
    expect(real.status).toBe(200);
    await expect.poll(() => sentTo(REAL_NUMBER)).toBe(1);
    expect(sentTo(TEST_NUMBER)).toBe(0);
  });
});
