import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeCaptcha, startFakeCaptcha } from "../fakes/fake-captcha.js";
import { spawnServe } from "../helpers/serve-process.js";

const SECRET = "hcaptcha-fake-secret-0x1234567890";
const SITE_KEY = "10000000-ffff-ffff-ffff-000000000001";

// The bot check as an operator runs it: a config file, `textlock serve` in its own process.
describe("bot check under textlock serve", () => {
  let fake: FakeCaptcha;
  let child: ChildProcess | undefined;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    fake = await startFakeCaptcha("hcaptcha", { secret: SECRET, siteKey: SITE_KEY });
    dataDir = mkdtempSync(join(tmpdir(), "textlock-captcha-"));
    const file = join(dataDir, "textlock.config.json");
    writeFileSync(
      file,
      JSON.stringify({
        dataDir,
        logging: { level: "warn" },
        clients: [{ client_id: "app", name: "App" }],
        connections: [{ name: "sms", enabled_clients: ["app"] }],
        protection: {
          captcha: {
            policy: "always",
            provider: "hcaptcha",
            siteKey: SITE_KEY,
            secret: SECRET,
            verifyUrl: fake.verifyUrl,
          },
        },
      }),
    );
    ({ url, child } = await spawnServe(file));
  }, 60_000);
  afterAll(async () => {
    if (child?.exitCode === null) child.kill("SIGTERM");
    await fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const sent = (phone: string) =>
    existsSync(join(dataDir, "outbox.jsonl"))
      ? readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { to: string })
          .filter((m) => m.to === phone)
      : [];
  const start = (phone: string, extra: Record<string, string> = {}) =>
    fetch(`${url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "app", connection: "sms", phone_number: phone, ...extra }),
    });

  it("refuses a missing and an invalid captcha with no SMS, and sends with a solved one", async () => {
    const missing = await start("+14155550501");
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: "invalid_captcha" });
    const invalid = await start("+14155550501", { captcha: "10000000-aaaa-bbbb-cccc-000000000001" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: "invalid_captcha", error_description: "Invalid captcha value" });
    expect(sent("+14155550501")).toHaveLength(0);
    expect(fake.requests.at(-1)!.fields).toMatchObject({ secret: SECRET, sitekey: SITE_KEY });

    const ok = await start("+14155550501", { captcha: fake.issue() });
    expect(ok.status).toBe(200);
    expect(sent("+14155550501")).toHaveLength(1);
  }, 30_000);
});
