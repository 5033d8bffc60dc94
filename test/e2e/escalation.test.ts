import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable, launchChromium, MOBILE, shot } from "../helpers/browser.js";
import { spawnServe } from "../helpers/serve-process.js";

// Escalation as the person sees it, in real Chromium through `textlock serve --demo`: the SMS gets no
// delivered receipt (the console provider never sends one), so after `after_seconds` the same code
// goes out by WhatsApp and the hosted page says so without a reload; the person logs in with it.
describe.runIf(browserAvailable())("hosted page: escalation notice (Chromium)", () => {
  let dir: string;
  let url: string;
  let child: ChildProcess;
  let browser: Browser;

  const messages = (phone: string) =>
    readFileSync(join(dir, "outbox.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { to: string; body: string; channel: string })
      .filter((m) => m.to === phone);
  const codeOf = (body: string) => body.match(/(\d{6})/)![1]!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-escalation-"));
    const config = {
      dataDir: dir,
      logging: { level: "warn" },
      protection: { resendCooldownSeconds: 5 },
      delivery: { receipts: { enabled: true, publicUrl: "https://auth.example.com/" }, escalationSweepMs: 200 },
      connections: [
        {
          name: "sms",
          options: { delivery: "text", channels: ["sms", "whatsapp"], escalation: { after_seconds: 5 } },
        },
      ],
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    ({ url, child } = await spawnServe(join(dir, "config.json"), ["--demo"]));
    url = url.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    child?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("an undelivered SMS is followed by WhatsApp with the same code; the page says “We also sent it by WhatsApp”", async () => {
    const phone = "+14155550171";
    const context = await browser.newContext({ ...MOBILE, locale: "en-US" });
    const page = await context.newPage();
    await page.goto(`${url}/demo`);
    await page.getByRole("button", { name: "Log in with your phone" }).click();
    await page.waitForURL(/\/authorize\?/);
    await page.getByLabel("Country").selectOption("US");
    await page.getByLabel("Phone number").fill("415 555 0171");
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    expect(messages(phone).map((m) => m.channel)).toEqual(["sms"]);
    expect(await page.getByText("We also sent it by WhatsApp.").isVisible()).toBe(false);

    await expect.poll(() => page.getByText("We also sent it by WhatsApp.").isVisible(), { timeout: 15_000 }).toBe(true);
    const sent = messages(phone);
    expect(sent.map((m) => m.channel)).toEqual(["sms", "whatsapp"]);
    expect(codeOf(sent[1]!.body)).toBe(codeOf(sent[0]!.body));
    await shot(page, "escalation-01-also-whatsapp");

    await page.getByLabel("Verification code").fill(codeOf(sent[1]!.body));
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/\/demo\/callback$/);
    await page.locator("#welcome").waitFor();
    expect(await page.locator('[data-field="phone"]').textContent()).toBe(phone);
    await context.close();
  }, 60_000);
});
