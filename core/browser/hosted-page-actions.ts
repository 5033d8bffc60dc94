import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { allowedChannels } from "../engine/channels.js";
import type { RequestFacts } from "../engine/types.js";
import type { RouteContext } from "../http/handler.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { isDeliveryChannel } from "../providers/sms-provider.js";
import { authorizeFailure } from "./authorize-failure.js";
import type { AuthorizeRequest } from "./authorize-request.js";
import { CAPTCHA_FIELDS } from "./captcha-widget.js";
import { BINDING_COOKIE, parseCookies } from "./cookies.js";
import { stringFields } from "./form-fields.js";
import {
  displayPhone,
  finish,
  type PageContext,
  pageError,
  renderCodeStep,
  renderPhoneStep,
} from "./hosted-page-steps.js";
import { pageLanguage, translator } from "./i18n.js";
import { errorPage } from "./login-page.js";
import type { CodeSent } from "./transaction.js";

/**
 * `POST /sms-login`: a form of the hosted page. The sealed transaction carries the `/authorize`
 * request and, at the code step, the number; the form's `action` says what the person pressed.
 */
export async function hostedPageAction(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
  const form = stringFields(ctx.body());
  const flow = ctx.browser;
  const binding = parseCookies(req.headers.cookie)[BINDING_COOKIE];
  const tx = flow.openTransaction(form.tx, binding);
  const language = pageLanguage(tx?.params.ui_locales, req.headers["accept-language"]);
  const t = translator(language);
  if (!tx) return errorPage(language, t, { error: "invalid_request", error_description: t("error.expired") }, 400);
  let request: AuthorizeRequest;
  try {
    request = flow.parseAuthorize(tx.params);
  } catch (err) {
    return authorizeFailure(err, req, language, t);
  }
  const p: PageContext = { request, language, t, binding: binding!, setCookie: [], ctx, req };
  // The SMS goes out in the page's language unless the caller named one.
  const facts = {
    ...ctx.facts,
    xRequestLanguage: ctx.facts.xRequestLanguage ?? request.ui_locales?.split(" ")[0] ?? language,
  };

  // The bot-check widget's token, under the field name its vendor gives it.
  const captcha = Object.values(CAPTCHA_FIELDS)
    .map((name) => form[name])
    .find(Boolean);
  if (form.action === "send") return sendCode(p, facts, form.country ?? "", form.phone ?? "", captcha);
  if (!tx.codeSent) return renderPhoneStep(p);
  if (form.action === "resend") return resendCode(p, facts, tx.codeSent, captcha);
  if (form.action === "channel") return switchChannel(p, facts, tx.codeSent, form.channel, captcha);
  if (form.action === "verify") return verifyCode(p, facts, tx.codeSent, form.code ?? "");
  // "change" (another number), or anything unknown: back to the phone step.
  return renderPhoneStep(p);
}

/** Phone step: the number as typed in the chosen country, sent a code, then the code step. */
async function sendCode(
  p: PageContext,
  facts: RequestFacts,
  country: string,
  typed: string,
  captcha: string | undefined,
): Promise<HttpResponse> {
  const parsed = parsePhoneNumberFromString(typed, country as CountryCode);
  if (!parsed?.isPossible())
    return renderPhoneStep(p, {
      country,
      phone: typed,
      error: { text: p.t("error.bad_phone"), status: 400, headers: {} },
    });
  try {
    await p.ctx.browser.sendCodeFromHostedPage(p.request, parsed.number, facts, captcha);
  } catch (err) {
    return renderPhoneStep(p, { country, phone: typed, error: pageError(err, p.t) });
  }
  return renderCodeStep(p, parsed.number, Date.now());
}

/** Code step: a new code to the same number, over the same channel; the countdown restarts only when it went out. */
async function resendCode(
  p: PageContext,
  facts: RequestFacts,
  sent: CodeSent,
  captcha: string | undefined,
): Promise<HttpResponse> {
  try {
    await p.ctx.browser.sendCodeFromHostedPage(p.request, sent.phone, facts, captcha, sent.channel);
  } catch (err) {
    return renderCodeStep(p, sent.phone, sent.at, { error: pageError(err, p.t), channel: sent.channel });
  }
  return renderCodeStep(p, sent.phone, Date.now(), {
    notice: p.t("resent", { phone: displayPhone(sent.phone) }),
    channel: sent.channel,
  });
}

/**
 * Code step: "Call me instead" / "Send via WhatsApp". The live code goes out again over the chosen
 * channel (the same code: attempts already used still count); a channel the connection does not allow
 * is ignored (the page never offers it).
 */
async function switchChannel(
  p: PageContext,
  facts: RequestFacts,
  sent: CodeSent,
  channel: string | undefined,
  captcha: string | undefined,
): Promise<HttpResponse> {
  if (!isDeliveryChannel(channel) || !allowedChannels(p.request.connection).includes(channel))
    return renderCodeStep(p, sent.phone, sent.at, { channel: sent.channel });
  try {
    await p.ctx.browser.sendCodeFromHostedPage(p.request, sent.phone, facts, captcha, channel);
  } catch (err) {
    return renderCodeStep(p, sent.phone, sent.at, { error: pageError(err, p.t), channel: sent.channel });
  }
  return renderCodeStep(p, sent.phone, Date.now(), {
    notice: p.t(`sentOver.${channel}`, { phone: displayPhone(sent.phone) }),
    channel,
  });
}

/** Code step: the code as typed (spaces allowed), then the answer to the application. */
async function verifyCode(p: PageContext, facts: RequestFacts, sent: CodeSent, typed: string): Promise<HttpResponse> {
  try {
    const login = await p.ctx.browser.verifyCodeFromHostedPage(p.request, sent.phone, typed.replace(/\s+/g, ""), facts);
    return await finish(p, login);
  } catch (err) {
    return renderCodeStep(p, sent.phone, sent.at, { error: pageError(err, p.t), channel: sent.channel });
  }
}
