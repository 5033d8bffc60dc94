import { TextlockError } from "../errors/textlock-error.js";
import type { HttpResponse } from "../http/types.js";
import type { AuthorizeTarget, ResponseMode } from "./authorize-request.js";
import type { PageLanguage, Translate } from "./i18n.js";
import { esc, page, scriptJson } from "./page-shell.js";

const RESPONSE_MODES = new Set<string>(["query", "fragment", "form_post", "web_message"] satisfies ResponseMode[]);
/** Answers that carry codes or tokens must never be cached. */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

const isResponseMode = (value: string | undefined): value is ResponseMode =>
  value !== undefined && RESPONSE_MODES.has(value);

/** The mode asked for, else OAuth's default: query for a code, fragment when tokens are in the answer. */
export function responseModeOf(params: Record<string, string>): ResponseMode {
  if (isResponseMode(params.response_mode)) return params.response_mode;
  const types = (params.response_type ?? "").split(" ").filter(Boolean);
  return types.some((t) => t !== "code") ? "fragment" : "query";
}

/** An unknown `response_mode` is refused rather than silently replaced by the default. */
export function checkResponseModeSupported(mode: string | undefined): void {
  if (mode && !isResponseMode(mode))
    throw new TextlockError("ERR_INVALID_REQUEST", { description: `Unsupported response_mode: ${mode}` });
}

/** Sends the answer (values or an error) to the application's callback in the requested response mode. */
export function answerCallback(
  target: AuthorizeTarget,
  values: Record<string, string>,
  language: PageLanguage,
  t: Translate,
  headers: Record<string, string | string[]> = {},
): HttpResponse {
  const withState = target.state && !values.state ? { ...values, state: target.state } : values;
  switch (target.response_mode) {
    case "form_post":
      return withHeaders(formPostPage(target.redirect_uri, withState, language, t), headers);
    case "web_message":
      return withHeaders(webMessagePage(target.redirect_uri, withState, language), headers);
    case "fragment": {
      const base = target.redirect_uri.split("#")[0]!;
      return redirect(`${base}#${new URLSearchParams(withState)}`, headers);
    }
    default: {
      const url = new URL(target.redirect_uri);
      for (const [k, v] of Object.entries(withState)) url.searchParams.set(k, v);
      return redirect(url.toString(), headers);
    }
  }
}

const redirect = (location: string, headers: Record<string, string | string[]>): HttpResponse => ({
  status: 302,
  headers: { location, ...NO_STORE, ...headers },
  body: "",
});

const withHeaders = (r: HttpResponse, headers: Record<string, string | string[]>): HttpResponse => ({
  ...r,
  headers: { ...r.headers, ...headers },
});

/** `response_mode=form_post`: a form that posts the answer to the callback by itself. */
function formPostPage(
  redirectUri: string,
  values: Record<string, string>,
  language: PageLanguage,
  t: Translate,
): HttpResponse {
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
function webMessagePage(redirectUri: string, values: Record<string, string>, language: PageLanguage): HttpResponse {
  const origin = new URL(redirectUri).origin;
  return page({
    language,
    title: "textlock",
    body: "",
    script: `(function(){var w=window.opener||window.parent;w.postMessage({type:"authorization_response",response:${scriptJson(values)}},${scriptJson(origin)});})();`,
    csp: { "frame-ancestors": origin },
  });
}
