import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";

const root = new URL("../..", import.meta.url).pathname;
/** Screenshots of every e2e step, kept as CI artifacts. */
export const SCREENSHOT_DIR = join(root, "test-results", "e2e");

/** Debian's chromium (installed by .ci/run), or `CHROMIUM_PATH`. Undefined when absent outside CI. */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return (
      execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

/** True when the e2e suite can run; in CI a missing browser is a failure, not a skip. */
export function browserAvailable(): boolean {
  if (chromiumPath()) return true;
  if (process.env.CI === "true") throw new Error("chromium is required in CI (bash .ci/run installs it)");
  return false;
}

/** Flags for a headless Chromium that only talks to loopback (no updates, sync or background calls). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath()!, headless: true, args: CHROMIUM_ARGS });
}

/** A phone-sized context (the hosted page is mobile first) unless told otherwise. */
export const MOBILE: BrowserContextOptions = {
  viewport: { width: 390, height: 780 },
  deviceScaleFactor: 1,
  hasTouch: true,
  isMobile: true,
};

/** Saves a full-page screenshot as test-results/e2e/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * A persistent Chromium profile that accepts third-party cookies, as a default desktop profile does.
 * (Fresh automation contexts are incognito-like and block them: blockedReasons "UserPreferences".)
 */
export async function launchAllowingThirdPartyCookies(
  profileDir: string,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  mkdirSync(join(profileDir, "Default"), { recursive: true });
  writeFileSync(
    join(profileDir, "Default", "Preferences"),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath()!,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/**
 * Runs the axe-core accessibility audit (WCAG 2.1 A and AA rules) in the page and returns its
 * violations. axe is added through the DevTools protocol, so the page's CSP does not stop it.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(
    'axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })',
  )) as { violations: AxeViolation[] };
  return result.violations;
}
