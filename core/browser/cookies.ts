import type { TextlockConfig } from "../config/schema.js";
import type { HttpRequest } from "../http/types.js";
import { SESSION_COOKIE } from "../sessions/login-sessions.js";

/** Ties a hosted-page transaction to the browser that started it. */
export const BINDING_COOKIE = "tl_tx";
/** Holds a `/co/authenticate` verifier for the `/authorize` that redeems its ticket. */
export const verifierCookie = (coId: string) => `tl_co_${coId}`;

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!(name in cookies)) {
      try {
        cookies[name] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        /* a malformed cookie is ignored */
      }
    }
  }
  return cookies;
}

export function isSecure(req: HttpRequest, config: TextlockConfig): boolean {
  return req.secure === true || (config.server.trustProxy !== false && req.headers["x-forwarded-proto"] === "https");
}

export function cookie(
  name: string,
  value: string,
  o: { maxAge: number; sameSite: "Lax" | "None"; secure: boolean },
): string {
  return `${name}=${value}; Path=/; Max-Age=${o.maxAge}; HttpOnly; SameSite=${o.sameSite}${o.secure || o.sameSite === "None" ? "; Secure" : ""}`;
}

/**
 * The login-session cookie. Over HTTPS it is `SameSite=None; Secure`, so the hidden iframe of silent
 * authentication (auth0-spa-js, auth0-js `checkSession`) sends it from the application's site; over
 * plain HTTP (development) browsers refuse `None` without `Secure`, so it is `Lax` (same-site apps only).
 */
export function sessionCookie(value: string, secure: boolean, maxAge: number): string {
  return cookie(SESSION_COOKIE, value, { maxAge, sameSite: secure ? "None" : "Lax", secure });
}

/** Removes the login-session cookie (with the attributes it was set with, or the browser ignores it). */
export const expiredSessionCookie = (secure: boolean) => sessionCookie("", secure, 0);

export const expiredCookie = (name: string) => `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=None; Secure`;
