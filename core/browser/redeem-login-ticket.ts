import { TextlockError } from "../errors/textlock-error.js";
import type { HttpResponse } from "../http/types.js";
import { expiredCookie, parseCookies, verifierCookie } from "./cookies.js";
import { crossOriginFallbackPage } from "./cross-origin-fallback-page.js";
import { finish, type PageContext } from "./hosted-page-steps.js";
import { webOrigin } from "./web-origin.js";

/** The origin the browser sees textlock on: the issuer's (configured, or derived with the real scheme). */
function ownOrigin(issuer: string): string {
  return new URL(issuer).origin;
}

/**
 * `/authorize` with `login_ticket` (auth0-js / Lock after `/co/authenticate`). The verifier comes from
 * the cookie `/co/authenticate` set; without it, a fallback page asks the application's
 * `cross_origin_loc` page for it and posts back here with `co_verifier`.
 */
export async function redeemLoginTicket(p: PageContext, params: Record<string, string>): Promise<HttpResponse> {
  const { request, ctx, req } = p;
  const ticket = await ctx.browser.peekTicket(request.login_ticket!, request.client.client_id);
  if (!ticket) throw new TextlockError("ERR_LOGIN_TICKET");
  const cookieName = verifierCookie(ticket.co_id);
  const verifier = params.co_verifier ?? parseCookies(req.headers.cookie)[cookieName];
  if (verifier !== undefined) {
    const login = await ctx.browser.redeemTicket(request, verifier);
    return finish(p, login, { "set-cookie": [expiredCookie(cookieName)] });
  }
  if (!request.client.cross_origin_loc) {
    throw new TextlockError("ERR_LOGIN_TICKET", {
      description:
        "Cross-origin verification failed: the browser sent no verifier cookie (third-party cookies blocked?) and the client has no cross_origin_loc page.",
    });
  }
  const { co_verifier: _drop, ...rest } = params;
  return crossOriginFallbackPage({
    language: p.language,
    t: p.t,
    client: request.client,
    crossOriginLoc: request.client.cross_origin_loc,
    ownOrigin: ownOrigin(ctx.issuer),
    coId: ticket.co_id,
    action: "authorize",
    params: rest,
    callbackOrigin: webOrigin(request.redirect_uri) ?? "'self'",
    ...(request.response_mode === "web_message" ? { embedderOrigin: webOrigin(request.redirect_uri)! } : {}),
  });
}
