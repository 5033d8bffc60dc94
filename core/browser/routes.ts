import { randomBytes } from "node:crypto";
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import { toWireError } from "../errors/to-wire-error.js";
import type { Route, RouteContext } from "../http/handler.js";
import { errorResponse, json } from "../http/response.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { AuthorizeRedirectError, type AuthorizeRequest, type AuthorizeTarget, webOrigin } from "./browser-flow.js";
import { type MessageKey, type PageLanguage, pageLanguage, type Translate, translator } from "./i18n.js";
import { crossOriginFallbackPage, errorPage, formPostPage, loginPage, webMessagePage } from "./pages.js";

/** The hosted page's forms post here (a path relative to `/authorize`, so mounting under a prefix works). */
const LOGIN_PATH = "/sms-login";
const BINDING_COOKIE = "tl_tx";
const verifierCookie = (coId: string) => `tl_co_${coId}`;

const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

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

function isSecure(req: HttpRequest, config: TextlockConfig): boolean {
  return req.secure === true || (config.server.trustProxy !== false && req.headers["x-forwarded-proto"] === "https");
}

/** The origin the browser sees textlock on: the configured issuer's, or the request's scheme and (forwarded) host. */
function ownOrigin(req: HttpRequest, config: TextlockConfig, issuer: string): string {
  if (config.issuer) return new URL(config.issuer).origin;
  return `${isSecure(req, config) ? "https" : "http"}://${new URL(issuer).host}`;
}

function cookie(name: string, value: string, o: { maxAge: number; sameSite: "Lax" | "None"; secure: boolean }): string {
  return `${name}=${value}; Path=/; Max-Age=${o.maxAge}; HttpOnly; SameSite=${o.sameSite}${o.secure || o.sameSite === "None" ? "; Secure" : ""}`;
}

const strings = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === "string"));

/** Sends the answer (values or an error) to the application's callback in the requested response mode. */
function respond(target: AuthorizeTarget, values: Record<string, string>, language: PageLanguage, t: Translate, headers: Record<string, string | string[]> = {}): HttpResponse {
  const withState = target.state && !values.state ? { ...values, state: target.state } : values;
  switch (target.response_mode) {
    case "form_post":
      return withHeaders(formPostPage(target.redirect_uri, withState, language, t), headers);
    case "web_message":
      return withHeaders(webMessagePage(target.redirect_uri, withState, language), headers);
    case "fragment": {
      const base = target.redirect_uri.split("#")[0]!;
      return { status: 302, headers: { location: `${base}#${new URLSearchParams(withState)}`, ...NO_STORE, ...headers }, body: "" };
    }
    default: {
      const url = new URL(target.redirect_uri);
      for (const [k, v] of Object.entries(withState)) url.searchParams.set(k, v);
      return { status: 302, headers: { location: url.toString(), ...NO_STORE, ...headers }, body: "" };
    }
  }
}

const withHeaders = (r: HttpResponse, headers: Record<string, string | string[]>): HttpResponse => ({ ...r, headers: { ...r.headers, ...headers } });

/** Failures of `/authorize`: to the callback when it is trusted, else textlock's error page (or JSON for non-browsers). */
function authorizeFailure(err: unknown, req: HttpRequest, language: PageLanguage, t: Translate, headers: Record<string, string | string[]> = {}): HttpResponse {
  if (err instanceof AuthorizeRedirectError) {
    const wire = toWireError(err.error).body;
    return respond(err.target, { error: wire.error, error_description: wire.error_description }, language, t, headers);
  }
  if (!(err instanceof TextlockError)) throw err;
  if ((req.headers.accept ?? "").includes("text/html")) {
    const wire = toWireError(err);
    return errorPage(language, t, wire.body, wire.status);
  }
  return errorResponse(err);
}

