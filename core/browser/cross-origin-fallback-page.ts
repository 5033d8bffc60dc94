import type { ClientConfig } from "../config/schema.js";
import type { HttpResponse } from "../http/types.js";
import type { PageLanguage, Translate } from "./i18n.js";
import { esc, page, scriptJson } from "./page-shell.js";

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
    csp: {
      "frame-src": locOrigin,
      "form-action": `'self' ${o.callbackOrigin}`,
      ...(o.embedderOrigin ? { "frame-ancestors": o.embedderOrigin } : {}),
    },
  });
}
