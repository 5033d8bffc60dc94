import type { CaptchaWidget } from "../protection/bot-check.js";
import type { CaptchaProvider } from "../protection/captcha-verifier.js";
import { esc, scriptJson } from "./page-shell.js";

/** The form field each vendor's widget fills with its token (reCAPTCHA v3: the page's own hidden field). */
export const CAPTCHA_FIELDS: Readonly<Record<CaptchaProvider, string>> = {
  turnstile: "cf-turnstile-response",
  hcaptcha: "h-captcha-response",
  recaptcha_v2: "g-recaptcha-response",
  recaptcha_v3: "g-recaptcha-response",
};

/**
 * Origins the page's CSP must allow for each vendor's widget, and nothing more: the script, the
 * challenge frame, and for hCaptcha its styles and API calls (the vendors' published CSP lists).
 */
const CSP: Readonly<Record<CaptchaProvider, Record<string, string[]>>> = {
  turnstile: {
    "script-src": ["https://challenges.cloudflare.com"],
    "frame-src": ["https://challenges.cloudflare.com"],
  },
  hcaptcha: {
    "script-src": ["https://hcaptcha.com", "https://*.hcaptcha.com"],
    "frame-src": ["https://hcaptcha.com", "https://*.hcaptcha.com"],
    "style-src": ["https://hcaptcha.com", "https://*.hcaptcha.com"],
    "connect-src": ["https://hcaptcha.com", "https://*.hcaptcha.com"],
  },
  recaptcha_v2: {
    "script-src": ["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
    "frame-src": ["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
  },
  recaptcha_v3: {
    "script-src": ["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
    "frame-src": ["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
  },
};

/** What the page adds for a widget: markup inside the form, external scripts, inline code, CSP sources. */
export interface CaptchaMarkup {
  html: string;
  scripts: string[];
  inline: string;
  csp: Record<string, string[]>;
}

/** The vendor's widget for a form of the hosted page. */
export function captchaMarkup(widget: CaptchaWidget, language: string): CaptchaMarkup {
  const key = esc(widget.siteKey);
  const csp = CSP[widget.provider];
  const hl = encodeURIComponent(language);
  switch (widget.provider) {
    case "turnstile":
      return {
        html: `<div class="captcha cf-turnstile" data-sitekey="${key}" data-language="${esc(language)}"></div>`,
        scripts: ["https://challenges.cloudflare.com/turnstile/v0/api.js"],
        inline: "",
        csp,
      };
    case "hcaptcha":
      return {
        html: `<div class="captcha h-captcha" data-sitekey="${key}"></div>`,
        scripts: [`https://js.hcaptcha.com/1/api.js?hl=${hl}`],
        inline: "",
        csp,
      };
    case "recaptcha_v2":
      return {
        html: `<div class="captcha g-recaptcha" data-sitekey="${key}"></div>`,
        scripts: [`https://www.google.com/recaptcha/api.js?hl=${hl}`],
        inline: "",
        csp,
      };
    case "recaptcha_v3":
      // No visible challenge: a token for the expected action is fetched when the form is submitted.
      return {
        html: `<input type="hidden" name="${CAPTCHA_FIELDS.recaptcha_v3}" class="captcha-v3" value="">`,
        scripts: [`https://www.google.com/recaptcha/api.js?render=${encodeURIComponent(widget.siteKey)}`],
        inline: `(function(){var k=${scriptJson(widget.siteKey)},a=${scriptJson(widget.action)};
document.querySelectorAll("input.captcha-v3").forEach(function(f){var form=f.form,done=false;form.addEventListener("submit",function(e){if(done)return;e.preventDefault();
grecaptcha.ready(function(){grecaptcha.execute(k,{action:a}).then(function(t){f.value=t;done=true;form.submit();});});});});})();`,
        csp,
      };
  }
}
