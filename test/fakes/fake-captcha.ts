import { randomBytes } from "node:crypto";
import { type FakeServer, startFakeServer } from "./fake-server.js";

export type FakeCaptchaVendor = "turnstile" | "hcaptcha" | "recaptcha";

/** The verify path each vendor serves (textlock is given the full URL). */
const PATHS: Record<FakeCaptchaVendor, string> = {
  turnstile: "/turnstile/v0/siteverify",
  hcaptcha: "/siteverify",
  recaptcha: "/recaptcha/api/siteverify",
};

export interface FakeCaptcha extends FakeServer {
  /** The full verify URL to configure as `protection.captcha.verifyUrl`. */
  verifyUrl: string;
  /** Mints a token the fake will accept once, as the widget would after a solved challenge. */
  issue(claims?: { score?: number; action?: string; siteKey?: string }): string;
}

/**
 * A loopback CAPTCHA verify API in the shape of one vendor: form POST `secret`, `response`,
 * `remoteip` (Turnstile also JSON; hCaptcha also `sitekey`), answers `{success, error-codes, …}` with
 * each vendor's error codes; every token is single use. reCAPTCHA tokens minted with a `score`
 * answer as v3 (`score`, `action`). Fault knobs come from {@link startFakeServer}.
 */
export async function startFakeCaptcha(
  vendor: FakeCaptchaVendor,
  { secret, siteKey }: { secret: string; siteKey: string },
): Promise<FakeCaptcha> {
  const tokens = new Map<string, { score?: number; action?: string; siteKey: string }>();
  const spent = new Set<string>();
  const reused = vendor === "hcaptcha" ? "invalid-or-already-seen-response" : "timeout-or-duplicate";
  const fail = (...codes: string[]) => ({ status: 200, body: { success: false, "error-codes": codes } });
  const server = await startFakeServer((req) => {
    if (req.method !== "POST" || req.path !== PATHS[vendor]) return { status: 404, body: { error: "not found" } };
    const json = String(req.headers["content-type"] ?? "").includes("json");
    if (json && vendor !== "turnstile") return fail("bad-request");
    const f = req.fields as Record<string, string | undefined>;
    if (!f.secret) return fail("missing-input-secret");
    if (f.secret !== secret) return fail("invalid-input-secret");
    if (!f.response) return fail("missing-input-response");
    if (spent.has(f.response)) return fail(reused);
    const token = tokens.get(f.response);
    if (!token) return fail("invalid-input-response");
    spent.add(f.response);
    tokens.delete(f.response);
    if (vendor === "hcaptcha" && f.sitekey && f.sitekey !== token.siteKey) return fail("sitekey-secret-mismatch");
    const body: Record<string, unknown> = {
      success: true,
      challenge_ts: new Date().toISOString(),
      hostname: "127.0.0.1",
      "error-codes": [],
    };
    if (vendor === "turnstile") Object.assign(body, { action: token.action ?? "", cdata: "" });
    if (vendor === "hcaptcha") body.credit = false;
    if (vendor === "recaptcha" && token.score !== undefined)
      Object.assign(body, { score: token.score, action: token.action ?? "" });
    return { status: 200, body };
  });
  return Object.assign(server, {
    verifyUrl: `${server.url}${PATHS[vendor]}`,
    issue(claims: { score?: number; action?: string; siteKey?: string } = {}) {
      const token = `${vendor}.${randomBytes(24).toString("base64url")}`;
      tokens.set(token, { ...claims, siteKey: claims.siteKey ?? siteKey });
      return token;
    },
  });
}
