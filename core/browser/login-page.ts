import { getCountries, getCountryCallingCode } from "libphonenumber-js/max";
import type { ClientConfig } from "../config/schema.js";
import type { HttpResponse } from "../http/types.js";
import type { CaptchaWidget } from "../protection/bot-check.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import { captchaMarkup } from "./captcha-widget.js";
import type { MessageKey, PageLanguage, Translate } from "./i18n.js";

/** The button that asks for the code over a channel. */
const CHANNEL_BUTTON: Record<DeliveryChannel, MessageKey> = {
  voice: "callInstead",
  whatsapp: "whatsappInstead",
  sms: "smsInstead",
};

import { esc, page } from "./page-shell.js";

const countryCache = new Map<string, Array<{ code: string; label: string }>>();

/** Every country libphonenumber knows, named in the page language and sorted by that name. */
export function countryOptions(language: string): Array<{ code: string; label: string }> {
  let list = countryCache.get(language);
  if (!list) {
    const names = new Intl.DisplayNames([language], { type: "region" });
    const collator = new Intl.Collator(language);
    list = getCountries()
      .map((code) => ({ code, name: names.of(code) ?? code, dial: getCountryCallingCode(code) }))
      .sort((a, b) => collator.compare(a.name, b.name))
      .map((c) => ({ code: c.code, label: `${c.name} (+${c.dial})` }));
    countryCache.set(language, list);
  }
  return list;
}

export interface LoginPageModel {
  language: PageLanguage;
  t: Translate;
  client: ClientConfig;
  tx: string;
  /** Where the page's forms post. */
  action: string;
  /** Origin the forms may end up at after the login (the application's callback). */
  callbackOrigin?: string;
  step: "phone" | "code";
  country: string;
  phone?: string;
  /** The number as shown to the person (code step). */
  phoneDisplay?: string;
  error?: string;
  notice?: string;
  /** Seconds until resend is offered (code step). */
  resendWait?: number;
  /**
   * What delivery did on its own (code step): "We also sent it by WhatsApp" for each channel an
   * escalation (or an earlier switch) sent the code over. `deliveryPoll` is the URL the page polls
   * for updates (JSON `{notes}`), when the connection escalates.
   */
  deliveryNotes?: string[];
  deliveryPoll?: string;
  /** Channels offered instead of the one the code went over, once the resend countdown is over (code step). */
  otherChannels?: DeliveryChannel[];
  status?: number;
  headers?: Record<string, string | string[]>;
  /**
   * The bot-check widget, when the next code request must carry a CAPTCHA (policy `always`, or
   * `adaptive` once a start was refused for lack of one). Without it the page loads no third-party code.
   */
  captcha?: CaptchaWidget;
}

