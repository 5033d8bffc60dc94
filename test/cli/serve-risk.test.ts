import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeTwilioLookup } from "../fakes/fake-twilio-lookup.js";
import { spawnServe } from "../helpers/serve-process.js";

const ACCOUNT_SID = `AC${randomBytes(16).toString("hex")}`;
const AUTH_TOKEN = randomBytes(16).toString("hex");
const REFUSED = { error: "access_denied", error_description: "The request was refused." };
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function outbox(dataDir: string): Array<{ to: string }> {
  const file = join(dataDir, "outbox.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

// The risk step as an operator runs it: `textlock serve` with a config file, Twilio Lookup pointed at a
// loopback fake, and a pre-send script next to the file.
describe("textlock serve: pre-send risk", () => {
  it("refuses a SIM-swapped number and a lookup that hangs with 403 and no SMS; a script deny too", async () => {
    const fake = await startFakeTwilioLookup({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    cleanup.push(() => fake.close());
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-risk-serve-"));
    copyFileSync(new URL("../hooks/pre-send/deny-by-number.js", import.meta.url), join(dataDir, "pre-send.js"));
    const configFile = join(dataDir, "textlock.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir,
        logging: { level: "warn" },
        hooks: { scripts: { "pre-send": "pre-send.js" } },
        risk: {
          twilioLookup: {
            accountSid: ACCOUNT_SID,
            authToken: AUTH_TOKEN,
            baseUrl: fake.url,
            simSwapMaxAgeHours: 24,
            timeoutMs: 500,
          },
        },
      }),
    );
    const { url, child } = await spawnServe(configFile);
    cleanup.push(() => void (child as ChildProcess).kill("SIGTERM"));
    const start = async (phone: string) => {
      const res = await fetch(`${url}/passwordless/start`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: phone }),
      });
      return { status: res.status, body: await res.json() };
    };

    expect(await start("+12345678901")).toEqual({ status: 403, body: REFUSED });
    expect(fake.lookups()).toHaveLength(1);
    expect(outbox(dataDir)).toHaveLength(0);

    expect(await start("+14155550666")).toEqual({ status: 403, body: REFUSED });
    expect(fake.lookups()).toHaveLength(1);

    expect((await start("+12345678900")).status).toBe(200);
    expect(outbox(dataDir).map((m) => m.to)).toEqual(["+12345678900"]);

    fake.always = { hang: true };
    const began = Date.now();
    expect(await start("+14155550120")).toEqual({ status: 403, body: REFUSED });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(fake.lookups()).toHaveLength(3);
    expect(outbox(dataDir)).toHaveLength(1);
  }, 60_000);
});
