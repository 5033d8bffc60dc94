import { randomBytes } from "node:crypto";
import { getCountries, getCountryCallingCode } from "libphonenumber-js/max";
import type { ClientConfig } from "../config/schema.js";
import type { HttpResponse } from "../http/types.js";
import type { PageLanguage, Translate } from "./i18n.js";

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A JSON literal safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026").replace(/\u2028|\u2029/g, "");
}

interface PageOptions {
  language: PageLanguage;
  title: string;
  client?: ClientConfig;
  body: string;
  script?: string;
  status?: number;
  /** Extra CSP directives (`form-action`, `frame-src`, `frame-ancestors`). */
  csp?: Record<string, string>;
  headers?: Record<string, string | string[]>;
}

const CSS = `
:root{--primary:#3949ab;--bg:#f2f4f8;--text:#1c1f26;--muted:#59606e;--danger:#b3261e;--radius:12px}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:16px;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
main{width:100%;max-width:400px;background:#fff;border-radius:var(--radius);padding:32px 24px;box-shadow:0 4px 24px rgba(0,0,0,.08)}
.logo{display:block;max-height:56px;max-width:160px;margin:0 auto 16px}
h1{font-size:1.4rem;margin:0 0 8px;text-align:center}
p{margin:0 0 16px;color:var(--muted)}
label{display:block;font-weight:600;margin:16px 0 4px}
input,select{width:100%;font:inherit;padding:12px;border:1px solid #9aa1ad;border-radius:8px;background:#fff;color:var(--text);min-height:48px}
input:focus,select:focus,button:focus{outline:3px solid var(--primary);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--danger)}
.hint{font-size:.875rem;margin:4px 0 0}
button{width:100%;margin-top:24px;min-height:48px;font:inherit;font-weight:600;border:0;border-radius:8px;background:var(--primary);color:#fff;cursor:pointer}
button[disabled]{opacity:.55;cursor:not-allowed}
button.link{background:none;color:var(--primary);margin-top:8px;text-decoration:underline}
.alert{border-radius:8px;padding:12px;margin:0 0 16px;background:#fdecea;color:var(--danger);font-weight:600}
.notice{border-radius:8px;padding:12px;margin:0 0 16px;background:#e8f0fe;color:#174ea6}
.code{letter-spacing:.3em;font-size:1.4rem;text-align:center}
.inline{margin:0}
dt{font-weight:600;margin-top:8px}dd{margin:0;overflow-wrap:anywhere}
pre{overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:12px;border-radius:8px;font-size:.8rem}
`;

/** A complete page with a strict Content-Security-Policy: inline code runs only with this page's nonce. */
export function page(o: PageOptions): HttpResponse {
  const nonce = randomBytes(16).toString("base64");
  const b = o.client?.branding;
  const vars = [b?.primary_color && `--primary:${b.primary_color}`, b?.page_background && `--bg:${b.page_background}`, b?.text_color && `--text:${b.text_color}`]
    .filter(Boolean)
    .join(";");
  const csp = {
    "default-src": "'none'",
    "style-src": `'nonce-${nonce}'`,
    "script-src": `'nonce-${nonce}'`,
    "img-src": "https: data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    ...o.csp,
  };
  const html = `<!doctype html>
<html lang="${esc(o.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(o.title)}</title>
<style nonce="${nonce}">${CSS}${vars ? `:root{${vars}}` : ""}</style>
</head>
<body>
<main>
${b?.logo_url ? `<img class="logo" src="${esc(b.logo_url)}" alt="${esc(o.client?.name)}">` : ""}
${o.body}
</main>
${o.script ? `<script nonce="${nonce}">${o.script}</script>` : ""}
</body>
</html>`;
  return {
    status: o.status ?? 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": Object.entries(csp)
        .map(([k, v]) => `${k} ${v}`)
        .join("; "),
      ...(csp["frame-ancestors"] === "'none'" ? { "x-frame-options": "DENY" } : {}),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      ...o.headers,
    },
    body: html,
  };
}

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
  status?: number;
  headers?: Record<string, string | string[]>;
}