/** What the person is told for an engine error on the hosted page. */
const ERROR_TEXT: Partial<Record<string, MessageKey>> = {
  ERR_BAD_PHONE: "error.bad_phone",
  ERR_MISSING_PHONE: "error.bad_phone",
  ERR_PROVIDER_BAD_PHONE: "error.bad_phone",
  ERR_PHONE_REFUSED: "error.phone_refused",
  ERR_RATE_LIMITED: "error.too_many",
  ERR_TOO_MANY_ATTEMPTS: "error.too_many",
  ERR_PROVIDER_FAILED: "error.provider",
  ERR_WRONG_CODE: "error.wrong_code",
  ERR_MAX_ATTEMPTS: "error.max_attempts",
  ERR_USER_BLOCKED: "error.blocked",
  ERR_ACCESS_DENIED: "error.denied",
  ERR_STORE_UNAVAILABLE: "error.unavailable",
};

function pageError(err: unknown, t: Translate): { text: string; status: number; headers: Record<string, string> } {
  if (!(err instanceof TextlockError)) throw err;
  const key = ERROR_TEXT[err.code] ?? "error.generic";
  // A hook's deny reason was written for the person: show it after the generic text.
  const text = err.code === "ERR_ACCESS_DENIED" && err.description ? `${t(key)} ${err.description}` : t(key);
  const retry = err.headers["retry-after"];
  return { text, status: err.status, headers: retry ? { "retry-after": retry } : {} };
}

/** The country preselected on the page: the region of the browser language (fr-CA → CA), else the configured one. */
function defaultCountry(acceptLanguage: string | undefined, config: TextlockConfig): string {
  const region = /^[a-z]{2,3}-([a-z]{2})\b/i.exec((acceptLanguage ?? "").split(",")[0]?.trim() ?? "")?.[1]?.toUpperCase();
  return region && isSupportedCountry(region) ? region : config.login.defaultCountry;
}

interface PageContext {
  request: AuthorizeRequest;
  language: PageLanguage;
  t: Translate;
  binding: string;
  setCookie: string[];
  ctx: RouteContext;
  req: HttpRequest;
}

function renderPhoneStep(p: PageContext, extra: { country?: string; phone?: string; error?: { text: string; status: number; headers: Record<string, string> } } = {}) {
  const { request, ctx } = p;
  return loginPage({
    language: p.language,
    t: p.t,
    client: request.client,
    tx: ctx.textlock.browser.newTransaction(request.params, p.binding),
    action: LOGIN_PATH.slice(1),
    callbackOrigin: webOrigin(request.redirect_uri),
    step: "phone",
    country: extra.country ?? defaultCountry(p.req.headers["accept-language"], ctx.textlock.config),
    ...(extra.phone ? { phone: extra.phone } : {}),
    ...(extra.error ? { error: extra.error.text, status: extra.error.status } : {}),
    headers: { ...(extra.error?.headers ?? {}), ...(p.setCookie.length ? { "set-cookie": p.setCookie } : {}) },
  });
}

function renderCodeStep(p: PageContext, phone: string, sentAt: number, extra: { error?: { text: string; status: number; headers: Record<string, string> }; notice?: string } = {}) {
  const { request, ctx } = p;
  const sealed = ctx.textlock.browser.newTransaction(request.params, p.binding, { phone, at: sentAt });
  const waited = (Date.now() - sentAt) / 1000;
  return loginPage({
    language: p.language,
    t: p.t,
    client: request.client,
    tx: sealed,
    action: LOGIN_PATH.slice(1),
    callbackOrigin: webOrigin(request.redirect_uri),
    step: "code",
    country: "",
    phone,
    phoneDisplay: parsePhoneNumberFromString(phone)?.formatInternational() ?? phone,
    resendWait: ctx.textlock.config.login.resendAfterSeconds - waited,
    ...(extra.error ? { error: extra.error.text, status: extra.error.status } : {}),
    ...(extra.notice ? { notice: extra.notice } : {}),
    headers: extra.error?.headers ?? {},
  });
}

async function finish(p: PageContext, login: Parameters<RouteContext["textlock"]["browser"]["complete"]>[1], headers: Record<string, string | string[]> = {}) {
  const values = await p.ctx.textlock.browser.complete(p.request, login, p.ctx.issuer);
  return respond(p.request, values, p.language, p.t, headers);
}

