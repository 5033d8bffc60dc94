import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations, browserAvailable, launchChromium, MOBILE, shot } from "../helpers/browser.js";
import { spawnServe } from "../helpers/serve-process.js";

// A person's whole flow in real Chromium: `textlock serve --demo` (a child process, as a newcomer runs
// it), the demo app, the hosted page, the SMS read from the console provider's outbox, the profile.
describe.runIf(browserAvailable())("hosted login page with the demo app (Chromium)", () => {
  let dir: string;
  let url: string;
  let child: ChildProcess;
  let browser: Browser;

  const codes = (phone: string) =>
    readFileSync(join(dir, "outbox.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { to: string; body: string })
      .filter((m) => m.to === phone)
      .map((m) => m.body.match(/(\d{6})/)![1]!);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-e2e-"));
    const config = {
      dataDir: dir,
      logging: { level: "warn" },
      // A short resend countdown and cooldown so the resend path runs in seconds.
      login: { resendAfterSeconds: 2 },
      protection: { resendCooldownSeconds: 1 },
      clients: [
        {
          client_id: "textlock-dev",
          name: "Acme Travel",
          callbacks: ["https://acme.example/callback"],
          branding: {
            primary_color: "#0b7a4b",
            page_background: "#eef6f1",
            logo_url:
              "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='120' height='40'%3E%3Crect width='120' height='40' rx='8' fill='%230b7a4b'/%3E%3C/svg%3E",
          },
        },
      ],
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    ({ url, child } = await spawnServe(join(dir, "config.json"), ["--demo"]));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    child?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("phone entry → wrong code → resend → right code → the demo app's profile page", async () => {
    const context = await browser.newContext({ ...MOBILE, locale: "en-US" });
    const page = await context.newPage();
    const phone = "+33612345678";

    await page.goto(`${url}/demo`);
    await page.getByRole("button", { name: "Log in with your phone" }).waitFor();
    await shot(page, "hosted-01-demo-home");

    await page.getByRole("button", { name: "Log in with your phone" }).click();
    await page.waitForURL(/\/authorize\?/);
    expect(await page.locator("h1").textContent()).toBe("Log in to textlock demo");
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    // The country list is preselected from the browser language (en-US → US).
    expect(await page.getByLabel("Country").inputValue()).toBe("US");
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "hosted-02-phone-entry");

    // A number that is not a phone number is refused on the page, in words, without leaving it.
    await page.getByLabel("Phone number").fill("12");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not valid");
    await shot(page, "hosted-03-bad-phone");

    await page.getByLabel("Country").selectOption("FR");
    await page.getByLabel("Phone number").fill("06 12 34 56 78");
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Verification code").waitFor();
    expect(await page.locator("#intro").textContent()).toContain("+33 6 12 34 56 78");
    // The resend button counts down before it can be used.
    expect(await page.locator("#resend").isDisabled()).toBe(true);
    expect(await page.locator("#resend").textContent()).toMatch(/Resend code in \d s/);
    await shot(page, "hosted-04-code-entry");
    const [first] = codes(phone);
    expect(first).toMatch(/^\d{6}$/);

    const wrong = first === "000000" ? "111111" : "000000";
    await page.getByLabel("Verification code").fill(wrong);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That code is not right");
    expect(await page.getByLabel("Verification code").getAttribute("aria-invalid")).toBe("true");
    // The code step, with its error and the countdown, passes the WCAG 2.1 AA audit too.
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "hosted-05-wrong-code");

    await expect.poll(() => page.locator("#resend").isEnabled(), { timeout: 5_000 }).toBe(true);
    await page.locator("#resend").click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("We sent a new code");
    await shot(page, "hosted-06-resent");
    const all = codes(phone);
    expect(all).toHaveLength(2);
    const second = all[1]!;

    // Only the newest code is valid: the first one is now refused (unless both happen to be equal).
    if (second !== first) {
      await page.getByLabel("Verification code").fill(first!);
      await page.getByRole("button", { name: "Log in" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("That code is not right");
    }

    await page.getByLabel("Verification code").fill(second);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/\/demo\/callback$/);
    await page.locator("#welcome").waitFor();
    expect(await page.locator('[data-field="phone"]').textContent()).toBe(phone);
    expect(await page.locator('[data-field="sub"]').textContent()).toMatch(/^sms\|[0-9a-f]{24}$/);
    const claims = JSON.parse((await page.locator("#claims").textContent())!);
    expect(claims).toMatchObject({ phone_number: phone, aud: "textlock-demo" });
    await shot(page, "hosted-07-profile");
    await context.close();
  });

  it("speaks the browser's language (French) and preselects its country", async () => {
    const context = await browser.newContext({ ...MOBILE, locale: "fr-FR" });
    const page = await context.newPage();
    await page.goto(`${url}/demo`);
    await page.getByRole("button", { name: "Log in with your phone" }).click();
    await page.waitForURL(/\/authorize\?/);
    expect(await page.locator("html").getAttribute("lang")).toBe("fr");
    expect(await page.locator("h1").textContent()).toBe("Connexion à textlock demo");
    expect(await page.getByLabel("Pays").inputValue()).toBe("FR");
    await page.getByLabel("Numéro de téléphone").fill("06 98 76 54 32");
    await page.getByRole("button", { name: "Recevoir un code" }).click();
    await page.getByLabel("Code de vérification").fill("000000");
    await page.getByRole("button", { name: "Se connecter" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Ce code n’est pas le bon");
    await shot(page, "hosted-08-french-wrong-code");
    await context.close();
  });

  it("wears the client's branding and works on a desktop viewport", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "es-ES" });
    const page = await context.newPage();
    const authorize = new URL(`${url}/authorize`);
    const params = {
      client_id: "textlock-dev",
      response_type: "code",
      redirect_uri: "https://acme.example/callback",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    };
    for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
    await page.goto(authorize.toString());
    expect(await page.locator("h1").textContent()).toBe("Iniciar sesión en Acme Travel");
    expect(await page.getByRole("button", { name: "Enviar código" }).isVisible()).toBe(true);
    // Evaluated in the page, as strings: DOM types are not part of this Node project.
    expect(await page.evaluate('getComputedStyle(document.querySelector("button[type=submit]")).backgroundColor')).toBe(
      "rgb(11, 122, 75)",
    );
    expect(await page.evaluate("getComputedStyle(document.body).backgroundColor")).toBe("rgb(238, 246, 241)");
    expect(await page.getByRole("img", { name: "Acme Travel" }).isVisible()).toBe(true);
    await shot(page, "hosted-09-spanish-desktop");
    await context.close();
  });
});