/** The hosted SMS login page: phone entry, then code entry. Works without JavaScript. */
export function loginPage(m: LoginPageModel): HttpResponse {
  const { t } = m;
  const title = t("title", { app: m.client.name });
  const alert = m.error ? `<div class="alert" role="alert" id="error">${esc(m.error)}</div>` : "";
  const notice = m.notice ? `<div class="notice" role="status">${esc(m.notice)}</div>` : "";
  const hidden = (action: string) => `<input type="hidden" name="tx" value="${esc(m.tx)}"><input type="hidden" name="action" value="${action}">`;
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
<p class="hint" id="phone-hint">${esc(t("phoneHint"))}</p>
<button type="submit">${esc(t("send"))}</button>
</form>`;
  } else {
    const wait = Math.max(0, Math.ceil(m.resendWait ?? 0));
    body = `<h1>${esc(title)}</h1>
<p id="intro">${esc(t("codeIntro", { phone: m.phoneDisplay ?? m.phone ?? "" }))}</p>
${alert}${notice}
<form method="post" action="${esc(m.action)}" novalidate>
${hidden("verify")}
<label for="code">${esc(t("code"))}</label>
<input id="code" name="code" class="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="10" required
 aria-describedby="intro${m.error ? " error" : ""}"${m.error ? ' aria-invalid="true"' : ""} autofocus>
<button type="submit">${esc(t("verify"))}</button>
</form>
<form method="post" action="${esc(m.action)}" class="inline">
${hidden("resend")}
<button type="submit" class="link" id="resend" data-wait="${wait}" data-template="${esc(t("resendIn"))}" aria-live="polite">${esc(t("resend"))}</button>
</form>
<form method="post" action="${esc(m.action)}" class="inline">
${hidden("change")}
<button type="submit" class="link" id="change">${esc(t("changeNumber"))}</button>
</form>`;
    // Progressive enhancement: a countdown on the resend button (the server enforces its own cooldown).
    script = `(function(){var b=document.getElementById("resend");var s=+b.dataset.wait;if(!(s>0))return;var label=b.textContent;var tpl=b.dataset.template;
b.disabled=true;function tick(){if(s<=0){b.disabled=false;b.textContent=label;return;}b.textContent=tpl.replace("{seconds}",s);s--;setTimeout(tick,1000);}tick();})();`;
  }
  return page({
    language: m.language,
    title,
    client: m.client,
    body,
    script,
    status: m.status ?? 200,
    csp: { "form-action": `'self'${m.callbackOrigin ? ` ${m.callbackOrigin}` : ""}` },
    ...(m.headers ? { headers: m.headers } : {}),
  });
}

/** textlock's own error page, for requests whose callback cannot be trusted (unknown client, bad redirect_uri). */
export function errorPage(language: PageLanguage, t: Translate, error: { error: string; error_description: string }, status: number): HttpResponse {
  return page({
    language,
    title: t("errorTitle"),
    status,
    body: `<h1>${esc(t("errorTitle"))}</h1>
<div class="alert" role="alert"><code>${esc(error.error)}</code>: ${esc(error.error_description)}</div>`,
  });
}

/** `response_mode=form_post`: a form that posts the answer to the callback by itself. */
export function formPostPage(redirectUri: string, values: Record<string, string>, language: PageLanguage, t: Translate): HttpResponse {
  const origin = new URL(redirectUri).origin;
  const inputs = Object.entries(values)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join("");
  return page({
    language,
    title: t("continue"),
    body: `<form method="post" action="${esc(redirectUri)}" id="form">${inputs}<noscript><button type="submit">${esc(t("continue"))}</button></noscript></form>`,
    script: `document.getElementById("form").submit();`,
    csp: { "form-action": origin },
  });
}

/** `response_mode=web_message`: posts the answer to the opener or parent window (auth0-js checkSession, popups). */
export function webMessagePage(redirectUri: string, values: Record<string, string>, language: PageLanguage): HttpResponse {
  const origin = new URL(redirectUri).origin;
  return page({
    language,
    title: "textlock",
    body: "",
    script: `(function(){var w=window.opener||window.parent;w.postMessage({type:"authorization_response",response:${scriptJson(values)}},${scriptJson(origin)});})();`,
    csp: { "frame-ancestors": origin },
  });
}

/**
 * The cross-origin verification fallback: when the browser did not send the verifier cookie (third-party
 * cookies blocked), ask the application's `cross_origin_loc` page, in an iframe, for the verifier that
 * auth0-js kept, then post it back to `/authorize`.
 */
export function crossOriginFallbackPage(o: {
  language: PageLanguage;
  t: Translate;
  client: ClientConfig;
  crossOriginLoc: string;
  ownOrigin: string;
  coId: string;
  action: string;
  params: Record<string, string>;
  callbackOrigin: string;
  /** The application's origin when the answer is a web_message: the page then runs in its iframe. */
  embedderOrigin?: string;
}): HttpResponse {
  const locOrigin = new URL(o.crossOriginLoc).origin;
  const inputs = Object.entries(o.params)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join("");
  const frameSrc = `${o.crossOriginLoc.split("#")[0]}#origin=${encodeURIComponent(o.ownOrigin)}`;
  return page({
    language: o.language,
    title: o.t("verifying"),
    client: o.client,
    body: `<p role="status" id="status">${esc(o.t("verifying"))}</p>
<form method="post" action="${esc(o.action)}" id="form">${inputs}<input type="hidden" name="co_verifier" id="co_verifier" value=""></form>
<iframe id="co" src="${esc(frameSrc)}" title="cross-origin verification" hidden></iframe>`,
    script: `(function(){var loc=${scriptJson(locOrigin)},id=${scriptJson(o.coId)},failed=${scriptJson(o.t("verifyFailed"))};
var f=document.getElementById("co"),done=false;
window.addEventListener("message",function(e){if(e.origin!==loc||e.source!==f.contentWindow||!e.data)return;
if(e.data.type==="ready"){f.contentWindow.postMessage({type:"co_verifier_request",request:{id:id}},loc);}
else if(e.data.type==="co_verifier_response"&&!done){done=true;document.getElementById("co_verifier").value=(e.data.response&&e.data.response.verifier)||"";document.getElementById("form").submit();}});
setTimeout(function(){if(!done){done=true;document.getElementById("status").textContent=failed;}},10000);})();`,
    csp: { "frame-src": locOrigin, "form-action": `'self' ${o.callbackOrigin}`, ...(o.embedderOrigin ? { "frame-ancestors": o.embedderOrigin } : {}) },
  });
}