/** Redeems `login_ticket` (auth0-js / Lock after `/co/authenticate`): cookie first, then the fallback page. */
async function redeemTicket(p: PageContext, params: Record<string, string>): Promise<HttpResponse> {
  const { request, ctx, req } = p;
  const flow = ctx.textlock.browser;
  const ticket = await flow.peekTicket(request.login_ticket!, request.client.client_id);
  if (!ticket) throw new TextlockError("ERR_LOGIN_TICKET");
  const name = verifierCookie(ticket.co_id);
  const verifier = params.co_verifier ?? parseCookies(req.headers.cookie)[name];
  if (verifier === undefined) {
    if (!request.client.cross_origin_loc) {
      throw new TextlockError("ERR_LOGIN_TICKET", {
        description: "Cross-origin verification failed: the browser sent no verifier cookie (third-party cookies blocked?) and the client has no cross_origin_loc page.",
      });
    }
    const { co_verifier: _drop, ...rest } = params;
    return crossOriginFallbackPage({
      language: p.language,
      t: p.t,
      client: request.client,
      crossOriginLoc: request.client.cross_origin_loc,
      ownOrigin: ownOrigin(req, ctx.textlock.config, ctx.issuer),
      coId: ticket.co_id,
      action: "authorize",
      params: rest,
      callbackOrigin: webOrigin(request.redirect_uri) ?? "'self'",
      ...(request.response_mode === "web_message" ? { embedderOrigin: webOrigin(request.redirect_uri)! } : {}),
    });
  }
  const login = await flow.redeemTicket(request, verifier);
  return finish(p, login, { "set-cookie": [`${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=None; Secure`] });
}

