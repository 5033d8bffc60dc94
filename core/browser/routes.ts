import { randomBytes } from "node:crypto";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { Route, RouteContext } from "../http/handler.js";
import { json } from "../http/response.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { SESSION_COOKIE } from "../sessions/login-sessions.js";
import { promptsOf } from "./authorize-checks.js";
import { authorizeFailure } from "./authorize-failure.js";
import { AuthorizeRedirectError, type AuthorizeRequest } from "./authorize-request.js";
import { BINDING_COOKIE, cookie, isSecure, parseCookies, verifierCookie } from "./cookies.js";
import { deliveryStatus } from "./delivery-status.js";
import { stringFields } from "./form-fields.js";
import { hostedPageAction } from "./hosted-page-actions.js";
import { DELIVERY_PATH, finish, LOGIN_PATH, type PageContext, renderPhoneStep } from "./hosted-page-steps.js";
import { pageLanguage, translator } from "./i18n.js";
import { lockRoutes } from "./lock-routes.js";
import { logoutRoutes } from "./logout.js";
import { redeemLoginTicket } from "./redeem-login-ticket.js";
import { NO_STORE } from "./response-modes.js";

/**
 * `GET|POST /authorize`: a login ticket is redeemed; a live login session answers at once (also
 * `prompt=none`, which is `login_required` without one); otherwise the hosted page starts at the phone
 * step (prefilled from `login_hint`), in a transaction bound to this browser by a cookie.
 */
async function authorize(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
  const params = { ...req.query, ...(req.method.toUpperCase() === "POST" ? stringFields(ctx.body()) : {}) };
  const language = pageLanguage(params.ui_locales, req.headers["accept-language"]);
  const t = translator(language);
  let request: AuthorizeRequest;
  try {
    request = ctx.browser.parseAuthorize(params);
  } catch (err) {
    return authorizeFailure(err, req, language, t);
  }
  const { binding, setCookie } = browserBinding(req, ctx);
  // The language chosen here stays with the transaction, whatever later requests say.
  if (!request.params.ui_locales) request.params = { ...request.params, ui_locales: language };
  const p: PageContext = { request, language, t, binding, setCookie, ctx, req };
  try {
    if (request.login_ticket) return await redeemLoginTicket(p, params);
    const fromSession = await ctx.browser.loginFromSession(request, parseCookies(req.headers.cookie)[SESSION_COOKIE]);
    if (fromSession) return await finish(p, fromSession);
    if (promptsOf(request.prompt).has("none")) throw ctx.browser.loginRequired(request);
    const hint = request.login_hint ? parsePhoneNumberFromString(request.login_hint) : undefined;
    return renderPhoneStep(p, hint?.isValid() ? { country: hint.country ?? "", phone: hint.formatNational() } : {});
  } catch (err) {
    return authorizeFailure(isTextlockError(err) ? new AuthorizeRedirectError(request, err) : err, req, language, t);
  }
}

/** The browser's binding cookie, or a new one to set. */
function browserBinding(req: HttpRequest, ctx: RouteContext): { binding: string; setCookie: string[] } {
  const current = parseCookies(req.headers.cookie)[BINDING_COOKIE] ?? "";
  if (/^[\w-]{22,64}$/.test(current)) return { binding: current, setCookie: [] };
  const binding = randomBytes(18).toString("base64url");
  const options = {
    maxAge: ctx.textlock.config.login.transactionSeconds,
    sameSite: "Lax" as const,
    secure: isSecure(req, ctx.textlock.config),
  };
  return { binding, setCookie: [cookie(BINDING_COOKIE, binding, options)] };
}

/** Routes of the browser flow: `/authorize`, the hosted page, `/co/authenticate`, Lock's helpers, logout. */
export const browserRoutes: Route[] = [
  { method: ["GET", "POST"], path: "/authorize", handle: authorize },
  { method: "POST", path: LOGIN_PATH, handle: hostedPageAction },
  { method: "GET", path: DELIVERY_PATH, handle: deliveryStatus },
  {
    method: "POST",
    path: "/co/authenticate",
    cors: "credentials",
    async handle(req, { textlock, browser, body, facts }) {
      if (!req.headers.origin)
        throw new TextlockError("ERR_INVALID_REQUEST", {
          description: "Cross-origin authentication needs the browser's Origin header.",
        });
      const result = await browser.coAuthenticate(body(), facts);
      const maxAge = textlock.config.login.grantSeconds;
      return json(200, result, {
        ...NO_STORE,
        "set-cookie": cookie(verifierCookie(result.co_id), result.co_verifier, {
          maxAge,
          sameSite: "None",
          secure: true,
        }),
      });
    },
  },
  ...lockRoutes,
  ...logoutRoutes,
];
