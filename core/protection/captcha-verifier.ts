import type { TextlockConfig } from "../config/schema.js";

export type CaptchaProvider = NonNullable<TextlockConfig["protection"]["captcha"]["provider"]>;

/** Each vendor's server-side verify endpoint (all take a form POST of `secret`, `response`, `remoteip`). */
export const CAPTCHA_VERIFY_URLS: Readonly<Record<CaptchaProvider, string>> = {
  turnstile: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
  hcaptcha: "https://api.hcaptcha.com/siteverify",
  recaptcha_v2: "https://www.google.com/recaptcha/api/siteverify",
  recaptcha_v3: "https://www.google.com/recaptcha/api/siteverify",
};

/**
 * What the vendor said about a token: `valid`, `invalid` (refused, or a v3 score or action that does
 * not pass), or `unavailable` (no usable answer: timeout, network error, non-200, unreadable body, or
 * the vendor's own retryable `internal-error`). `reason` is for logs only.
 */
export type CaptchaVerdict = { status: "valid" | "invalid" | "unavailable"; reason?: string };

type CaptchaSettings = TextlockConfig["protection"]["captcha"];

/** Verifies one CAPTCHA token against the configured vendor's verify API. */
export async function verifyCaptcha(settings: CaptchaSettings, token: string, ip?: string): Promise<CaptchaVerdict> {
  const provider = settings.provider!;
  const form = new URLSearchParams({ secret: settings.secret!, response: token });
  if (ip) form.set("remoteip", ip);
  // hCaptcha checks that the token was issued for this site key when it is given.
  if (provider === "hcaptcha" && settings.siteKey) form.set("sitekey", settings.siteKey);
  let reply: Record<string, unknown>;
  try {
    const res = await fetch(settings.verifyUrl ?? CAPTCHA_VERIFY_URLS[provider], {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return { status: "unavailable", reason: `HTTP ${res.status}` };
    }
    const body: unknown = await res.json();
    if (typeof body !== "object" || body === null || typeof (body as { success?: unknown }).success !== "boolean")
      return { status: "unavailable", reason: "unreadable answer" };
    reply = body as Record<string, unknown>;
  } catch (err) {
    return { status: "unavailable", reason: (err as Error)?.name === "TimeoutError" ? "timeout" : "network error" };
  }
  const codes = Array.isArray(reply["error-codes"]) ? (reply["error-codes"] as unknown[]).map(String) : [];
  if (!reply.success) {
    if (codes.includes("internal-error")) return { status: "unavailable", reason: "internal-error" };
    return { status: "invalid", reason: codes.join(",") || "refused" };
  }
  if (provider === "recaptcha_v3") {
    // A v3 answer without a score is a v2 token (or another site's): not the check that was asked for.
    if (typeof reply.score !== "number" || reply.score < settings.minScore)
      return { status: "invalid", reason: `score ${String(reply.score)}` };
    if (reply.action !== settings.action) return { status: "invalid", reason: `action ${String(reply.action)}` };
  }
  return { status: "valid" };
}
