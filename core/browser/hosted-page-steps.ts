import { isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { TextlockConfig } from "../config/schema.js";
import { containerOf } from "../container/internals.js";
import { DELIVERY_STORE } from "../di-tokens.js";
import { allowedChannels, defaultChannel } from "../engine/channels.js";
import { otpKey } from "../engine/steps.js";
import { isTextlockError } from "../errors/textlock-error.js";
import type { RouteContext } from "../http/handler.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import type { CaptchaWidget } from "../protection/bot-check.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import { SESSION_COOKIE } from "../sessions/login-sessions.js";
import type { AuthorizeRequest } from "./authorize-request.js";
import { isSecure, parseCookies, sessionCookie } from "./cookies.js";
import type { MessageKey, PageLanguage, Translate } from "./i18n.js";
import { loginPage } from "./login-page.js";
import type { Login } from "./login-record.js";
import { answerCallback } from "./response-modes.js";
import { webOrigin } from "./web-origin.js";

/** The hosted page's forms post here (a path relative to `/authorize`, so mounting under a prefix works). */
export const LOGIN_PATH = "/sms-login";

/** One request to the hosted page, once its `/authorize` parameters are valid. */
export interface PageContext {
  request: AuthorizeRequest;
  language: PageLanguage;
  t: Translate;
  /** The browser-binding cookie the page's transaction is sealed to. */
  binding: string;
  setCookie: string[];
  ctx: RouteContext;
  req: HttpRequest;
}

/** An error as shown on the page: the person's wording, with the engine's status and retry-after. */
export interface PageError {
  text: string;
  status: number;
  headers: Record<string, string>;
  /** The bot check refused the request: show its widget from now on. */
  captcha?: boolean;
}

/** What the person is told for an engine error on the hosted page. */
const ERROR_TEXT: Partial<Record<string, MessageKey>> = {
  ERR_BAD_PHONE: "error.bad_phone",
  ERR_MISSING_PHONE: "error.bad_phone",
  ERR_PROVIDER_BAD_PHONE: "error.bad_phone",
  ERR_PHONE_REFUSED: "error.phone_refused",
  ERR_RATE_LIMITED: "error.too_many",
  ERR_TOO_MANY_ATTEMPTS: "error.too_many",
  ERR_PHONE_LOCKED: "error.too_many",
  ERR_PROVIDER_FAILED: "error.provider",
  ERR_WRONG_CODE: "error.wrong_code",
  ERR_MAX_ATTEMPTS: "error.max_attempts",
  ERR_USER_BLOCKED: "error.blocked",
  ERR_ACCESS_DENIED: "error.denied",
  ERR_RISK_REFUSED: "error.denied",
  ERR_STORE_UNAVAILABLE: "error.unavailable",
  ERR_CAPTCHA_REQUIRED: "error.captcha_required",
  ERR_CAPTCHA_INVALID: "error.captcha_invalid",
  ERR_CAPTCHA_UNAVAILABLE: "error.unavailable",
};

export function pageError(err: unknown, t: Translate): PageError {
  if (!isTextlockError(err)) throw err;
  const key = ERROR_TEXT[err.code] ?? "error.generic";
  // A hook's deny reason was written for the person: show it after the generic text.
  const text = err.code === "ERR_ACCESS_DENIED" && err.description ? `${t(key)} ${err.description}` : t(key);
  const retry = err.headers["retry-after"];
  return {
    text,
    status: err.status,
    headers: retry ? { "retry-after": retry } : {},
    ...(err.code.startsWith("ERR_CAPTCHA_") ? { captcha: true } : {}),
  };
}

/** The country preselected on the page: the region of the browser language (fr-CA → CA), else the configured one. */
function defaultCountry(acceptLanguage: string | undefined, config: TextlockConfig): string {
  const region = /^[a-z]{2,3}-([a-z]{2})\b/i
    .exec((acceptLanguage ?? "").split(",")[0]?.trim() ?? "")?.[1]
    ?.toUpperCase();
  return region && isSupportedCountry(region) ? region : config.login.defaultCountry;
}

export const displayPhone = (phone: string) => parsePhoneNumberFromString(phone)?.formatInternational() ?? phone;

/** The widget for the page's next code request, when the bot check will ask for one. */
function captchaOf(p: PageContext, error: PageError | undefined): { captcha?: CaptchaWidget } {
  const widget = p.ctx.browser.captchaWidget(p.request.client, error?.captcha === true);
  return widget ? { captcha: widget } : {};
}

export function renderPhoneStep(
  p: PageContext,
  extra: { country?: string; phone?: string; error?: PageError } = {},
): HttpResponse {
  const { request, ctx } = p;
  return loginPage({
    language: p.language,
    t: p.t,
    client: request.client,
    tx: ctx.browser.newTransaction(request.params, p.binding),
    action: LOGIN_PATH.slice(1),
    callbackOrigin: webOrigin(request.redirect_uri),
    step: "phone",
    country: extra.country ?? defaultCountry(p.req.headers["accept-language"], ctx.textlock.config),
    ...(extra.phone ? { phone: extra.phone } : {}),
    ...captchaOf(p, extra.error),
    ...(extra.error ? { error: extra.error.text, status: extra.error.status } : {}),
    headers: { ...(extra.error?.headers ?? {}), ...(p.setCookie.length ? { "set-cookie": p.setCookie } : {}) },
  });
}

/**
 * The code step. `channel` is the one the code last went over (absent: the connection's default); the
 * page offers the connection's other channels ("Call me instead", "Send via WhatsApp").
 */
export async function renderCodeStep(
  p: PageContext,
  phone: string,
  sentAt: number,
  extra: { error?: PageError; notice?: string; channel?: DeliveryChannel | undefined } = {},
): Promise<HttpResponse> {
  const { request, ctx } = p;
  const waited = (Date.now() - sentAt) / 1000;
  const current = extra.channel ?? defaultChannel(request.connection);
  const tx = ctx.browser.newTransaction(request.params, p.binding, {
    phone,
    at: sentAt,
    ...(extra.channel ? { channel: extra.channel } : {}),
  });
  const notes = await deliveryNotes(p, phone, current);
  return loginPage({
    language: p.language,
    t: p.t,
    client: request.client,
    tx,
    action: LOGIN_PATH.slice(1),
    callbackOrigin: webOrigin(request.redirect_uri),
    step: "code",
    ...(notes.length ? { deliveryNotes: notes } : {}),
    ...(request.connection.options.escalation && ctx.textlock.config.delivery.receipts.enabled
      ? { deliveryPoll: `${DELIVERY_PATH.slice(1)}?tx=${encodeURIComponent(tx)}` }
      : {}),
    country: "",
    phone,
    phoneDisplay: displayPhone(phone),
    resendWait: ctx.textlock.config.login.resendAfterSeconds - waited,
    otherChannels: allowedChannels(request.connection).filter((c) => c !== current),
    ...(extra.error ? { error: extra.error.text, status: extra.error.status } : {}),
    ...(extra.notice ? { notice: extra.notice } : {}),
    ...captchaOf(p, extra.error),
    headers: extra.error?.headers ?? {},
  });
}

/** Answers the finished login to the application's callback. */
export async function finish(
  p: PageContext,
  login: Login,
  headers: Record<string, string | string[]> = {},
): Promise<HttpResponse> {
  let answered = login;
  const setCookie = [headers["set-cookie"] ?? []].flat();
  // A login that just happened starts the browser's login session; one answered from it continues it.
  if (!login.sid) {
    const { browser, textlock } = p.ctx;
    const previous = parseCookies(p.req.headers.cookie)[SESSION_COOKIE];
    const started = await browser.startSession(login, p.request.client.client_id, previous);
    answered = started.login;
    setCookie.push(sessionCookie(started.cookie, isSecure(p.req, textlock.config), browser.sessions.cookieMaxAge));
  }
  const values = await p.ctx.browser.complete(p.request, answered, p.ctx.issuer);
  return answerCallback(p.request, values, p.language, p.t, { ...headers, "set-cookie": setCookie });
}

/** The hosted page polls here for what delivery did on its own (escalations). */
export const DELIVERY_PATH = "/sms-login/delivery";

/**
 * "We also sent it by WhatsApp": one line per channel other than `current` the live code of `phone`
 * went over (an escalation, or an earlier switch), from the code's delivery record. Nothing when
 * delivery receipts are off (no record is kept) or the store cannot be read.
 */
export async function deliveryNotes(p: PageContext, phone: string, current: DeliveryChannel): Promise<string[]> {
  if (!p.ctx.textlock.config.delivery.receipts.enabled) return [];
  try {
    const state = await containerOf(p.ctx.textlock).resolve(DELIVERY_STORE).state(otpKey(p.request.connection, phone));
    const channels = [...new Set((state?.messages ?? []).map((m) => m.channel))].filter(
      (c): c is DeliveryChannel => c !== current && (c === "sms" || c === "voice" || c === "whatsapp"),
    );
    return channels.map((c) => p.t(`alsoSent.${c}`));
  } catch {
    return [];
  }
}