/** Routes of the browser flow: `/authorize`, the hosted page, `/co/authenticate`, Lock's helpers. */
export const browserRoutes: Route[] = [
  {
    method: ["GET", "POST"],
    path: "/authorize",
    async handle(req, ctx) {
      const params = { ...req.query, ...(req.method.toUpperCase() === "POST" ? strings(ctx.body()) : {}) };
      const language = pageLanguage(params.ui_locales, req.headers["accept-language"]);
      const t = translator(language);
      let request: AuthorizeRequest;
      try {
        request = ctx.textlock.browser.parseAuthorize(params);
      } catch (err) {
        return authorizeFailure(err, req, language, t);
      }
      const cookies = parseCookies(req.headers.cookie);
      const secure = isSecure(req, ctx.textlock.config);
      const binding = /^[\w-]{22,64}$/.test(cookies[BINDING_COOKIE] ?? "") ? cookies[BINDING_COOKIE]! : randomBytes(18).toString("base64url");
      const setCookie = binding === cookies[BINDING_COOKIE] ? [] : [cookie(BINDING_COOKIE, binding, { maxAge: ctx.textlock.config.login.transactionSeconds, sameSite: "Lax", secure })];
      // The language chosen here stays with the transaction, whatever later requests say.
      if (!request.params.ui_locales) request.params = { ...request.params, ui_locales: language };
      const p: PageContext = { request, language, t, binding, setCookie, ctx, req };
      try {
        if (request.login_ticket) return await redeemTicket(p, params);
        const hint = request.login_hint ? parsePhoneNumberFromString(request.login_hint) : undefined;
        return renderPhoneStep(p, hint?.isValid() ? { country: hint.country ?? "", phone: hint.formatNational() } : {});
      } catch (err) {
        return authorizeFailure(err instanceof TextlockError ? new AuthorizeRedirectError(request, err) : err, req, language, t);
      }
    },
  },
  {
    method: "POST",
    path: LOGIN_PATH,
    async handle(req, ctx) {
      const body = strings(ctx.body());
      const flow = ctx.textlock.browser;
      const cookies = parseCookies(req.headers.cookie);
      const tx = flow.openTransaction(body.tx, cookies[BINDING_COOKIE]);
      const language = pageLanguage(tx?.q.ui_locales, req.headers["accept-language"]);
      const t = translator(language);
      if (!tx) return errorPage(language, t, { error: "invalid_request", error_description: t("error.expired") }, 400);
      let request: AuthorizeRequest;
      try {
        request = flow.parseAuthorize(tx.q);
      } catch (err) {
        return authorizeFailure(err, req, language, t);
      }
      const p: PageContext = { request, language, t, binding: cookies[BINDING_COOKIE]!, setCookie: [], ctx, req };
      const facts = { ...ctx.facts, xRequestLanguage: ctx.facts.xRequestLanguage ?? request.ui_locales?.split(" ")[0] ?? language };
      const phone = tx.ph;
      const sentAt = tx.t ?? 0;

      if (body.action === "send") {
        const parsed = parsePhoneNumberFromString(body.phone ?? "", (body.country ?? "") as CountryCode);
        if (!parsed?.isPossible()) {
          return renderPhoneStep(p, { country: body.country ?? "", phone: body.phone ?? "", error: { text: t("error.bad_phone"), status: 400, headers: {} } });
        }
        try {
          await flow.sendCodeFromHostedPage(request, parsed.number, facts);
        } catch (err) {
          return renderPhoneStep(p, { country: body.country ?? "", phone: body.phone ?? "", error: pageError(err, t) });
        }
        return renderCodeStep(p, parsed.number, Date.now());
      }
      if (!phone) return renderPhoneStep(p);
      if (body.action === "resend") {
        try {
          await flow.sendCodeFromHostedPage(request, phone, facts);
        } catch (err) {
          return renderCodeStep(p, phone, sentAt, { error: pageError(err, t) });
        }
        return renderCodeStep(p, phone, Date.now(), { notice: t("resent", { phone: parsePhoneNumberFromString(phone)?.formatInternational() ?? phone }) });
      }
      if (body.action === "verify") {
        try {
          const result = await flow.verifyCodeFromHostedPage(request, phone, (body.code ?? "").replace(/\s+/g, ""), facts);
          return await finish(p, result);
        } catch (err) {
          return renderCodeStep(p, phone, sentAt, { error: pageError(err, t) });
        }
      }
      return renderPhoneStep(p);
    },
  },
  {
    method: "POST",
    path: "/co/authenticate",
    cors: "credentials",
    async handle(req, { textlock, body, facts }) {
      if (!req.headers.origin) throw new TextlockError("ERR_INVALID_REQUEST", { description: "Cross-origin authentication needs the browser's Origin header." });
      const result = await textlock.browser.coAuthenticate(body(), facts);
      const maxAge = textlock.config.login.grantSeconds;
      return json(200, result, { ...NO_STORE, "set-cookie": cookie(verifierCookie(result.co_id), result.co_verifier, { maxAge, sameSite: "None", secure: true }) });
    },
  },
  {
    // Lock loads this as a script before it renders: the client and its passwordless connections.
    method: "GET",
    path: /^\/client\/[\w.-]+\.js$/,
    handle(req, { textlock, issuer }) {
      const id = req.path.slice("/client/".length, -".js".length);
      const client = textlock.config.clients.find((c) => c.client_id === id);
      if (!client) throw new TextlockError("ERR_NOT_FOUND");
      const connections = textlock.config.connections.filter((c) => c.enabled_clients.includes(id)).map((c) => ({ name: c.name }));
      const setting = {
        id,
        tenant: new URL(issuer).hostname,
        subscription: "free",
        authorize: `${issuer}authorize`,
        callback: client.callbacks[0] ?? "",
        hasAllowedOrigins: client.allowed_origins.length > 0,
        strategies: connections.length ? [{ name: "sms", connections }] : [],
      };
      return {
        status: 200,
        headers: { "content-type": "application/javascript; charset=utf-8", "cache-control": "no-cache", "x-content-type-options": "nosniff" },
        body: `Auth0.setClient(${JSON.stringify(setting)});`,
      };
    },
  },
  {
    // Lock preselects the dialling code from this. textlock does no IP geolocation: it answers the configured default.
    method: "GET",
    path: "/user/geoloc/country",
    cors: true,
    handle: (_req, { textlock }) => json(200, { country_code: textlock.config.login.defaultCountry }, { "cache-control": "no-store" }),
  },
];
