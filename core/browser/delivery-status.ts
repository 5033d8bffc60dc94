import { defaultChannel } from "../engine/channels.js";
import type { RouteContext } from "../http/handler.js";
import { json } from "../http/response.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import type { AuthorizeRequest } from "./authorize-request.js";
import { BINDING_COOKIE, parseCookies } from "./cookies.js";
import { deliveryNotes, type PageContext } from "./hosted-page-steps.js";
import { pageLanguage, translator } from "./i18n.js";

/**
 * `GET /sms-login/delivery?tx=…`: what delivery did on its own since the code step was shown (the
 * page's script polls it to say "We also sent it by WhatsApp" when an escalation happens). Only for
 * the browser holding the transaction (its binding cookie); answers `{notes: [...]}`, never the code.
 */
export async function deliveryStatus(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
  const headers = { "cache-control": "no-store" };
  const binding = parseCookies(req.headers.cookie)[BINDING_COOKIE];
  const tx = ctx.browser.openTransaction(req.query.tx, binding);
  if (!tx?.codeSent || !binding) return json(404, { error: "not_found", error_description: "Not found" }, headers);
  let request: AuthorizeRequest;
  try {
    request = ctx.browser.parseAuthorize(tx.params);
  } catch {
    return json(404, { error: "not_found", error_description: "Not found" }, headers);
  }
  const language = pageLanguage(tx.params.ui_locales, req.headers["accept-language"]);
  const p: PageContext = { request, language, t: translator(language), binding, setCookie: [], ctx, req };
  const current = tx.codeSent.channel ?? defaultChannel(request.connection);
  return json(200, { notes: await deliveryNotes(p, tx.codeSent.phone, current) }, headers);
}
