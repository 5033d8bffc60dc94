import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable, launchChromium, MOBILE, shot } from "../helpers/browser.js";
import { spawnServe } from "../helpers/serve-process.js";

// "Call me instead" and WebOTP autofill in real Chromium, through `textlock serve --demo` with a
// connection that allows SMS, voice and WhatsApp (console provider: the outbox is the person's phone).
describe.runIf(browserAvailable())("hosted page channels and autofill (Chromium)", () => {
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
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-channels-"));
    const config = {
      dataDir: dir,
      logging: { level: "warn" },
      login: { resendAfterSeconds: 2 },
      protection: { resendCooldownSeconds: 1 },
      connections: [{ name: "sms", options: { delivery: "text", channels: ["sms", "voice", "whatsapp"] } }],
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    ({ url, child } = await spawnServe(join(dir, "config.json"), ["--demo"]));
    // A host name, not an IP address: the SMS's origin-bound line names the page's host.
    url = url.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    child?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  const toCodeStep = async (phone: string, national: string, withJs = true) => {
    const context = await browser.newContext({ ...MOBILE, locale: "en-US", javaScriptEnabled: withJs });
    const page = await context.newPage();
    await page.goto(`${url}/demo`);
    if (withJs) {
      await page.getByRole("button", { name: "Log in with your phone" }).click();
    } else {
      // The demo app needs JavaScript; go to the hosted page directly as its login button would.
      const authorize = new URL(`${url}/authorize`);
      for (const [k, v] of Object.entries({
        client_id: "textlock-demo",
        response_type: "code",
        connection: "sms",
        redirect_uri: `${url}/demo/callback`,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
      }))
        authorize.searchParams.set(k, v);
      await page.goto(authorize.toString());
    }
    await page.waitForURL(/\/authorize\?/);
    await page.getByLabel("Country").selectOption("US");
    await page.getByLabel("Phone number").fill(national);
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    expect(messages(phone)).toHaveLength(1);
    return { context, page };
  };

  it("after the countdown, “Call me instead” calls with the same code; a wrong code before the switch still counts; the code logs in", async () => {
    const phone = "+14155550142";
    const { context, page } = await toCodeStep(phone, "415 555 0142");
    const [sms] = messages(phone);
    expect(sms!.channel).toBe("sms");
    const code = codeOf(sms!.body);
    // The other channels wait for the resend countdown.
    expect(await page.getByRole("button", { name: "Call me instead" }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Send via WhatsApp" }).isVisible()).toBe(false);

    const wrong = code === "000000" ? "111111" : "000000";
    await page.getByLabel("Verification code").fill(wrong);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That code is not right");

    await expect
      .poll(() => page.getByRole("button", { name: "Call me instead" }).isVisible(), { timeout: 5_000 })
      .toBe(true);
    await shot(page, "channels-01-call-me-instead");
    await page.getByRole("button", { name: "Call me instead" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("We are calling +1 415 555 0142");
    const call = messages(phone).at(-1)!;
    expect(call.channel).toBe("voice");
    expect(codeOf(call.body)).toBe(code);
    // Now the page offers the channels the code has not gone over from here: text and WhatsApp.
    await expect
      .poll(() => page.getByRole("button", { name: "Text me instead" }).isVisible(), { timeout: 5_000 })
      .toBe(true);
    expect(await page.getByRole("button", { name: "Call me instead" }).count()).toBe(0);
    await shot(page, "channels-02-called");

    await page.getByLabel("Verification code").fill(code);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/\/demo\/callback$/);
    await page.locator("#welcome").waitFor();
    expect(await page.locator('[data-field="phone"]').textContent()).toBe(phone);
    await context.close();
  });

  it("without JavaScript the channel buttons show at once and “Send via WhatsApp” re-sends the same code", async () => {
    const phone = "+14155550143";
    const { context, page } = await toCodeStep(phone, "415 555 0143", false);
    const code = codeOf(messages(phone)[0]!.body);
    await new Promise((r) => setTimeout(r, 1_100)); // the server's resend cooldown
    await page.getByRole("button", { name: "Send via WhatsApp" }).click();
    expect(await page.getByRole("status").textContent()).toContain("We sent the code by WhatsApp");
    const wa = messages(phone).at(-1)!;
    expect(wa.channel).toBe("whatsapp");
    expect(codeOf(wa.body)).toBe(code);
    await shot(page, "channels-03-whatsapp-no-js");
    await context.close();
  });

  it("WebOTP (stubbed at the browser level) fills in the code from the SMS's origin-bound line and logs in", async () => {
    const context = await browser.newContext({ ...MOBILE, locale: "en-US" });
    // Chromium's WebOTP needs an Android SMS; stand in for it: the page's request is recorded and
    // answered with the code the test reads from the SMS, as Chrome does after the user taps "Allow".
    await context.addInitScript(`(() => {
      window.OTPCredential = function OTPCredential() {};
      window.__otpRequests = [];
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options) => {
        if (!options || !options.otp) return get(options);
        window.__otpRequests.push(JSON.stringify(options.otp));
        return new Promise((resolve, reject) => {
          window.__deliverOtp = (code) => resolve({ type: "otp", id: "", code });
          if (options.signal) options.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        });
      };
    })();`);
    const page = await context.newPage();
    const phone = "+14155550144";
    await page.goto(`${url}/demo`);
    await page.getByRole("button", { name: "Log in with your phone" }).click();
    await page.waitForURL(/\/authorize\?/);
    await page.getByLabel("Country").selectOption("US");
    await page.getByLabel("Phone number").fill("415 555 0144");
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    await expect.poll(() => page.evaluate("window.__otpRequests")).toEqual(['{"transport":["sms"]}']);

    const [sms] = messages(phone);
    const lines = sms!.body.split("\n");
    const code = codeOf(sms!.body);
    // The origin-bound one-time code format: the last line is "@<host> #<code>".
    expect(lines.at(-1)).toBe(`@localhost #${code}`);
    await page.evaluate(`window.__deliverOtp(${JSON.stringify(code)})`);
    await page.waitForURL(/\/demo\/callback$/);
    await page.locator("#welcome").waitFor();
    expect(await page.locator('[data-field="phone"]').textContent()).toBe(phone);
    await context.close();
  });
});
