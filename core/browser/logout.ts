import type { ClientConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { Route, RouteContext } from "../http/handler.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { SESSION_COOKIE } from "../sessions/login-sessions.js";
import { authorizeFailure } from "./authorize-failure.js";
import { expiredSessionCookie, isSecure, parseCookies } from "./cookies.js";
import { stringFields } from "./form-fields.js";
import { pageLanguage, translator } from "./i18n.js";
import { esc, page } from "./page-shell.js";
import { NO_STORE } from "./response-modes.js";

/** Who is logging out, as far as the request says. */
export interface EndSessionInput {
  req: HttpRequest;
  ctx: RouteContext;
  /** The client the logout names (`client_id` or the hint's `aud`). */
  client?: ClientConfig;
  /** The user of a verified `id_token_hint`. */
  sub?: string;
  /** The session of a verified `id_token_hint` (its `sid`). */
  sid?: string;
}

/**
 * Ends the browser's login session (the cookie's, and the one a verified `id_token_hint` names, so a
 * logout from a browser that lost the cookie still ends it) and answers the header that removes the
 * cookie. Both `/v2/logout` and `/oidc/logout` call it before they redirect.
 */
export async function endSession(input: EndSessionInput): Promise<Record<string, string[]>> {
  const { req, ctx } = input;
  const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  await ctx.browser.endSession(cookie, input.sid, {
    ...(input.client ? { client_id: input.client.client_id } : {}),
    ...(input.sub ? { user_id: input.sub } : {}),
  });
  return cookie === undefined ? {} : { "set-cookie": [expiredSessionCookie(isSecure(req, ctx.textlock.config))] };
}

/**
 * Whether `candidate` is one of `allowed`. Scheme and host compare case-insensitively (the URL parser
 * lower-cases them), the port and path exactly; the query and hash are ignored unless `exactQuery`.
 * Only absolute http(s) URLs ever match, so `//host`, `javascript:` and relative paths never do.
 */
export function isAllowedLogoutUrl(candidate: string, allowed: readonly string[], exactQuery = false): boolean {
  const target = parseHttpUrl(candidate);
  if (!target) return false;
  return allowed.some((entry) => {
    const url = parseHttpUrl(entry);
    return (
      url !== undefined &&
      url.protocol === target.protocol &&
      url.host === target.host &&
      url.pathname === target.pathname &&
      (!exactQuery || url.search === target.search)
    );
  });
}

function parseHttpUrl(value: string): URL | undefined {
  if (!/^https?:\/\/[^/\\]/i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

const invalid = (description: string) => new TextlockError("ERR_INVALID_REQUEST", { description });

const notAllowed = (parameter: string, url: string) =>
  invalid(`The "${parameter}" querystring parameter "${url}" is not defined as a valid URL in "Allowed Logout URLs".`);

function findClient(ctx: RouteContext, clientId: string): ClientConfig {
  const client = ctx.textlock.config.clients.find((c) => c.client_id === clientId);
  if (!client) throw invalid(`Unknown client: ${clientId}`);
  return client;
}

const redirect = (location: string, headers: Record<string, string[]>): HttpResponse => ({
  status: 302,
  headers: { location, ...NO_STORE, ...headers },
  body: "",
});

const withHeaders = (response: HttpResponse, headers: Record<string, string[]>): HttpResponse => ({
  ...response,
  headers: { ...response.headers, ...headers },
});

function loggedOutPage(req: HttpRequest, uiLocales: string | undefined, client?: ClientConfig): HttpResponse {
  const language = pageLanguage(uiLocales, req.headers["accept-language"]);
  const t = translator(language);
  return page({
    language,
    title: t("loggedOutTitle"),
    client,
    body: `<h1>${esc(t("loggedOutTitle"))}</h1>
<p>${esc(t("loggedOut"))}</p>`,
  });
}

/** Errors: textlock's error page for browsers, `{error, error_description}` JSON otherwise; never a redirect. */
function failure(err: unknown, req: HttpRequest, uiLocales: string | undefined): HttpResponse {
  const language = pageLanguage(uiLocales, req.headers["accept-language"]);
  return authorizeFailure(err, req, language, translator(language));
}

const nonEmpty = (value: string | undefined) => (value ? value : undefined);

/**
 * `GET /v2/logout` (Auth0): `returnTo` must be in the client's Allowed Logout URLs when `client_id` is
 * sent, else in the tenant's (`login.allowedLogoutUrls`); `client_id` alone goes to the client's first
 * one; nothing goes to a "logged out" page. `federated` is accepted and ignored.
 */
async function v2Logout(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
  const q = req.query;
  try {
    const clientId = nonEmpty(q.client_id);
    const client = clientId ? findClient(ctx, clientId) : undefined;
    const allowed = client ? client.allowed_logout_urls : ctx.textlock.config.login.allowedLogoutUrls;
    const returnTo = nonEmpty(q.returnTo);
    if (returnTo !== undefined && !isAllowedLogoutUrl(returnTo, allowed)) throw notAllowed("returnTo", returnTo);
    const cleared = await endSession({ req, ctx, client });
    const target = returnTo ?? (client ? client.allowed_logout_urls[0] : undefined);
    return target ? redirect(target, cleared) : withHeaders(loggedOutPage(req, undefined, client), cleared);
  } catch (err) {
    return failure(err, req, undefined);
  }
}

/**
 * `GET|POST /oidc/logout` (OIDC RP-Initiated Logout): a verified `id_token_hint`'s `aud` (or
 * `client_id`) picks the client whose Allowed Logout URLs must hold `post_logout_redirect_uri`
 * (query included); `state` comes back on the redirect.
 */
async function oidcLogout(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
  const params = { ...req.query, ...(req.method.toUpperCase() === "POST" ? stringFields(ctx.body()) : {}) };
  const uiLocales = nonEmpty(params.ui_locales);
  try {
    const hint = nonEmpty(params.id_token_hint);
    const clientId = nonEmpty(params.client_id);
    const logoutHint = nonEmpty(params.logout_hint);
    let sub: string | undefined;
    let sid: string | undefined;
    let hinted: string | undefined;
    if (hint) {
      const payload = await ctx.tokens.verifyIdTokenHint(hint, ctx.issuer);
      const aud = Array.isArray(payload?.aud) ? payload.aud[0] : payload?.aud;
      if (!payload || typeof aud !== "string") throw invalid("Invalid id_token_hint.");
      if (clientId && clientId !== aud) throw invalid("The client_id does not match the id_token_hint audience.");
      if (logoutHint && typeof payload.sid === "string" && payload.sid !== logoutHint)
        throw invalid("The logout_hint does not match the id_token_hint session.");
      sub = typeof payload.sub === "string" ? payload.sub : undefined;
      sid = typeof payload.sid === "string" ? payload.sid : undefined;
      hinted = aud;
    }
    const id = hinted ?? clientId;
    const client = id ? findClient(ctx, id) : undefined;
    const allowed = client ? client.allowed_logout_urls : ctx.textlock.config.login.allowedLogoutUrls;
    const uri = nonEmpty(params.post_logout_redirect_uri);
    if (uri !== undefined && !isAllowedLogoutUrl(uri, allowed, true)) throw notAllowed("post_logout_redirect_uri", uri);
    const cleared = await endSession({ req, ctx, client, ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) });
    const target = uri ?? (client ? client.allowed_logout_urls[0] : undefined);
    if (!target) return withHeaders(loggedOutPage(req, uiLocales, client), cleared);
    const url = new URL(target);
    if (params.state) url.searchParams.set("state", params.state);
    return redirect(url.toString(), cleared);
  } catch (err) {
    return failure(err, req, uiLocales);
  }
}

/** `/v2/logout` and `/oidc/logout`. */
export const logoutRoutes: Route[] = [
  { method: "GET", path: "/v2/logout", handle: v2Logout },
  { method: ["GET", "POST"], path: "/oidc/logout", handle: oidcLogout },
];