/** The hosted SMS login page: phone entry, then code entry. Works without JavaScript. */
export function loginPage(m: LoginPageModel): HttpResponse {
  const { t } = m;
  const title = t("title", { app: m.client.name });
  const alert = m.error ? `<div class="alert" role="alert" id="error">${esc(m.error)}</div>` : "";
  const notice = m.notice ? `<div class="notice" role="status">${esc(m.notice)}</div>` : "";
  const hidden = (action: string) =>
    `<input type="hidden" name="tx" value="${esc(m.tx)}"><input type="hidden" name="action" value="${action}">`;
  const widget = m.captcha ? captchaMarkup(m.captcha, m.language) : undefined;
  const captchaHtml = widget ? `\n${widget.html}` : "";
  let body: string;
  let script = "";
  if (m.step === "phone") {
    const options = countryOptions(m.language)
      .map((c) => `<option value="${c.code}"${c.code === m.country ? " selected" : ""}>${esc(c.label)}</option>`)
      .join("");
    body = `<h1>${esc(title)}</h1>
<p id="intro">${esc(t("phoneIntro"))}</p>
${alert}
<form method="post" action="${esc(m.action)}" novalidate>
${hidden("send")}
<label for="country">${esc(t("country"))}</label>
<select id="country" name="country" autocomplete="country">${options}</select>
<label for="phone">${esc(t("phone"))}</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel-national" required value="${esc(m.phone ?? "")}"
 aria-describedby="phone-hint${m.error ? " error" : ""}"${m.error ? ' aria-invalid="true" autofocus' : " autofocus"}>
<p class="hint" id="phone-hint">${esc(t("phoneHint"))}</p>${captchaHtml}
<button type="submit">${esc(t("send"))}</button>
</form>`;
  } else {
    const wait = Math.max(0, Math.ceil(m.resendWait ?? 0));
    body = `<h1>${esc(title)}</h1>
<p id="intro">${esc(t("codeIntro", { phone: m.phoneDisplay ?? m.phone ?? "" }))}</p>
${alert}${notice}${deliveryBox(m)}
<form method="post" action="${esc(m.action)}" novalidate>
${hidden("verify")}
<label for="code">${esc(t("code"))}</label>
<input id="code" name="code" class="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="10" required
 aria-describedby="intro${m.error ? " error" : ""}"${m.error ? ' aria-invalid="true"' : ""} autofocus>
<button type="submit">${esc(t("verify"))}</button>
</form>
<form method="post" action="${esc(m.action)}" class="inline">
${hidden("resend")}${captchaHtml}
<button type="submit" class="link" id="resend" data-wait="${wait}" data-template="${esc(t("resendIn"))}" aria-live="polite">${esc(t("resend"))}</button>
</form>
${(m.otherChannels ?? [])
  .map(
    (c) => `<form method="post" action="${esc(m.action)}" class="inline channel">
${hidden("channel")}<input type="hidden" name="channel" value="${c}">${captchaHtml}
<button type="submit" class="link" id="channel-${c}" data-wait="${wait}">${esc(t(CHANNEL_BUTTON[c]))}</button>
</form>
`,
  )
  .join("")}<form method="post" action="${esc(m.action)}" class="inline">
${hidden("change")}
<button type="submit" class="link" id="change">${esc(t("changeNumber"))}</button>
</form>`;
    // Progressive enhancement: a countdown on the resend button (the server enforces its own cooldown);
    // the other channels appear when it ends; WebOTP fills in and submits the code from the SMS's
    // origin-bound line where the browser supports it. Without JavaScript every button shows at once
    // and the code is typed.
    script = `(function(){var b=document.getElementById("resend");var s=+b.dataset.wait;var alt=document.querySelectorAll("form.channel");
if(s>0){var label=b.textContent;var tpl=b.dataset.template;b.disabled=true;alt.forEach(function(f){f.hidden=true;});
(function tick(){if(s<=0){b.disabled=false;b.textContent=label;alt.forEach(function(f){f.hidden=false;});return;}b.textContent=tpl.replace("{seconds}",s);s--;setTimeout(tick,1000);})();}
if("OTPCredential" in window&&navigator.credentials){var i=document.getElementById("code");var f=i.form;var ac=new AbortController();f.addEventListener("submit",function(){ac.abort();});
navigator.credentials.get({otp:{transport:["sms"]},signal:ac.signal}).then(function(o){if(o&&o.code&&!i.value){i.value=o.code;if(f.requestSubmit)f.requestSubmit();else f.submit();}}).catch(function(){});}
var d=document.getElementById("delivery");if(d&&d.dataset.poll&&window.fetch){var n=0;(function poll(){if(++n>60)return;fetch(d.dataset.poll,{credentials:"same-origin"}).then(function(r){return r.ok?r.json():null;}).then(function(j){if(j&&j.notes&&j.notes.length){d.replaceChildren.apply(d,j.notes.map(function(t){var p=document.createElement("p");p.textContent=t;return p;}));d.hidden=false;}}).catch(function(){}).then(function(){setTimeout(poll,3000);});})();}})();`;
  }
  return page({
    language: m.language,
    title,
    client: m.client,
    body,
    script: widget?.inline ? `${script}\n${widget.inline}` : script,
    ...(widget ? { scripts: widget.scripts, cspSources: widget.csp } : {}),
    status: m.status ?? 200,
    csp: {
      "form-action": `'self'${m.callbackOrigin ? ` ${m.callbackOrigin}` : ""}`,
      // The delivery box polls textlock itself, and only when the connection escalates.
      ...(m.deliveryPoll ? { "connect-src": "'self'" } : {}),
    },
    ...(m.headers ? { headers: m.headers } : {}),
  });
}

/** The box that says what delivery did on its own ("We also sent it by WhatsApp"), when there is or may be something to say. */
function deliveryBox(m: LoginPageModel): string {
  if (!m.deliveryNotes?.length && !m.deliveryPoll) return "";
  const poll = m.deliveryPoll ? ` data-poll="${esc(m.deliveryPoll)}"` : "";
  const notes = (m.deliveryNotes ?? []).map((n) => `<p>${esc(n)}</p>`).join("");
  return `<div id="delivery" class="notice" role="status" aria-live="polite"${notes ? "" : " hidden"}${poll}>${notes}</div>`;
}

/** textlock's own error page, for requests whose callback cannot be trusted (unknown client, bad redirect_uri). */
export function errorPage(
  language: PageLanguage,
  t: Translate,
  error: { error: string; error_description: string },
  status: number,
): HttpResponse {
  return page({
    language,
    title: t("errorTitle"),
    status,
    body: `<h1>${esc(t("errorTitle"))}</h1>
<div class="alert" role="alert"><code>${esc(error.error)}</code>: ${esc(error.error_description)}</div>`,
  });
}
